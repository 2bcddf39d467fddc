//! `/MAAS/r/devices`: the devices the viewer may list (admins all, others
//! their own), add (hostname, MACs, parent, zone, description: the API's
//! checks and messages, beside the fields), details, edit, delete
//! (confirmed; editing and deleting: the owner or an admin, as the API).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::ids;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::render::devices::device;
use crate::services::devices::{self, CreateRequest, Filter, FullDevice, UpdateRequest};
use crate::services::places;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail, s,
};
use crate::ui::session::{Posted, Viewer};

fn href(sid: &str) -> String {
    format!("/MAAS/r/device/{sid}")
}

fn json(d: &FullDevice) -> Value {
    device(&d.row, &d.shared, &d.interfaces)
}

fn macs(v: &Value) -> String {
    v["interface_set"]
        .as_array()
        .map(|a| a.iter().map(|i| s(&i["mac_address"])).collect::<Vec<_>>())
        .unwrap_or_default()
        .join(", ")
}

fn ips(v: &Value) -> String {
    v["ip_addresses"]
        .as_array()
        .map(|a| a.iter().map(s).collect::<Vec<_>>())
        .unwrap_or_default()
        .join(", ")
}

fn parent_cell(v: &Value) -> Cell {
    match v["parent"].as_str() {
        Some(p) => Cell::link(p, format!("/MAAS/r/machine/{p}")),
        None => "".into(),
    }
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    let all = devices::list(&ui, &viewer.user, Filter::default())
        .await
        .or_page(&nav)?;
    let rows = all
        .iter()
        .map(|d| {
            let v = json(d);
            Row::new(vec![
                Cell::link(s(&v["fqdn"]), href(&d.row.system_id)),
                macs(&v).into(),
                ips(&v).into(),
                s(&v["owner"]).into(),
                parent_cell(&v),
                s(&v["zone"]["name"]).into(),
            ])
        })
        .collect();
    let mut t = Table::new(
        &[
            "FQDN",
            "MAC addresses",
            "IP addresses",
            "Owner",
            "Parent",
            "Zone",
        ],
        rows,
    );
    t.empty = "No devices.".into();
    let mut page = Page::new(nav, "Devices").section(
        Section::new("list", "")
            .text(format!(
                "{} device{}.",
                all.len(),
                if all.len() == 1 { "" } else { "s" }
            ))
            .table(t),
    );
    page.back = ("/MAAS/r/devices/add".into(), "Add device".into());
    Ok(page.ok())
}

async fn add_form(ui: &Ui) -> Result<FormBlock> {
    let mut zones: Vec<String> = places::zones(&ui.db)
        .await?
        .into_iter()
        .map(|z| z.name)
        .collect();
    zones.sort_by_key(|z| z != "default");
    Ok(FormBlock::new(
        "/MAAS/r/devices/add",
        "Save device",
        vec![
            Field::text("hostname", "Hostname (blank: generated)", ""),
            Field::text("mac_addresses", "MAC addresses (comma-separated)", "").required(),
            Field::text("parent", "Parent machine (system id, optional)", ""),
            Field::select("zone", "Zone", "default", &zones),
            Field::text("description", "Description", ""),
        ],
    ))
}

fn add_page(viewer: &Viewer, mut form: FormBlock) -> Page {
    form.cancel = "/MAAS/r/devices".into();
    form.id = "add-device".into();
    Page::new(viewer.nav(), "Add device").section(Section::new("add", "").form(form))
}

pub async fn add(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let form = add_form(&ui).await.or_page(&viewer.nav())?;
    Ok(add_page(&viewer, form).ok())
}

/// The create request, with the API's field checks and messages.
fn request(f: &FormData) -> Result<CreateRequest> {
    let mut errs = maas_model::constraints::FieldErrors::new();
    let mut add = |k: &str, m: String| errs.entry(k.to_string()).or_default().push(m);
    let raw: Vec<&str> = f
        .get("mac_addresses")
        .unwrap_or("")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if raw.is_empty() {
        add("mac_addresses", "This field is required.".into());
    }
    let mut macs: Vec<String> = Vec::new();
    for m in raw {
        match ids::normalize_mac(m) {
            Some(n) if !macs.contains(&n) => macs.push(n),
            Some(_) => add("mac_addresses", format!("'{m}' is given twice.")),
            None => add(
                "mac_addresses",
                format!("'{m}' is not a valid MAC address."),
            ),
        }
    }
    let mut domain = None;
    let mut hostname = None;
    if let Some(h) = f.text("hostname") {
        match ids::split_fqdn(&h) {
            Ok((host, d)) => {
                hostname = Some(host.to_string());
                domain = d.map(str::to_string);
            }
            Err(e) => add("hostname", e),
        }
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    Ok(CreateRequest {
        hostname,
        domain,
        macs,
        parent: f.text("parent"),
        description: f.get("description").unwrap_or("").to_string(),
        zone: f.text("zone"),
    })
}

pub async fn submit(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let made = match request(&p.form) {
        Ok(r) => devices::create(&ui, &p.viewer.user, r).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(sid) => Ok(Redirect::to(&href(&sid)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = add_form(&ui).await.or_page(&nav)?.refill(&p.form).error(&e);
            Ok(add_page(&p.viewer, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn may_edit(viewer: &Viewer, v: &Value) -> bool {
    viewer.user.is_superuser
        || v["owner"].is_null()
        || v["owner"].as_str() == Some(viewer.user.username.as_str())
}

/// The edit form, filled from the device.
async fn edit_form(ui: &Ui, sid: &str, v: &Value) -> Result<FormBlock> {
    let zones: Vec<String> = places::zones(&ui.db)
        .await?
        .into_iter()
        .map(|z| z.name)
        .collect();
    let mut f = FormBlock::new(
        format!("{}/edit", href(sid)),
        "Save changes",
        vec![
            Field::text("hostname", "Hostname", &s(&v["hostname"])).required(),
            Field::text(
                "parent",
                "Parent machine (system id; blank: none)",
                &s(&v["parent"]),
            ),
            Field::select("zone", "Zone", &s(&v["zone"]["name"]), &zones),
            Field::text("description", "Description", &s(&v["description"])),
        ],
    );
    f.id = "edit-device".into();
    Ok(f)
}

/// A form the service refused: its id, what was posted, the refusal.
pub(super) struct Refused<'a> {
    pub form: &'static str,
    pub posted: &'a FormData,
    pub error: Error,
}

/// The device's page; `refused`: that form shows what was posted and the
/// refusal beside its fields.
pub(super) async fn detail(
    ui: &Ui,
    viewer: &Viewer,
    sid: &str,
    refused: Option<Refused<'_>>,
) -> Result<Page> {
    let d = devices::get(ui, sid).await?;
    let v = json(&d);
    let editable = may_edit(viewer, &v);
    let ifaces = v["interface_set"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            let addrs = i["links"]
                .as_array()
                .map(|l| l.iter().map(|l| s(&l["ip_address"])).collect::<Vec<_>>())
                .unwrap_or_default()
                .join(", ");
            let row = Row::new(vec![
                s(&i["name"]).into(),
                s(&i["mac_address"]).into(),
                s(&i["type"]).into(),
                addrs.into(),
            ]);
            if !editable {
                return row;
            }
            let mut row = row;
            for l in i["links"].as_array().into_iter().flatten() {
                let what = match l["ip_address"].as_str() {
                    Some(ip) if !ip.is_empty() => ip.to_string(),
                    _ => s(&l["mode"]),
                };
                row = row.button(
                    Button::new(
                        "Unlink",
                        format!("{}/interface/{}/unlink", href(sid), s(&i["id"])),
                        format!("Unlink {} from {}", s(&i["name"]), what),
                    )
                    .hidden("link", s(&l["id"])),
                );
            }
            row.button(
                Button::new(
                    "Delete",
                    format!("{}/interface/{}/delete", href(sid), s(&i["id"])),
                    format!("Delete interface {}", s(&i["name"])),
                )
                .danger(),
            )
        })
        .collect();
    let parent = v["parent"].as_str().unwrap_or("none").to_string();
    let mut page = Page::new(viewer.nav(), s(&v["fqdn"]))
        .section(Section::new("summary", "Summary").facts(vec![
            ("System id", sid.to_string()),
            ("Owner", s(&v["owner"])),
            ("Parent", parent),
            ("Zone", s(&v["zone"]["name"])),
            ("Domain", s(&v["domain"]["name"])),
            ("IP addresses", ips(&v)),
            ("Description", s(&v["description"])),
        ]))
        .section(
            Section::new("interfaces", "Interfaces")
                .table(Table::new(&["Name", "MAC", "Type", "Addresses"], ifaces)),
        );
    page.subtitle = sid.to_string();
    page.back = ("/MAAS/r/devices".into(), "All devices".into());
    if editable {
        let mut forms = vec![edit_form(ui, sid, &v).await?];
        forms.extend(crate::ui::device_iface::forms(ui, sid, &v).await?);
        for (f, (id, title)) in forms.into_iter().zip([
            ("edit", "Edit"),
            ("add-interface", "Add an interface"),
            ("link-interface", "Link an interface"),
            ("edit-interface", "Edit an interface"),
        ]) {
            let mut f = match &refused {
                Some(r) if r.form == f.id => f.refill(r.posted).error(&r.error),
                _ => f,
            };
            f.heading.clear();
            page = page.section(Section::new(id, title).form(f));
        }
        let mut t = Table::new(
            &["What"],
            vec![
                Row::new(vec!["Delete this device and its addresses.".into()]).button(
                    Button::new(
                        "Delete device",
                        format!("{}/delete", href(sid)),
                        format!("Delete device {}", s(&v["hostname"])),
                    )
                    .danger(),
                ),
            ],
        );
        t.empty.clear();
        page = page.section(Section::new("actions", "Actions").table(t));
    }
    Ok(page)
}

pub async fn show(State(ui): State<Ui>, Path(sid): Path<String>, viewer: Viewer) -> PageResult {
    let p = detail(&ui, &viewer, &sid, None)
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

/// POST: change hostname, parent, zone, description (owner or admin).
pub async fn edit(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let f = &p.form;
    let mut req = UpdateRequest {
        description: f.get("description").map(str::to_string),
        parent: f
            .get("parent")
            .map(|x| Some(x.trim().to_string()).filter(|x| !x.is_empty())),
        zone: f.text("zone"),
        ..Default::default()
    };
    let checked = match f.text("hostname") {
        None => Err(Error::field("hostname", "This field is required.")),
        Some(h) => match ids::split_fqdn(&h) {
            Ok((host, d)) => {
                req.hostname = Some(host.to_string());
                req.domain = d.map(str::to_string);
                Ok(())
            }
            Err(e) => Err(Error::field("hostname", e)),
        },
    };
    let done = match checked {
        Ok(()) => devices::update(&ui, &p.viewer.user, &sid, req).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&href(&sid)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let refused = Refused {
                form: "edit-device",
                posted: f,
                error: e,
            };
            let page = detail(&ui, &p.viewer, &sid, Some(refused))
                .await
                .or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn delete(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let d = devices::get(&ui, &sid).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete device",
            &format!("Device {} ({sid}) will be deleted.", d.row.hostname),
            &format!("{}/delete", href(&sid)),
            vec![],
            &href(&sid),
        ));
    }
    devices::delete(&ui, &p.viewer.user, &sid)
        .await
        .or_page(&nav)?;
    Ok(Redirect::to("/MAAS/r/devices").into_response())
}
