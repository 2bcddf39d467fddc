//! Edits of what the network and DNS pages list, each on a small page of
//! its own linked from the row: an IP range (`/MAAS/r/iprange/<id>`: type,
//! start, end, comment, as `ipranges/<id>/` PUT), a DNS record
//! (`/MAAS/r/dnsrecord/<id>`: data, TTL, as `dnsresourcerecords/<id>/` PUT)
//! and a domain (`/MAAS/r/domain/<id>/edit`: TTL, authoritative, and
//! `set_default`). Admins only, the services' messages beside the fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::dns::{DOMAIN_TTL_MAX, RECORD_TTL_MAX};
use maas_model::net::RangeType;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::dns::domains::{self, DomainRequest};
use crate::services::dns::records::{self, RecordRequest};
use crate::services::network::ipranges::{self, RangeParams};
use crate::services::network::{invalid_choice, not_found};
use crate::store::dns::records::DataRow;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, Page, Section, fail};
use crate::ui::netform::{Parse, s};
use crate::ui::session::{Posted, Viewer};

fn range_id(id: &str) -> Result<i64> {
    id.trim().parse::<i64>().map_err(|_| not_found("IPRange"))
}

fn range_form(id: i64, r: &Value) -> FormBlock {
    let kind = Field::text("type", "Type", &s(&r["type"]))
        .kind("select")
        .choices(vec![
            ("dynamic".into(), "Dynamic (DHCP pool)".into()),
            ("reserved".into(), "Reserved".into()),
        ]);
    let mut f = FormBlock::new(
        format!("/MAAS/r/iprange/{id}/edit"),
        "Save range",
        vec![
            kind,
            Field::text("start_ip", "Start IP", &s(&r["start_ip"])).required(),
            Field::text("end_ip", "End IP", &s(&r["end_ip"])).required(),
            Field::text("comment", "Comment", &s(&r["comment"])),
        ],
    );
    f.id = "edit-range".into();
    f.cancel = back_to_subnet(r);
    f
}

fn back_to_subnet(r: &Value) -> String {
    format!("/MAAS/r/subnet/{}#ranges", s(&r["subnet"]["id"]))
}

fn range_page(viewer: &Viewer, r: &Value, form: FormBlock) -> Page {
    let mut p = Page::new(
        viewer.nav(),
        format!("IP range {} – {}", s(&r["start_ip"]), s(&r["end_ip"])),
    )
    .section(Section::new("edit", "Edit IP range").form(form));
    p.subtitle = format!("subnet {}", s(&r["subnet"]["cidr"]));
    p.back = (back_to_subnet(r), "Back to the subnet".into());
    p
}

pub async fn show_range(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    viewer: Viewer,
) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let id = range_id(&id).or_page(&nav)?;
    let r = ipranges::get(&ui, id).await.or_page(&nav)?;
    Ok(range_page(&viewer, &r, range_form(id, &r)).ok())
}

/// POST: the range changed in place (as `ipranges/<id>/` PUT).
pub async fn edit_range(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = range_id(&id).or_page(&nav)?;
    let r = ipranges::get(&ui, id).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let kind = f.nonempty("type").and_then(|t| {
        let k = RangeType::parse(&t);
        if k.is_none() {
            f.add("type", invalid_choice(&t));
        }
        k
    });
    let params = RangeParams {
        kind,
        start: f.ip("start_ip", false),
        end: f.ip("end_ip", false),
        comment: f.text("comment"),
        subnet: None,
    };
    match ipranges::update(&ui, id, params, f.errs).await {
        Ok(_) => Ok(Redirect::to(&back_to_subnet(&r)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = range_form(id, &r).refill(&p.form).error(&e);
            Ok(range_page(&p.viewer, &r, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn record_form(x: &DataRow) -> FormBlock {
    let ttl = x.ttl.map(|t| t.to_string()).unwrap_or_default();
    let mut f = FormBlock::new(
        format!("/MAAS/r/dnsrecord/{}/edit", x.id),
        "Save record",
        vec![
            Field::text("rrtype", "Type", &x.rrtype).id("record-rrtype"),
            Field::text("rrdata", "Data", &x.rrdata).required(),
            Field::text("ttl", "TTL (seconds; blank: the domain's)", &ttl),
        ],
    );
    f.id = "edit-record".into();
    f.cancel = format!("/MAAS/r/domain/{}#records", x.domain_id);
    f
}

fn record_page(viewer: &Viewer, x: &DataRow, form: FormBlock) -> Page {
    let mut p = Page::new(viewer.nav(), format!("{} record {}", x.rrtype, x.fqdn()))
        .section(Section::new("edit", "Edit record").form(form));
    p.back = (
        format!("/MAAS/r/domain/{}#records", x.domain_id),
        format!("Domain {}", x.domain_name),
    );
    p
}

pub async fn show_record(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    viewer: Viewer,
) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let x = records::get(&ui, id.trim()).await.or_page(&nav)?;
    Ok(record_page(&viewer, &x, record_form(&x)).ok())
}

/// POST: the record's type, data and TTL (as `dnsresourcerecords/<id>/`
/// PUT; a name belongs to its DNS resource, renamed on its own page).
pub async fn edit_record(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let x = records::get(&ui, id.trim()).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let r = RecordRequest {
        rrtype: f.nonempty("rrtype"),
        rrdata: f.text("rrdata"),
        ttl: f.ttl("ttl", 0, RECORD_TTL_MAX),
        ..Default::default()
    };
    match records::update(&ui, &x.id.to_string(), r, f.errs).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/MAAS/r/domain/{}#records", x.domain_id)).into_response())
        }
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            // The data's checks are the API's `__all__`: beside the data.
            let e = match e {
                Error::Validation(mut errs) => {
                    if let Some(all) = errs.remove("__all__") {
                        errs.entry("rrdata".into()).or_default().extend(all);
                    }
                    Error::Validation(errs)
                }
                e => e,
            };
            let form = record_form(&x).refill(&p.form).error(&e);
            Ok(record_page(&p.viewer, &x, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

async fn domain_of(ui: &Ui, id: &str) -> Result<domains::Domain> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(crate::services::dns::not_found("Domain"));
    }
    domains::get(ui, id).await
}

fn domain_form(d: &domains::Domain) -> FormBlock {
    let ttl = d.ttl.map(|t| t.to_string()).unwrap_or_default();
    let auth = Field::text(
        "authoritative",
        "Authoritative",
        if d.authoritative { "1" } else { "" },
    )
    .kind("checkbox");
    let mut f = FormBlock::new(
        format!("/MAAS/r/domain/{}/edit", d.id),
        "Save domain",
        vec![
            Field::text("name", "Name", &d.name).id("domain-name"),
            Field::text("ttl", "TTL (seconds; blank: the default)", &ttl),
            auth,
        ],
    );
    f.id = "edit-domain".into();
    f.cancel = format!("/MAAS/r/domain/{}", d.id);
    f
}

fn domain_page(viewer: &Viewer, d: &domains::Domain, form: FormBlock) -> Page {
    let mut p = Page::new(viewer.nav(), format!("Edit domain {}", d.name))
        .section(Section::new("edit", "Settings").form(form));
    let mut def = FormBlock::new(
        format!("/MAAS/r/domain/{}/default", d.id),
        "Make this the default domain",
        Vec::new(),
    );
    def.id = "set-default".into();
    p = p.section(if d.is_default {
        Section::new("default", "Default domain").text("This is the default domain.")
    } else {
        Section::new("default", "Default domain")
            .text("New machines get the default domain.")
            .form(def)
    });
    p.back = (
        format!("/MAAS/r/domain/{}", d.id),
        format!("Domain {}", d.name),
    );
    p
}

pub async fn show_domain(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    viewer: Viewer,
) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let d = domain_of(&ui, &id).await.or_page(&nav)?;
    Ok(domain_page(&viewer, &d, domain_form(&d)).ok())
}

/// POST: the domain's name, TTL and authority (as `domains/<id>/` PUT).
pub async fn edit_domain(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let d = domain_of(&ui, &id).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let r = DomainRequest {
        name: f.nonempty("name"),
        ttl: f.ttl("ttl", 1, DOMAIN_TTL_MAX),
        authoritative: Some(p.form.checked("authoritative")),
    };
    match domains::update(&ui, &d.id.to_string(), r, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/domain/{}", d.id)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = domain_form(&d).refill(&p.form).error(&e);
            Ok(domain_page(&p.viewer, &d, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: make the domain the default (as `domains/<id>/?op=set_default`).
pub async fn set_default(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let d = domain_of(&ui, &id).await.or_page(&nav)?;
    domains::set_default(&ui, &d.id.to_string())
        .await
        .or_page(&nav)?;
    Ok(Redirect::to(&format!("/MAAS/r/domain/{}", d.id)).into_response())
}
