//! The machine page's interfaces: each interface with its links, and for
//! admins the edits the API's `nodes/<id>/interfaces/` offers — link a
//! subnet, unlink (confirmed), add a VLAN interface or a bond, delete an
//! interface (confirmed). Every write is a `services::interfaces` call with
//! its own admin and status rules; its refusals go beside the fields.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::render::FullMachine;
use crate::services::interfaces::links::{self, LinkRequest, Mode};
use crate::services::interfaces::{self, IfaceSpec, Kind};
use crate::services::network::{subnets, vlans};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, confirm, confirmed, s};
use crate::ui::machine::{Refusal, refused};
use crate::ui::session::Posted;

pub struct LinkView {
    pub id: i64,
    pub subnet: String,
    pub mode: String,
    pub ip: String,
}

pub struct IfaceView {
    pub id: i64,
    pub name: String,
    pub mac: String,
    pub kind: String,
    /// A bond's or bridge's parameters, summed up.
    pub params: String,
    pub vlan: String,
    pub links: Vec<LinkView>,
}

/// The interfaces section: the table, and for admins the forms (link a
/// subnet, add a VLAN, add a bond) and refusals of the row buttons.
#[derive(Default)]
pub struct NetView {
    pub ifaces: Vec<IfaceView>,
    pub can_edit: bool,
    pub forms: Vec<FormBlock>,
    pub errors: Vec<String>,
}

fn opt(v: impl ToString, l: impl Into<String>) -> (String, String) {
    (v.to_string(), l.into())
}

/// The section for `m` (forms only for admins).
pub async fn view(ui: &Ui, m: &FullMachine, admin: bool) -> Result<NetView> {
    let sid = &m.row.system_id;
    let ifaces: Vec<IfaceView> = m
        .related
        .interfaces
        .iter()
        .map(|i| IfaceView {
            id: i.id,
            name: i.name.clone(),
            mac: i.mac_address.clone(),
            kind: i.type_.clone(),
            params: crate::ui::iface_params::summary(&i.type_, &i.params),
            vlan: i
                .vlan
                .as_ref()
                .map(|v| format!("{} / {}", v.fabric, v.vid))
                .unwrap_or_else(|| "disconnected".into()),
            links: i
                .links
                .iter()
                .map(|l| LinkView {
                    id: l.id,
                    subnet: l
                        .subnet
                        .as_ref()
                        .map(|s| s.cidr.clone())
                        .unwrap_or_default(),
                    mode: l.mode.clone(),
                    ip: l.ip_address.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    if !admin {
        return Ok(NetView {
            ifaces,
            ..Default::default()
        });
    }
    let names: Vec<(String, String)> = ifaces.iter().map(|i| opt(i.id, &i.name)).collect();
    let names_all = names.clone();
    let physical: Vec<(String, String)> = ifaces
        .iter()
        .filter(|i| i.kind == "physical")
        .map(|i| opt(i.id, &i.name))
        .collect();
    let kinds = |want: &[&str]| -> Vec<(String, String)> {
        ifaces
            .iter()
            .filter(|i| want.contains(&i.kind.as_str()))
            .map(|i| opt(i.id, &i.name))
            .collect()
    };
    // What a VLAN or a bridge may sit on, and what has parameters.
    let vlan_parents = kinds(&["physical", "bond", "bridge"]);
    let bridge_parents = kinds(&["physical", "bond", "vlan"]);
    let with_params = kinds(&["bond", "bridge"]);
    let subnet_opts: Vec<(String, String)> = subnets::list(ui)
        .await?
        .iter()
        .map(|sn| opt(s(&sn["id"]), s(&sn["cidr"])))
        .collect();
    let vlan_opts: Vec<(String, String)> = vlans::list(ui)
        .await?
        .iter()
        .map(|v: &Value| {
            opt(
                s(&v["id"]),
                format!("{} / {}", s(&v["fabric"]), s(&v["vid"])),
            )
        })
        .collect();
    let vlan_all = vlan_opts.clone();
    let modes = ["auto", "dhcp", "static", "link_up"]
        .iter()
        .map(|m| opt(m, m.to_uppercase()))
        .collect();
    let mut link = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/link"),
        "Link subnet",
        vec![
            Field::select("iface", "Interface", "", &[])
                .choices(names)
                .id("link_iface"),
            Field::select("subnet", "Subnet", "", &[]).choices(subnet_opts),
            Field::select("mode", "Mode", "auto", &[]).choices(modes),
            Field::text(
                "ip_address",
                "IP address (STATIC; empty: the first free one)",
                "",
            ),
            Field::text(
                "default_gateway",
                "Use the subnet's gateway as the default",
                "",
            )
            .kind("checkbox")
            .id("link_default_gateway"),
            Field::text(
                "force",
                "Force (a subnet on another VLAN; over existing links)",
                "",
            )
            .kind("checkbox")
            .id("link_force"),
        ],
    );
    link.id = "link-form".into();
    link.heading = "Link a subnet".into();
    let mut vlan = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/vlan"),
        "Add VLAN interface",
        vec![
            Field::select("parent", "Parent interface", "", &[])
                .choices(vlan_parents)
                .id("vlan_parent"),
            Field::select("vlan", "VLAN", "", &[]).choices(vlan_opts),
        ],
    );
    vlan.id = "vlan-form".into();
    vlan.heading = "Add a VLAN interface".into();
    let mut bond = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/bond"),
        "Add bond",
        vec![
            Field::text("name", "Name", "bond0")
                .id("bond_name")
                .required(),
            Field::select("parents", "Interfaces", "", &[])
                .choices(physical)
                .kind("multiselect"),
        ]
        .into_iter()
        .chain(crate::ui::iface_params::bond_fields("default", "bond_"))
        .collect(),
    );
    bond.id = "bond-form".into();
    bond.heading = "Add a bond".into();
    let mut forms = vec![link, vlan, bond];
    forms.extend(crate::ui::machine_iface::forms(
        sid,
        &names_all,
        &bridge_parents,
        &vlan_all,
    ));
    if !with_params.is_empty() {
        forms.push(crate::ui::iface_params::form(sid, &with_params));
    }
    Ok(NetView {
        ifaces,
        can_edit: true,
        forms,
        errors: Vec::new(),
    })
}

fn back(sid: &str) -> String {
    format!("/MAAS/r/machine/{sid}#interfaces")
}

pub(super) fn done(sid: &str) -> PageResult {
    Ok(Redirect::to(&back(sid)).into_response())
}

/// An id posted in `key` (a select's value), or that field's error.
pub(super) fn id_of(p: &Posted, key: &str) -> Result<i64> {
    match p.form.text(key) {
        None => Err(Error::field(key, "This field is required.")),
        Some(v) => v.parse().map_err(|_| {
            Error::field(
                key,
                format!("Select a valid choice. {v} is not one of the available choices."),
            )
        }),
    }
}

/// POST `…/link`: `links::link_subnet` on the chosen interface.
pub async fn link(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let f = &p.form;
    let at = Refusal::form("link-form").alias("id", "iface");
    let iface = match id_of(&p, "iface") {
        Ok(i) => i,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    let mut errs = FieldErrors::new();
    let mode = match f.text("mode") {
        None => {
            errs.insert("mode".into(), vec!["This field is required.".into()]);
            None
        }
        Some(m) => {
            let parsed = Mode::parse(&m);
            if parsed.is_none() {
                errs.insert(
                    "mode".into(),
                    vec![format!(
                        "'{m}' is not a valid mode.  It should be one of: 'auto', 'dhcp', \
                         'static', 'link_up'."
                    )],
                );
            }
            parsed
        }
    };
    let ip = f
        .text("ip_address")
        .and_then(|v| links::parse_ip(&v, "ip_address", &mut errs));
    let r = LinkRequest {
        mode,
        subnet: f.text("subnet"),
        ip,
        default_gateway: f.checked("default_gateway"),
        force: f.checked("force"),
    };
    match links::link_subnet(&ui, &p.viewer.user, &sid, iface, r, errs).await {
        Ok(()) => done(&sid),
        // The address allocator's "already in use" belongs beside the IP.
        Err(Error::NotFound(m)) if m.starts_with("The IP address") => {
            refused(&ui, &p, &sid, at, Error::field("ip_address", m)).await
        }
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/unlink` (`iface`, `link`): confirmed, then `links::unlink_subnet`.
pub async fn unlink(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let at = Refusal::section("interfaces");
    let iface = match id_of(&p, "iface") {
        Ok(i) => i,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    let link = p.form.text("link").unwrap_or_default();
    if !confirmed(&p.form) {
        let i = interfaces::get(&ui, &p.viewer.user, &sid, iface)
            .await
            .or_page(&nav)?;
        let what = i
            .links
            .iter()
            .find(|l| l.id.to_string() == link)
            .map(|l| {
                let cidr = l.subnet.as_ref().map(|s| s.cidr.as_str()).unwrap_or("");
                format!(
                    "{} {cidr} ({})",
                    l.ip_address.as_deref().unwrap_or(""),
                    l.mode
                )
            })
            .unwrap_or_default();
        return Ok(confirm(
            nav,
            "Unlink subnet",
            &format!("Interface {} loses its link {}.", i.name, what.trim()),
            &format!("/MAAS/r/machine/{sid}/unlink"),
            vec![("iface".into(), iface.to_string()), ("link".into(), link)],
            &back(&sid),
        ));
    }
    match links::unlink_subnet(&ui, &p.viewer.user, &sid, iface, Some(&link)).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/vlan`: a VLAN interface on a parent (`interfaces::create`).
pub async fn add_vlan(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("vlan-form");
    let spec = IfaceSpec {
        parents: Some(p.form.text("parent").into_iter().collect()),
        vlan: Some(p.form.text("vlan").and_then(|v| v.parse().ok())),
        ..Default::default()
    };
    let mut errs = FieldErrors::new();
    if p.form.text("vlan").is_none() {
        errs.insert("vlan".into(), vec!["This field is required.".into()]);
    }
    match interfaces::create(&ui, &p.viewer.user, &sid, Kind::Vlan, spec, errs).await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/bond`: a bond of the chosen interfaces (`interfaces::create`).
pub async fn add_bond(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("bond-form");
    let f = &p.form;
    let mut errs = FieldErrors::new();
    let params = crate::ui::iface_params::posted(f, &mut errs);
    let spec = IfaceSpec {
        name: f.text("name"),
        parents: Some(f.all("parents")),
        params,
        ..Default::default()
    };
    match interfaces::create(&ui, &p.viewer.user, &sid, Kind::Bond, spec, errs).await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/interface/<id>/delete`: confirmed, then `interfaces::delete`.
pub async fn delete(
    State(ui): State<Ui>,
    Path((sid, id)): Path<(String, String)>,
    p: Posted,
) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| crate::services::network::not_found("Interface"))
        .or_page(&nav)?;
    if !confirmed(&p.form) {
        let i = interfaces::get(&ui, &p.viewer.user, &sid, id)
            .await
            .or_page(&nav)?;
        return Ok(confirm(
            nav,
            &format!("Delete interface {}", i.name),
            &format!(
                "Interface {} ({}) and its links will be deleted, with any interface built \
                 only on it.",
                i.name, i.type_
            ),
            &format!("/MAAS/r/machine/{sid}/interface/{id}/delete"),
            Vec::new(),
            &back(&sid),
        ));
    }
    match interfaces::delete(&ui, &p.viewer.user, &sid, id).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("interfaces"), e).await,
    }
}
