//! A device's interfaces from its page (owner or admin, as the API): add a
//! physical interface (MAC, name: `nodes/<id>/interfaces/?op=create_physical`),
//! link one to a subnet (STATIC with a given or the next free address,
//! DHCP or LINK_UP: `op=link_subnet`), unlink one of its links and delete
//! one, each after the confirm step. The forms go to the API's services; their refusals come back
//! beside the fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::device_interfaces;
use crate::services::devices::{self, InterfaceRequest};
use crate::services::interfaces::links::Mode;
use crate::services::network::subnets;
use crate::ui::Ui;
use crate::ui::devices::{Refused, detail};
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, confirm, confirmed, fail, s};
use crate::ui::netform::Parse;
use crate::ui::session::Posted;

const MODES: [(&str, &str); 3] = [
    ("static", "Static address"),
    ("dhcp", "DHCP"),
    ("link_up", "Link up, no address"),
];

fn href(sid: &str) -> String {
    format!("/MAAS/r/device/{sid}")
}

/// The add and link forms of a device page (`v`: the device as the API
/// renders it).
pub async fn forms(ui: &Ui, sid: &str, v: &Value) -> Result<Vec<FormBlock>> {
    let mut add = FormBlock::new(
        format!("{}/interfaces", href(sid)),
        "Add interface",
        vec![
            Field::text("mac_address", "MAC address", "")
                .required()
                .id("add-iface-mac_address"),
            Field::text("name", "Name (blank: the next ethN)", "").id("add-iface-name"),
        ],
    );
    add.id = ADD.into();
    let ifaces: Vec<(String, String)> = v["interface_set"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        s(&i["id"]),
                        format!("{} ({})", s(&i["name"]), s(&i["mac_address"])),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let subnets: Vec<(String, String)> = subnets::list(ui)
        .await?
        .iter()
        .map(|x| (s(&x["id"]), s(&x["cidr"])))
        .collect();
    let modes: Vec<(String, String)> = MODES
        .iter()
        .map(|(k, l)| (k.to_string(), l.to_string()))
        .collect();
    let mut link = FormBlock::new(
        format!("{}/link", href(sid)),
        "Link interface",
        vec![
            Field::select("iface", "Interface", "", &[])
                .choices(ifaces)
                .id("link-iface"),
            Field::select("mode", "Mode", "static", &[])
                .choices(modes)
                .id("link-mode"),
            Field::select("subnet", "Subnet", "", &[])
                .choices(subnets)
                .id("link-subnet"),
            Field::text(
                "ip_address",
                "IP address (static; blank: the next free one)",
                "",
            )
            .id("link-ip_address"),
        ],
    );
    link.id = LINK.into();
    let mut vlans = vec![
        (String::new(), "(unchanged)".to_string()),
        ("none".to_string(), "(disconnected)".to_string()),
    ];
    vlans.extend(
        crate::services::network::vlans::list(ui)
            .await?
            .iter()
            .map(|x| {
                (
                    s(&x["id"]),
                    format!("{} / {}", s(&x["fabric"]), s(&x["vid"])),
                )
            }),
    );
    let mut change = FormBlock::new(
        format!("{}/interface/edit", href(sid)),
        "Save interface",
        vec![
            Field::select("iface", "Interface", "", &[])
                .choices(ifaces_for_edit(v))
                .id("edit-iface-iface"),
            Field::text("name", "New name (blank: unchanged)", "").id("edit-iface-name"),
            Field::text("mac_address", "New MAC (blank: unchanged)", "")
                .id("edit-iface-mac_address"),
            Field::select("vlan", "Fabric / VLAN", "", &[])
                .choices(vlans)
                .id("edit-iface-vlan"),
        ],
    );
    change.id = EDIT.into();
    Ok(vec![add, link, change])
}

fn ifaces_for_edit(v: &Value) -> Vec<(String, String)> {
    v["interface_set"]
        .as_array()
        .map(|a| a.iter().map(|i| (s(&i["id"]), s(&i["name"]))).collect())
        .unwrap_or_default()
}

/// POST `…/interface/edit`: name, MAC, VLAN (as the interface PUT).
pub async fn change(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let mut f = Parse::new(&p.form);
    let id = f.required("iface").map(|i| i.parse::<i64>().unwrap_or(-1));
    let mac = f.nonempty("mac_address").and_then(|m| {
        let n = maas_model::ids::normalize_mac(&m);
        if n.is_none() {
            f.add("mac_address", format!("'{m}' is not a valid MAC address."));
        }
        n
    });
    let vlan = match f.nonempty("vlan").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(v) => v.parse::<i64>().ok().map(Some),
    };
    let done = match id {
        Some(id) if f.errs.is_empty() => {
            let u = device_interfaces::IfaceUpdate {
                name: f.nonempty("name"),
                mac,
                vlan,
            };
            device_interfaces::update(&ui, &p.viewer.user, &sid, id, u).await
        }
        _ => Err(Error::Validation(f.errs)),
    };
    outcome(&ui, &p, &sid, EDIT, done).await
}

/// The forms' ids in [`forms`].
const ADD: &str = "add-iface";
const LINK: &str = "link-iface";
const EDIT: &str = "edit-iface";

/// Where a form's outcome leads: the interfaces when it was done, else the
/// page again with form `which` as posted and the refusal beside its fields.
async fn outcome(
    ui: &Ui,
    p: &Posted,
    sid: &str,
    which: &'static str,
    done: Result<()>,
) -> PageResult {
    let nav = p.viewer.nav();
    let e = match done {
        Ok(()) => return Ok(Redirect::to(&format!("{}#interfaces", href(sid))).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => e,
        // An interface that is not this device's: beside the choice.
        Err(Error::NotFound(m)) if which == LINK || which == EDIT => Error::field("iface", m),
        Err(e) => return Err(fail(&nav, e)),
    };
    let refused = Refused {
        form: which,
        posted: &p.form,
        error: e,
    };
    let page = detail(ui, &p.viewer, sid, Some(refused))
        .await
        .or_page(&nav)?;
    Ok(page.status(StatusCode::BAD_REQUEST))
}

/// POST `…/interfaces`: a physical interface (as `op=create_physical`).
pub async fn add(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let mut f = Parse::new(&p.form);
    let mac = f.required("mac_address").and_then(|m| {
        let n = maas_model::ids::normalize_mac(&m);
        if n.is_none() {
            f.add("mac_address", format!("'{m}' is not a valid MAC address."));
        }
        n
    });
    let done = match mac {
        Some(mac) if f.errs.is_empty() => {
            let r = InterfaceRequest {
                mac,
                name: f.nonempty("name"),
                vlan: None,
                tags: Vec::new(),
                link_speed: 0,
            };
            devices::add_interface(&ui, &p.viewer.user, &sid, r)
                .await
                .map(|_| ())
        }
        _ => Err(Error::Validation(f.errs)),
    };
    outcome(&ui, &p, &sid, ADD, done).await
}

/// POST `…/link`: link an interface to a subnet (as `op=link_subnet`).
pub async fn link(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let mut f = Parse::new(&p.form);
    let id = f.required("iface").map(|i| i.parse::<i64>().unwrap_or(-1));
    let mode = f.required("mode").and_then(|m| {
        let mode = Mode::parse(&m).filter(|x| *x != Mode::Auto);
        if mode.is_none() {
            f.add(
                "mode",
                format!("Select a valid choice. {m} is not one of the available choices."),
            );
        }
        mode
    });
    let subnet = f.required("subnet");
    let ip = f.ip("ip_address", false);
    let done = match (id, mode, subnet) {
        (Some(id), Some(mode), Some(subnet)) if f.errs.is_empty() => {
            device_interfaces::link_subnet(&ui, &p.viewer.user, &sid, id, mode, &subnet, ip).await
        }
        _ => Err(Error::Validation(f.errs)),
    };
    outcome(&ui, &p, &sid, LINK, done).await
}

/// POST `…/interface/<id>/delete`: after the confirm step.
pub async fn delete(
    State(ui): State<Ui>,
    Path((sid, id)): Path<(String, i64)>,
    p: Posted,
) -> PageResult {
    let nav = p.viewer.nav();
    let i = device_interfaces::get(&ui, &sid, id).await.or_page(&nav)?;
    let text = format!(
        "Interface {} ({}) and its addresses will be deleted.",
        i.name, i.mac_address
    );
    let ask = Ask {
        title: "Delete interface",
        text,
        action: format!("{}/interface/{id}/delete", href(&sid)),
        hidden: vec![],
    };
    ask_then(&p, &sid, ask, || {
        device_interfaces::delete(&ui, &p.viewer.user, &sid, id)
    })
    .await
}

/// POST `…/interface/<id>/unlink` with `link` (a link's id): after the
/// confirm step, as `op=unlink_subnet` (a static address goes back to the
/// subnet).
pub async fn unlink(
    State(ui): State<Ui>,
    Path((sid, id)): Path<(String, i64)>,
    p: Posted,
) -> PageResult {
    let nav = p.viewer.nav();
    let i = device_interfaces::get(&ui, &sid, id).await.or_page(&nav)?;
    let link = p.form.text("link").unwrap_or_default();
    let l = i
        .links
        .iter()
        .find(|l| l.id.to_string() == link)
        .ok_or_else(|| Error::NotFound("No such link on this interface.".into()))
        .or_page(&nav)?;
    let what = l.ip_address.clone().unwrap_or_else(|| l.mode.clone());
    let ask = Ask {
        title: "Unlink interface",
        text: format!("Interface {} will no longer have {what}.", i.name),
        action: format!("{}/interface/{id}/unlink", href(&sid)),
        hidden: vec![("link".into(), link.clone())],
    };
    ask_then(&p, &sid, ask, || {
        device_interfaces::unlink_subnet(&ui, &p.viewer.user, &sid, id, &link)
    })
    .await
}

/// A confirm step: what it asks and where the confirmed form goes.
struct Ask {
    title: &'static str,
    text: String,
    action: String,
    hidden: Vec<(String, String)>,
}

/// The confirm page until the form comes back confirmed; then `run` and
/// back to the device's interfaces.
async fn ask_then<F>(p: &Posted, sid: &str, ask: Ask, run: impl FnOnce() -> F) -> PageResult
where
    F: std::future::Future<Output = Result<()>>,
{
    let nav = p.viewer.nav();
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            ask.title,
            &ask.text,
            &ask.action,
            ask.hidden,
            &href(sid),
        ));
    }
    run().await.or_page(&nav)?;
    Ok(Redirect::to(&format!("{}#interfaces", href(sid))).into_response())
}
