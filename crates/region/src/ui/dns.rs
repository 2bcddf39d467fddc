//! `/MAAS/r/dns` (domains: add, delete) and `/MAAS/r/domain/<id>` (its
//! records: add, delete). Addresses (A/AAAA) are DNS resources' addresses
//! as the API's `dnsresources/` holds them; the other types are
//! `dnsresourcerecords/`. The same `services::dns` calls, checks and
//! messages as the API; writes are for administrators.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::dns::{DOMAIN_TTL_MAX, RECORD_TTL_MAX, SUPPORTED_RRTYPES};

use crate::error::{Error, Result};
use crate::services::dns::domains::{self, DomainRequest};
use crate::services::dns::not_found;
use crate::services::dns::records::{self, RecordRequest};
use crate::services::dns::resources::{self, ListRequest, Listed, ResourceRequest};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult, render};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::netform::{Confirm, Parse, confirm_then, place_errors};
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::Nav;

pub struct DomainLine {
    pub id: i64,
    pub name: String,
    pub authoritative: bool,
    pub ttl: String,
    pub records: i64,
    pub is_default: bool,
}

#[derive(Template)]
#[template(path = "dns.html")]
struct DnsPage {
    nav: Nav,
    domains: Vec<DomainLine>,
    fields: Vec<Field>,
    errors: Vec<String>,
}

fn domain_fields(form: &FormData) -> Vec<Field> {
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let mut auth = Field::text("authoritative", "Authoritative", "").kind("checkbox");
    if form.0.is_empty() || form.checked("authoritative") {
        auth.value = "1".into();
    }
    vec![
        Field::text("name", "Name", &v("name")).required(),
        Field::text("ttl", "TTL (seconds; blank: the default)", &v("ttl")),
        auth,
    ]
}

async fn dns_page(ui: &Ui, viewer: &Viewer, form: &FormData) -> Result<DnsPage> {
    let domains = domains::list(ui)
        .await?
        .into_iter()
        .map(|d| DomainLine {
            id: d.id,
            name: d.name,
            authoritative: d.authoritative,
            ttl: d.ttl.map(|t| t.to_string()).unwrap_or_default(),
            records: d.resource_record_count,
            is_default: d.is_default,
        })
        .collect();
    Ok(DnsPage {
        nav: viewer.nav(),
        domains,
        fields: domain_fields(form),
        errors: Vec::new(),
    })
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = dns_page(&ui, &viewer, &FormData::default())
        .await
        .or_page(&viewer.nav())?;
    Ok(render(&p))
}

/// POST: a new domain (admins, as the API's `domains/` create).
pub async fn add_domain(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut f = Parse::new(&p.form);
    let r = DomainRequest {
        name: f.text("name"),
        ttl: f.ttl("ttl", 1, DOMAIN_TTL_MAX),
        authoritative: Some(p.form.checked("authoritative")),
    };
    match domains::create(&ui, r, f.errs).await {
        Ok(d) => Ok(Redirect::to(&format!("/MAAS/r/domain/{}", d.id)).into_response()),
        Err(e) => {
            let mut page = dns_page(&ui, &p.viewer, &p.form).await.or_page(&nav)?;
            page.errors = place_errors(e, &mut [&mut page.fields], &[], &nav)?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
    }
}

/// POST: delete a domain, after the confirm step.
pub async fn delete_domain(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let d = domain_by_id(&ui, &id).await.or_page(&nav)?;
    let c = Confirm {
        title: format!("Delete domain {}", d.name),
        text: format!("The DNS domain {} will be deleted.", d.name),
        action: format!("/MAAS/r/domain/{}/delete", d.id),
        back: "/MAAS/r/dns".into(),
        hidden: vec![],
    };
    let spec = d.id.to_string();
    confirm_then(&p, c, || domains::delete(&ui, &spec)).await
}

/// Domains in paths are ids.
async fn domain_by_id(ui: &Ui, id: &str) -> Result<domains::Domain> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_found("Domain"));
    }
    domains::get(ui, id).await
}

/// A record of a domain as a row.
pub struct RecordLine {
    pub name: String,
    pub rrtype: String,
    pub data: String,
    pub ttl: String,
    /// Where its delete button posts (none: a machine's own address).
    pub delete: Option<String>,
    /// Its edit page (addresses: their resource's).
    pub edit: Option<String>,
    /// The address, for an address's delete.
    pub ip: String,
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    nav: Nav,
    domain: DomainLine,
    records: Vec<RecordLine>,
    fields: Vec<Field>,
    errors: Vec<String>,
}

/// Record types the form offers: addresses, then the API's other types.
fn rrtypes() -> Vec<(String, String)> {
    ["A", "AAAA"]
        .iter()
        .chain(SUPPORTED_RRTYPES.iter())
        .map(|t| (t.to_string(), t.to_string()))
        .collect()
}

fn record_fields(form: &FormData) -> Vec<Field> {
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let mut t = Field::text("rrtype", "Type", &v("rrtype")).kind("select");
    t.options = rrtypes();
    vec![
        Field::text("name", "Name (@ for the domain itself)", &v("name")).required(),
        t,
        Field::text("rrdata", "Data", &v("rrdata")).required(),
        Field::text("ttl", "TTL (seconds; blank: the domain's)", &v("ttl")),
    ]
}

fn ttl_text(t: Option<i32>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

async fn domain_page(ui: &Ui, viewer: &Viewer, id: &str, form: &FormData) -> Result<DomainPage> {
    let d = domain_by_id(ui, id).await?;
    let listed = resources::list(
        ui,
        ListRequest {
            domain: Some(d.id.to_string()),
            all: true,
            ..Default::default()
        },
    )
    .await?;
    let mut rows = Vec::new();
    for l in listed {
        match l {
            Listed::Resource(v) => {
                for ip in &v.ips {
                    rows.push(RecordLine {
                        name: v.row.name.clone(),
                        rrtype: crate::services::dns::addr_type(&ip.row.ip).into(),
                        data: ip.row.ip.clone(),
                        ttl: ttl_text(v.row.address_ttl),
                        delete: Some(format!("/MAAS/r/dnsresource/{}/address/delete", v.row.id)),
                        edit: Some(format!("/MAAS/r/dnsresource/{}", v.row.id)),
                        ip: ip.row.ip.clone(),
                    });
                }
                for x in &v.records {
                    rows.push(RecordLine {
                        name: x.name.clone(),
                        rrtype: x.rrtype.clone(),
                        data: x.rrdata.clone(),
                        ttl: ttl_text(x.ttl),
                        delete: Some(format!("/MAAS/r/dnsrecord/{}/delete", x.id)),
                        edit: Some(format!("/MAAS/r/dnsrecord/{}", x.id)),
                        ip: String::new(),
                    });
                }
            }
            Listed::Implicit { fqdn, records } => {
                let name = fqdn
                    .strip_suffix(&format!(".{}", d.name))
                    .unwrap_or(&fqdn)
                    .to_string();
                for r in records {
                    rows.push(RecordLine {
                        name: name.clone(),
                        rrtype: r.rrtype.into(),
                        data: r.rrdata,
                        ttl: String::new(),
                        delete: None,
                        edit: None,
                        ip: String::new(),
                    });
                }
            }
        }
    }
    rows.sort_by(|a, b| (&a.name, &a.rrtype, &a.data).cmp(&(&b.name, &b.rrtype, &b.data)));
    Ok(DomainPage {
        nav: viewer.nav(),
        domain: DomainLine {
            id: d.id,
            name: d.name,
            authoritative: d.authoritative,
            ttl: ttl_text(d.ttl),
            records: d.resource_record_count,
            is_default: d.is_default,
        },
        records: rows,
        fields: record_fields(form),
        errors: Vec::new(),
    })
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    let p = domain_page(&ui, &viewer, &id, &FormData::default())
        .await
        .or_page(&viewer.nav())?;
    Ok(render(&p))
}

/// An address record: a new DNS resource with it, or the address added to
/// the name's resource (as `dnsresources/` create or update).
async fn add_address(
    ui: &Ui,
    viewer: &Viewer,
    domain: &str,
    name: Option<String>,
    ip: Option<String>,
    ttl: Option<Option<i32>>,
    mut f: Parse<'_>,
) -> Result<()> {
    let existing = match name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => resources::list(
            ui,
            ListRequest {
                name: Some(n.to_string()),
                domain: Some(domain.to_string()),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .find_map(|l| match l {
            Listed::Resource(v) if v.row.name == n => Some(v),
            _ => None,
        }),
        None => None,
    };
    if ip.is_none() && !f.errs.contains_key("ip_addresses") {
        f.add("ip_addresses", crate::ui::netform::REQUIRED);
    }
    match existing {
        Some(v) => {
            let mut ips: Vec<String> = v.ips.iter().map(|i| i.row.ip.clone()).collect();
            ips.extend(ip);
            let r = ResourceRequest {
                address_ttl: ttl.filter(|t| t.is_some()),
                ip_addresses: Some(ips.join(" ")),
                ..Default::default()
            };
            resources::update(ui, &viewer.user, &v.row.id.to_string(), r, f.errs).await?;
        }
        None => {
            let r = ResourceRequest {
                name,
                domain: Some(domain.to_string()),
                address_ttl: ttl,
                ip_addresses: Some(ip.unwrap_or_default()),
                ..Default::default()
            };
            resources::create(ui, &viewer.user, r, f.errs).await?;
        }
    }
    Ok(())
}

/// POST: a new record in the domain (admins).
pub async fn add_record(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut page = domain_page(&ui, &p.viewer, &id, &p.form)
        .await
        .or_page(&nav)?;
    let domain = page.domain.id.to_string();
    let mut f = Parse::new(&p.form);
    let name = f.text("name");
    let rrtype = f.text("rrtype").unwrap_or_default().to_uppercase();
    let rrdata = f.text("rrdata");
    let done = if rrtype == "A" || rrtype == "AAAA" {
        let ttl = f.ttl("ttl", 0, RECORD_TTL_MAX);
        let ttl_errs = f.errs.remove("ttl");
        if let Some(e) = ttl_errs {
            f.errs.insert("address_ttl".into(), e);
        }
        let ip = rrdata.filter(|d| !d.is_empty());
        let kind_ok = match ip.as_deref().map(maas_model::net::parse_ip) {
            Some(Ok(a)) if a.is_ipv4() != (rrtype == "A") => {
                f.add(
                    "ip_addresses",
                    format!(
                        "{rrtype} records hold IPv{} addresses.",
                        if rrtype == "A" { 4 } else { 6 }
                    ),
                );
                false
            }
            _ => true,
        };
        if kind_ok {
            add_address(&ui, &p.viewer, &domain, name, ip, ttl, f).await
        } else {
            Err(Error::Validation(f.errs))
        }
    } else {
        let r = RecordRequest {
            name: Some(name.unwrap_or_default()),
            domain: Some(domain.clone()),
            rrtype: Some(rrtype),
            rrdata,
            ttl: f.ttl("ttl", 0, RECORD_TTL_MAX),
            ..Default::default()
        };
        let mut errs = f.errs;
        if r.name.as_deref() == Some("") {
            errs.entry("name".into())
                .or_default()
                .push(crate::ui::netform::REQUIRED.into());
        }
        records::create(&ui, r, errs).await.map(|_| ())
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/MAAS/r/domain/{domain}#records")).into_response()),
        Err(e) => {
            // The data's checks (and a CNAME's conflicts) are the API's
            // `__all__`: shown beside the data.
            let aliases = [
                ("ip_addresses", "rrdata"),
                ("address_ttl", "ttl"),
                ("__all__", "rrdata"),
            ];
            page.errors = place_errors(e, &mut [&mut page.fields], &aliases, &nav)?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
    }
}

/// POST: delete a record (not an address), after the confirm step.
pub async fn delete_record(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let x = records::get(&ui, id.trim()).await.or_page(&nav)?;
    let c = Confirm {
        title: format!("Delete {} record of {}", x.rrtype, x.fqdn()),
        text: format!(
            "The record {} {} {} will be deleted.",
            x.fqdn(),
            x.rrtype,
            x.rrdata
        ),
        action: format!("/MAAS/r/dnsrecord/{}/delete", x.id),
        back: format!("/MAAS/r/domain/{}#records", x.domain_id),
        hidden: vec![],
    };
    let spec = x.id.to_string();
    confirm_then(&p, c, || records::delete(&ui, &spec)).await
}

/// POST: delete one address of a DNS resource (the resource goes when
/// nothing is left in it), after the confirm step.
pub async fn delete_address(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let v = resources::get(&ui, id.trim()).await.or_page(&nav)?;
    let ip = p.form.text("ip").unwrap_or_default();
    if !v.ips.iter().any(|i| i.row.ip == ip) {
        return Err(crate::ui::error::PageError {
            nav,
            error: Error::NotFound(format!("{} has no address {ip}.", v.row.fqdn())),
        });
    }
    let c = Confirm {
        title: format!("Delete address {ip} of {}", v.row.fqdn()),
        text: format!(
            "The record {} {} {ip} will be deleted.",
            v.row.fqdn(),
            crate::services::dns::addr_type(&ip)
        ),
        action: format!("/MAAS/r/dnsresource/{}/address/delete", v.row.id),
        back: format!("/MAAS/r/domain/{}#records", v.row.domain_id),
        hidden: vec![("ip".into(), ip.clone())],
    };
    let rest: Vec<String> = v
        .ips
        .iter()
        .map(|i| i.row.ip.clone())
        .filter(|i| *i != ip)
        .collect();
    let spec = v.row.id.to_string();
    let nothing_left = rest.is_empty() && v.records.is_empty();
    let user = p.viewer.user.clone();
    confirm_then(&p, c, || async {
        if nothing_left {
            resources::delete(&ui, &spec).await
        } else {
            let r = ResourceRequest {
                ip_addresses: Some(rest.join(" ")),
                ..Default::default()
            };
            resources::update(&ui, &user, &spec, r, Default::default())
                .await
                .map(|_| ())
        }
    })
    .await
}
