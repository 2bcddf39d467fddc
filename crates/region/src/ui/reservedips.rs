//! DHCP reservations (`reservedips/`: an address the rack's DHCP always
//! gives one MAC) from the subnet page: admins add them there, edit one on
//! its own page (`/MAAS/r/reservedip/<id>`) and delete it after a confirm
//! step. The forms are read as the API reads `reservedips/` and go to the
//! same service; its messages go beside the fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::network::not_found;
use crate::services::network::reservedips::{self, ReservedIpParams};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{FormBlock, Page, Section, fail};
use crate::ui::netform::{Confirm, Parse, confirm_then, s};
use crate::ui::session::{Posted, Viewer};

fn reserved_id(id: &str) -> Result<i64> {
    id.trim()
        .parse::<i64>()
        .map_err(|_| not_found("ReservedIP"))
}

fn fields(prefix: &str, r: Option<&Value>) -> Vec<Field> {
    let v = |k: &str| r.map(|x| s(&x[k])).unwrap_or_default();
    let id = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}-{name}")
        }
    };
    vec![
        Field::text("ip", "IP address", &v("ip"))
            .required()
            .id(&id("ip")),
        Field::text("mac_address", "MAC address", &v("mac_address"))
            .required()
            .id(&id("mac_address")),
        Field::text("comment", "Comment", &v("comment")).id(&id("comment")),
    ]
}

/// The subnet page's "Add a DHCP reservation" form (admins).
pub fn add_form(subnet_id: i64) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/subnet/{subnet_id}/reservedips"),
        "Add reservation",
        fields("dhcp", None),
    );
    f.id = "add-reservedip".into();
    f.heading = "Add a DHCP reservation".into();
    f
}

/// The form read as the API reads `reservedips/` (required: a new one).
fn read(f: &mut Parse, required: bool) -> ReservedIpParams {
    let ip = f.ip("ip", required);
    let mac = match f.nonempty("mac_address") {
        None => {
            if required {
                f.add("mac_address", crate::ui::netform::REQUIRED);
            }
            None
        }
        Some(m) => {
            let n = maas_model::ids::normalize_mac(&m);
            if n.is_none() {
                f.add("mac_address", format!("'{m}' is not a valid MAC address."));
            }
            n
        }
    };
    ReservedIpParams {
        ip,
        mac,
        comment: f.text("comment"),
        subnet: None,
    }
}

/// POST: a new reservation on the subnet (admins, as `reservedips/` POST).
pub async fn add(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| not_found("Subnet"))
        .or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let mut params = read(&mut f, true);
    params.subnet = Some(id.to_string());
    match reservedips::create(&ui, params, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{id}#reserved")).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let mut page =
                crate::ui::networks::page(&ui, &p.viewer, &id.to_string(), &FormData::default())
                    .await
                    .or_page(&nav)?;
            page.dhcp_reserve = Some(add_form(id).refill(&p.form).error(&e));
            Ok((StatusCode::BAD_REQUEST, crate::ui::error::render(&page)).into_response())
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn back_to_subnet(r: &Value) -> String {
    format!("/MAAS/r/subnet/{}#reserved", s(&r["subnet"]["id"]))
}

fn edit_form(id: i64, r: &Value) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/reservedip/{id}/edit"),
        "Save reservation",
        fields("", Some(r)),
    );
    f.id = "edit-reservedip".into();
    f.cancel = back_to_subnet(r);
    f
}

fn edit_page(viewer: &Viewer, r: &Value, form: FormBlock) -> Page {
    let mut p = Page::new(viewer.nav(), format!("DHCP reservation {}", s(&r["ip"])))
        .section(Section::new("edit", "Edit reservation").form(form));
    p.subtitle = format!("subnet {}", s(&r["subnet"]["cidr"]));
    p.back = (back_to_subnet(r), "Back to the subnet".into());
    p
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let id = reserved_id(&id).or_page(&nav)?;
    let r = reservedips::get(&ui, id).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &r, edit_form(id, &r)).ok())
}

/// POST: the reservation changed in place (as `reservedips/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = reserved_id(&id).or_page(&nav)?;
    let r = reservedips::get(&ui, id).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let params = read(&mut f, false);
    match reservedips::update(&ui, id, params, f.errs).await {
        Ok(now) => Ok(Redirect::to(&back_to_subnet(&now)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = edit_form(id, &r).refill(&p.form).error(&e);
            Ok(edit_page(&p.viewer, &r, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: delete the reservation, after the confirm step.
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = reserved_id(&id).or_page(&nav)?;
    let r = reservedips::get(&ui, id).await.or_page(&nav)?;
    let c = Confirm {
        title: format!("Delete DHCP reservation {}", s(&r["ip"])),
        text: format!(
            "{} will no longer be kept for {}.",
            s(&r["ip"]),
            s(&r["mac_address"])
        ),
        action: format!("/MAAS/r/reservedip/{id}/delete"),
        back: back_to_subnet(&r),
        hidden: vec![],
    };
    confirm_then(&p, c, || reservedips::delete(&ui, id)).await
}
