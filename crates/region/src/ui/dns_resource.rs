//! A DNS resource's address records edited in place
//! (`/MAAS/r/dnsresource/<id>`, linked from the domain page's A/AAAA rows):
//! its name and domain (a rename or a move), addresses and their TTL, read
//! and refused as `dnsresources/<id>/` PUT reads `name`, `domain`,
//! `ip_addresses` and `address_ttl`. Admins only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::dns::RECORD_TTL_MAX;

use crate::error::Error;
use crate::services::dns::resources::{self, ResourceRequest, ResourceView};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, Page, Section, fail};
use crate::ui::netform::Parse;
use crate::ui::session::{Posted, Viewer};

fn back(v: &ResourceView) -> String {
    format!("/MAAS/r/domain/{}#records", v.row.domain_id)
}

fn form(v: &ResourceView) -> FormBlock {
    let ips: Vec<&str> = v.ips.iter().map(|i| i.row.ip.as_str()).collect();
    let ttl = v.row.address_ttl.map(|t| t.to_string()).unwrap_or_default();
    let mut f = FormBlock::new(
        format!("/MAAS/r/dnsresource/{}/edit", v.row.id),
        "Save addresses",
        vec![
            Field::text("name", "Name (@ for the domain itself)", &v.row.name).id("resource-name"),
            Field::text("domain", "Domain", &v.row.domain_name).id("resource-domain"),
            Field::text(
                "ip_addresses",
                "Addresses (space-separated)",
                &ips.join(" "),
            ),
            Field::text("address_ttl", "TTL (seconds; blank: the domain's)", &ttl),
        ],
    );
    f.id = "edit-addresses".into();
    f.cancel = back(v);
    f
}

fn page(viewer: &Viewer, v: &ResourceView, form: FormBlock) -> Page {
    let mut p = Page::new(viewer.nav(), format!("Addresses of {}", v.row.name))
        .section(Section::new("edit", "Edit address records").form(form));
    p.subtitle = format!("domain {}", v.row.domain_name);
    p.back = (back(v), format!("Domain {}", v.row.domain_name));
    p
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let v = resources::get(&ui, id.trim()).await.or_page(&nav)?;
    Ok(page(&viewer, &v, form(&v)).ok())
}

/// POST: the addresses and their TTL (as `dnsresources/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = p.viewer.admin()?.clone();
    let v = resources::get(&ui, id.trim()).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let r = ResourceRequest {
        name: f.nonempty("name"),
        domain: f.nonempty("domain"),
        ip_addresses: f.text("ip_addresses"),
        address_ttl: f.ttl("address_ttl", 0, RECORD_TTL_MAX),
        ..Default::default()
    };
    match resources::update(&ui, &user, &v.row.id.to_string(), r, f.errs).await {
        Ok(_) => Ok(Redirect::to(&back(&v)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = form(&v).refill(&p.form).error(&e);
            Ok(page(&p.viewer, &v, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}
