//! `/MAAS/r/vlan/<id>`: a VLAN (VID, MTU, fabric, DHCP with its racks and
//! relay) and its subnets; admins edit it through the same
//! `services::network::vlans::update` as the API's `vlans/<id>/` PUT, with
//! its refusals (no DHCP without a dynamic range or a primary rack).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::Result;
use crate::services::network::subnets;
use crate::services::network::vlans::{self, VlanPatch, VlanRef};
use crate::services::racks;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult, render};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::netform::{Parse, place_errors, s};
use crate::ui::networks::{SubnetLine, dhcp_text, vlan_label};
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::Nav;

#[derive(Template)]
#[template(path = "vlan.html")]
struct VlanPage {
    nav: Nav,
    id: i64,
    label: String,
    vid: i64,
    mtu: i64,
    fabric: String,
    fabric_id: i64,
    dhcp: String,
    primary: String,
    secondary: String,
    relay: String,
    space: String,
    description: String,
    subnets: Vec<SubnetLine>,
    fields: Vec<Field>,
    /// The DHCP checkbox (drawn by the template: it shows its error).
    dhcp_on: Field,
    errors: Vec<String>,
}

/// The form's fields: from the VLAN, or as posted.
fn fields(
    v: &Value,
    all: &[Value],
    racks: &[(String, String)],
    spaces: Vec<(String, String)>,
    form: &FormData,
) -> (Vec<Field>, Field) {
    let posted = !form.0.is_empty();
    let val = |k: &str, cur: String| {
        if posted {
            form.get(k).unwrap_or("").to_string()
        } else {
            cur
        }
    };
    let mut rack_opts = vec![(String::new(), "(none)".to_string())];
    rack_opts.extend(racks.iter().cloned());
    let rack = |k: &str, label: &str| {
        let mut f = Field::text(k, label, &val(k, s(&v[k]))).kind("select");
        f.options = rack_opts.clone();
        f
    };
    let mut relay = Field::text(
        "relay_vlan",
        "Relay DHCP to VLAN",
        &val("relay_vlan", s(&v["relay_vlan"])),
    )
    .kind("select");
    relay.options = vec![(String::new(), "(no relay)".to_string())];
    relay
        .options
        .extend(all.iter().filter(|o| o["id"] != v["id"]).map(|o| {
            (
                s(&o["id"]),
                format!("{} / {}", s(&o["fabric"]), vlan_label(o)),
            )
        }));
    let name = if v["vid"].as_i64() == Some(0) || s(&v["name"]) == s(&v["vid"]) {
        String::new()
    } else {
        s(&v["name"])
    };
    let list = vec![
        Field::text("name", "Name", &val("name", name)),
        Field::text(
            "vid",
            "VID (the untagged VLAN's stays 0)",
            &val("vid", s(&v["vid"])),
        ),
        Field::text(
            "description",
            "Description",
            &val("description", s(&v["description"])),
        ),
        Field::text("mtu", "MTU", &val("mtu", s(&v["mtu"]))),
        Field::text("space", "Space", &val("space", space_of(v)))
            .kind("select")
            .choices(spaces),
        rack("primary_rack", "Primary rack"),
        rack("secondary_rack", "Secondary rack"),
        relay,
    ];
    let on = if posted {
        form.checked("dhcp_on")
    } else {
        v["dhcp_on"].as_bool().unwrap_or(false)
    };
    let mut dhcp = Field::text("dhcp_on", "MAAS provides DHCP on this VLAN", "").kind("checkbox");
    if on {
        dhcp.value = "1".into();
    }
    (list, dhcp)
}

/// The posted VID (empty: unchanged); the service checks its range.
fn vid_of(f: &mut Parse) -> Option<i64> {
    let v = f.nonempty("vid")?;
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            f.add("vid", format!("'{v}' is not a valid integer."));
            None
        }
    }
}

/// The VLAN's space for the select ("" for none: `undefined` in the API).
fn space_of(v: &Value) -> String {
    match s(&v["space"]).as_str() {
        "undefined" => String::new(),
        sp => sp.to_string(),
    }
}

async fn page(ui: &Ui, viewer: &Viewer, id: &str, form: &FormData) -> Result<VlanPage> {
    let v = vlans::get(ui, &VlanRef::Id(id.to_string())).await?;
    let all = vlans::list(ui).await?;
    let racks: Vec<(String, String)> = racks::list(&ui.db, None)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.row.system_id.clone(),
                format!("{} ({})", r.row.hostname, r.row.system_id),
            )
        })
        .collect();
    let subnets = subnets::list(ui)
        .await?
        .iter()
        .filter(|sn| sn["vlan"]["id"] == v["id"])
        .map(SubnetLine::from_json)
        .collect();
    let spaces = crate::ui::fabrics::space_choices(ui).await?;
    let (fields, dhcp_on) = fields(&v, &all, &racks, spaces, form);
    let relay = match v["relay_vlan"].as_i64() {
        Some(rid) => all
            .iter()
            .find(|o| o["id"].as_i64() == Some(rid))
            .map(|o| format!("{} / {}", s(&o["fabric"]), vlan_label(o)))
            .unwrap_or_else(|| rid.to_string()),
        None => String::new(),
    };
    Ok(VlanPage {
        nav: viewer.nav(),
        id: v["id"].as_i64().unwrap_or(0),
        label: vlan_label(&v),
        vid: v["vid"].as_i64().unwrap_or(0),
        mtu: v["mtu"].as_i64().unwrap_or(0),
        fabric: s(&v["fabric"]),
        fabric_id: v["fabric_id"].as_i64().unwrap_or(0),
        dhcp: dhcp_text(&v),
        primary: s(&v["primary_rack"]),
        secondary: s(&v["secondary_rack"]),
        relay,
        space: s(&v["space"]),
        description: s(&v["description"]),
        subnets,
        fields,
        dhcp_on,
        errors: Vec::new(),
    })
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    let nav = viewer.nav();
    let p = page(&ui, &viewer, &id, &FormData::default())
        .await
        .or_page(&nav)?;
    Ok(render(&p))
}

/// POST: the VLAN's settings (admins, as the API's `vlans/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut page = page(&ui, &p.viewer, &id, &p.form).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let name = f.text("name");
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        crate::ui::fabrics::check_vlan_name(&mut f, n);
    }
    let patch = VlanPatch {
        name,
        description: f.text("description"),
        vid: vid_of(&mut f),
        mtu: f.int_between("mtu", 552, 65535),
        space: f.text("space"),
        primary_rack: f.text("primary_rack"),
        secondary_rack: f.text("secondary_rack"),
        relay_vlan: f.text("relay_vlan"),
        dhcp_on: Some(p.form.checked("dhcp_on")),
    };
    match vlans::update(&ui, &VlanRef::Id(id.clone()), patch, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/vlan/{}", page.id)).into_response()),
        Err(e) => {
            let mut dhcp = vec![page.dhcp_on.clone()];
            page.errors = place_errors(e, &mut [&mut page.fields, &mut dhcp], &[], &nav)?;
            page.dhcp_on = dhcp.remove(0);
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
    }
}
