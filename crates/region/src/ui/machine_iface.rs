//! More interface edits on the machine page (admins): an interface's
//! name, MTU and tags (as `nodes/<id>/interfaces/<id>/` PUT), a physical
//! interface added by hand (as `op=create_physical`), a bridge on
//! an interface (`interfaces::create` with the bridge kind, as
//! `op=create_bridge`) and the machine's default gateway (as
//! `op=set_default_gateway`). The services' rules and messages; refusals
//! beside the form's fields.

use axum::extract::{Path, State};
use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::services::interfaces::links;
use crate::services::interfaces::{self, IfaceSpec, Kind};
use crate::ui::Ui;
use crate::ui::error::PageResult;
use crate::ui::fields::Field;
use crate::ui::kit::FormBlock;
use crate::ui::machine::{Refusal, refused};
use crate::ui::machine_net::{done, id_of};
use crate::ui::session::Posted;

/// The forms: settings, bridge, default gateway (`names`: every interface,
/// `parents`: the ones a bridge may sit on; (id, name) pairs).
pub fn forms(
    sid: &str,
    names: &[(String, String)],
    parents: &[(String, String)],
    vlans: &[(String, String)],
) -> Vec<FormBlock> {
    let mut vlan_opts = vec![
        (String::new(), "(unchanged)".to_string()),
        ("none".to_string(), "(disconnected)".to_string()),
    ];
    vlan_opts.extend(vlans.iter().cloned());
    let yes_no = |name: &str, label: &str| {
        Field::select(name, label, "", &[])
            .choices(vec![
                (String::new(), "(unchanged)".into()),
                ("true".into(), "Yes".into()),
                ("false".into(), "No".into()),
            ])
            .id(&format!("iface_{name}"))
    };
    let mut settings = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/interface"),
        "Save interface",
        vec![
            Field::select("iface", "Interface", "", &[])
                .choices(names.to_vec())
                .id("settings_iface"),
            Field::text("name", "New name (empty: unchanged)", "").id("iface_name"),
            Field::text("mtu", "MTU (empty: unchanged)", "").id("iface_mtu"),
            Field::text("tags", "Tags, comma-separated (empty: unchanged)", "").id("iface_tags"),
            Field::text("clear_mtu", "Clear the MTU (the VLAN's applies)", "")
                .kind("checkbox")
                .id("iface_clear_mtu"),
            Field::text("clear_tags", "Clear the tags", "")
                .kind("checkbox")
                .id("iface_clear_tags"),
            Field::select("vlan", "Fabric / VLAN", "", &[])
                .choices(vlan_opts)
                .id("iface_vlan"),
            Field::text("mac_address", "MAC address (empty: unchanged)", "").id("iface_mac"),
            yes_no("enabled", "Enabled"),
            yes_no("accept_ra", "Accept router advertisements"),
            yes_no("link_connected", "Link connected"),
            Field::text("link_speed", "Link speed (Mbit/s; empty: unchanged)", "")
                .id("iface_link_speed"),
            Field::text(
                "interface_speed",
                "Interface speed (Mbit/s; empty: unchanged)",
                "",
            )
            .id("iface_interface_speed"),
        ],
    );
    settings.id = "iface-form".into();
    settings.heading = "Interface settings".into();
    let mut bridge = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/bridge"),
        "Add bridge",
        vec![
            Field::text("name", "Name", "br0")
                .id("bridge_name")
                .required(),
            Field::select("parent", "On interface", "", &[])
                .choices(parents.to_vec())
                .id("bridge_parent"),
        ]
        .into_iter()
        .chain(crate::ui::iface_params::bridge_fields("default", "bridge_"))
        .collect(),
    );
    bridge.id = "bridge-form".into();
    bridge.heading = "Add a bridge".into();
    let mut gw = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/gateway"),
        "Set default gateway",
        vec![
            Field::select(
                "iface",
                "Interface whose subnet's gateway is the default",
                "",
                &[],
            )
            .choices(names.to_vec())
            .id("gw_iface"),
        ],
    );
    gw.id = "gateway-form".into();
    gw.heading = "Default gateway".into();
    let mut physical = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/physical"),
        "Add interface",
        vec![
            Field::text("mac_address", "MAC address", "")
                .id("physical_mac")
                .required(),
            Field::text("name", "Name (blank: the next ethN)", "").id("physical_name"),
        ],
    );
    physical.id = "physical-form".into();
    physical.heading = "Add a physical interface".into();
    vec![settings, physical, bridge, gw]
}

/// The posted `mac_address`, normalised, or its error in `errs`.
fn mac_of(f: &crate::ui::form::FormData, errs: &mut FieldErrors) -> Option<String> {
    let m = f.text("mac_address")?;
    let n = maas_model::ids::normalize_mac(&m);
    if n.is_none() {
        errs.insert(
            "mac_address".into(),
            vec![format!("'{m}' is not a valid MAC address.")],
        );
    }
    n
}

/// POST `…/physical`: a physical interface by its MAC (as
/// `op=create_physical`).
pub async fn add_physical(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("physical-form");
    let f = &p.form;
    let mut errs = FieldErrors::new();
    let mac = mac_of(f, &mut errs);
    let spec = IfaceSpec {
        name: f.text("name"),
        mac,
        ..Default::default()
    };
    match interfaces::create(&ui, &p.viewer.user, &sid, Kind::Physical, spec, errs).await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/interface`: name, MTU, tags of the chosen interface.
pub async fn settings(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("iface-form").alias("id", "iface");
    let id = match id_of(&p, "iface") {
        Ok(i) => i,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    let f = &p.form;
    let mut errs = FieldErrors::new();
    let mut params = Vec::new();
    if let Some(m) = f.text("mtu") {
        match m.parse::<i64>() {
            Err(_) => {
                errs.insert("mtu".into(), vec![format!("'{m}' is not a valid integer.")]);
            }
            Ok(n) if n < 552 => {
                errs.insert(
                    "mtu".into(),
                    vec!["Ensure this value is greater than or equal to 552.".into()],
                );
            }
            Ok(n) => params.push(("mtu".to_string(), Some(Value::from(n)))),
        }
    } else if f.checked("clear_mtu") {
        // The API's empty `mtu`: the parameter goes.
        params.push(("mtu".to_string(), None));
    }
    let clear_tags = f.checked("clear_tags").then(Vec::new);
    let tags = f.text("tags").map(|t| {
        t.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
    });
    let tags = tags.or(clear_tags);
    let vlan = match f.text("vlan").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(v) => {
            match v.parse::<i64>() {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    errs.insert(
                    "vlan".into(),
                    vec!["Select a valid choice. That choice is not one of the available choices.".into()],
                );
                    None
                }
            }
        }
    };
    let mac = mac_of(f, &mut errs);
    let yes_no = |k: &str| {
        f.text(k)
            .and_then(|v| maas_model::constraints::parse_bool(&v))
    };
    if let Some(b) = yes_no("accept_ra") {
        params.push(("accept-ra".to_string(), Some(Value::from(b))));
    }
    let mut speed = |k: &str| -> Option<i32> {
        let v = f.text(k)?;
        match v.parse::<i64>() {
            Err(_) => {
                errs.insert(k.into(), vec![format!("'{v}' is not a valid integer.")]);
                None
            }
            Ok(n) => match maas_model::constraints::out_of_range(n, 0, i32::MAX as i64) {
                Some(m) => {
                    errs.insert(k.into(), vec![m]);
                    None
                }
                None => Some(n as i32),
            },
        }
    };
    let link_speed = speed("link_speed");
    let interface_speed = speed("interface_speed");
    let spec = IfaceSpec {
        name: f.text("name"),
        tags,
        params,
        vlan,
        mac,
        enabled: yes_no("enabled"),
        link_connected: yes_no("link_connected"),
        link_speed,
        interface_speed,
        ..Default::default()
    };
    match interfaces::update(&ui, &p.viewer.user, &sid, id, spec, errs).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/bridge`: a bridge on the chosen interface.
pub async fn add_bridge(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("bridge-form");
    let f = &p.form;
    let mut errs = FieldErrors::new();
    let params = crate::ui::iface_params::posted(f, &mut errs);
    let spec = IfaceSpec {
        name: f.text("name"),
        parents: Some(f.text("parent").into_iter().collect()),
        params,
        ..Default::default()
    };
    match interfaces::create(&ui, &p.viewer.user, &sid, Kind::Bridge, spec, errs).await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/gateway`: the chosen interface's gateway becomes the default.
pub async fn default_gateway(
    State(ui): State<Ui>,
    Path(sid): Path<String>,
    p: Posted,
) -> PageResult {
    let at = Refusal::form("gateway-form").alias("__all__", "iface");
    let id = match id_of(&p, "iface") {
        Ok(i) => i,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    match links::set_default_gateway(&ui, &p.viewer.user, &sid, id, None).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}
