//! DNS resources: a name in a domain with static addresses (A/AAAA) and
//! other records; listing can add machines' implicit address records.

use std::collections::BTreeSet;

use maas_model::constraints::FieldErrors;
use maas_model::dns::{self as rules, CNAME_PRESENT, LABEL_TAKEN};
use maas_model::net;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::dns::{add, addr_type, finish, not_found, resolve_domain};
use crate::services::network::read;
use crate::store::dns::domains::{self as domain_db, Domain};
use crate::store::dns::records::{self as data_db, DataFilter, DataRow};
use crate::store::dns::resources::{
    self as db, IpRow, MachineAddress, NewIp, ResourceFilter, ResourceRow,
};
use crate::store::networks::subnet_containing;
use crate::store::{self, Conn};

/// A static address with its subnet as `subnets/` renders it.
#[derive(Debug, Clone)]
pub struct IpView {
    pub row: IpRow,
    pub subnet: Option<Value>,
}

/// A DNS resource with its addresses and records.
#[derive(Debug, Clone)]
pub struct ResourceView {
    pub row: ResourceRow,
    pub ips: Vec<IpView>,
    pub records: Vec<DataRow>,
}

/// An implicit record: a machine's address under its hostname.
#[derive(Debug, Clone)]
pub struct ImplicitRecord {
    pub system_id: String,
    pub node_type: i16,
    pub rrtype: &'static str,
    pub rrdata: String,
}

/// What `dnsresources/` lists: stored resources and (with `all`) machines'
/// names with their implicit address records.
#[derive(Debug, Clone)]
pub enum Listed {
    Resource(Box<ResourceView>),
    Implicit {
        fqdn: String,
        records: Vec<ImplicitRecord>,
    },
}

/// The listing's filters as given.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub fqdn: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
    /// Upper-cased.
    pub rrtype: Option<String>,
    pub all: bool,
}

/// Split `fqdn` into (name, domain): the apex of a domain of that name,
/// else the first label(s) and the rest.
pub(crate) async fn separate_fqdn(
    c: &mut Conn,
    fqdn: &str,
    rrtype: Option<&str>,
) -> Result<Option<(String, String)>> {
    if rules::SPECIAL_NAMES.contains(&fqdn) {
        return Ok(None);
    }
    if domain_db::by_name(&mut *c, fqdn).await?.is_some() {
        return Ok(Some(("@".into(), fqdn.to_string())));
    }
    Ok(rules::split_fqdn(fqdn, rrtype))
}

/// Complete resource rows with their addresses and records.
async fn views(c: &mut Conn, rows: Vec<ResourceRow>) -> Result<Vec<ResourceView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let ips = db::ips(c, &ids).await?;
    let subnet_ids: BTreeSet<i64> = ips.iter().filter_map(|i| i.subnet_id).collect();
    let subnet_ids: Vec<i64> = subnet_ids.into_iter().collect();
    let subnets: Vec<(i64, Value)> = if subnet_ids.is_empty() {
        vec![]
    } else {
        let vals = read::subnets(c, Some(&subnet_ids), None).await?;
        vals.into_iter()
            .filter_map(|v| v.get("id").and_then(Value::as_i64).map(|id| (id, v)))
            .collect()
    };
    let data = data_db::list(
        c,
        &DataFilter {
            resource_ids: Some(ids),
            ..Default::default()
        },
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let ips = ips
                .iter()
                .filter(|i| i.dnsresource_id == row.id)
                .map(|i| IpView {
                    row: i.clone(),
                    subnet: i.subnet_id.and_then(|s| {
                        subnets
                            .iter()
                            .find(|(id, _)| *id == s)
                            .map(|(_, v)| v.clone())
                    }),
                })
                .collect();
            let mut records: Vec<DataRow> = data
                .iter()
                .filter(|x| x.dnsresource_id == row.id)
                .cloned()
                .collect();
            records.sort_by(|a, b| a.rrtype.cmp(&b.rrtype).then(a.id.cmp(&b.id)));
            ResourceView { row, ips, records }
        })
        .collect())
}

/// Machines' names in `domain` with their address records, filtered.
fn implicit(
    addrs: &[MachineAddress],
    domain: &Domain,
    name: Option<&str>,
    rrtype: Option<&str>,
) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    let mut last: Option<&str> = None;
    for a in addrs.iter().filter(|a| a.domain_id == domain.id) {
        if name.is_some_and(|n| n != a.hostname) {
            continue;
        }
        let t = addr_type(&a.ip);
        if rrtype.is_some_and(|r| r != t) {
            continue;
        }
        let rec = ImplicitRecord {
            system_id: a.system_id.clone(),
            node_type: a.node_type,
            rrtype: t,
            rrdata: a.ip.clone(),
        };
        match (last, out.last_mut()) {
            (Some(h), Some(Listed::Implicit { records, .. })) if h == a.hostname => {
                records.push(rec)
            }
            _ => out.push(Listed::Implicit {
                fqdn: format!("{}.{}", a.hostname, domain.name),
                records: vec![rec],
            }),
        }
        last = Some(&a.hostname);
    }
    out
}

pub async fn list(ctx: &Ctx, r: ListRequest) -> Result<Vec<Listed>> {
    let mut c = store::acquire(&ctx.db).await?;
    let (mut name, mut domain) = (r.name, r.domain);
    if domain.is_none()
        && name.is_none()
        && let Some(f) = &r.fqdn
    {
        match separate_fqdn(&mut c, f, r.rrtype.as_deref()).await? {
            Some((n, d)) => (name, domain) = (Some(n), Some(d)),
            None => name = Some(f.clone()),
        }
    }
    let domain = match &domain {
        Some(d) => Some(resolve_domain(&mut c, d).await?),
        None => None,
    };
    let rows = db::list(
        &mut c,
        &ResourceFilter {
            domain_id: domain.as_ref().map(|d| d.id),
            name: name.clone(),
            rrtype: r.rrtype.clone(),
            ..Default::default()
        },
    )
    .await?;
    let views = views(&mut c, rows).await?;
    if !r.all {
        return Ok(views
            .into_iter()
            .map(|v| Listed::Resource(Box::new(v)))
            .collect());
    }
    // Each domain's implicit records come before its first resource; the
    // domains with no resources listed follow at the end.
    let domains = match domain {
        Some(d) => vec![d],
        None => domain_db::list(&mut *c).await?,
    };
    let addrs = db::machine_addresses(
        &mut c,
        domains.first().filter(|_| domains.len() == 1).map(|d| d.id),
    )
    .await?;
    let mut visited = BTreeSet::new();
    let mut out = Vec::new();
    for v in views {
        if visited.insert(v.row.domain_id)
            && let Some(d) = domains.iter().find(|d| d.id == v.row.domain_id)
        {
            out.extend(implicit(&addrs, d, name.as_deref(), r.rrtype.as_deref()));
        }
        out.push(Listed::Resource(Box::new(v)));
    }
    for d in &domains {
        if !visited.contains(&d.id) {
            out.extend(implicit(&addrs, d, name.as_deref(), r.rrtype.as_deref()));
        }
    }
    Ok(out)
}

async fn resolve(c: &mut Conn, spec: &str) -> Result<i64> {
    let id: i64 = spec.parse().map_err(|_| not_found("DNSResource"))?;
    db::lock(c, id)
        .await?
        .map(|_| id)
        .ok_or_else(|| not_found("DNSResource"))
}

async fn view(c: &mut Conn, id: i64) -> Result<ResourceView> {
    let rows = db::list(
        c,
        &ResourceFilter {
            id: Some(id),
            ..Default::default()
        },
    )
    .await?;
    views(c, rows)
        .await?
        .pop()
        .ok_or_else(|| not_found("DNSResource"))
}

pub async fn get(ctx: &Ctx, spec: &str) -> Result<ResourceView> {
    let mut c = store::acquire(&ctx.db).await?;
    let id: i64 = spec.parse().map_err(|_| not_found("DNSResource"))?;
    view(&mut c, id).await
}

/// A resource's fields as given (create or update).
#[derive(Debug, Default)]
pub struct ResourceRequest {
    pub fqdn: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
    /// `Some(None)`: clear it.
    pub address_ttl: Option<Option<i32>>,
    /// Space-separated addresses or static address ids.
    pub ip_addresses: Option<String>,
}

/// (name, domain) from `name`/`domain`, else from `fqdn`.
async fn name_and_domain(
    c: &mut Conn,
    r: &ResourceRequest,
) -> Result<(Option<String>, Option<Domain>)> {
    let (mut name, mut domain) = (r.name.clone(), r.domain.clone());
    if domain.is_none()
        && name.is_none()
        && let Some(f) = &r.fqdn
        && let Some((n, d)) = separate_fqdn(c, f, Some("A")).await?
    {
        (name, domain) = (Some(n), Some(d));
    }
    let domain = match domain.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(resolve_domain(c, d).await?),
        None => None,
    };
    Ok((name, domain))
}

/// The addresses given (ids of static addresses or IPs), each with the
/// subnet it falls in; errors go on `ip_addresses`.
async fn parse_ips(c: &mut Conn, given: &str, errs: &mut FieldErrors) -> Result<Vec<NewIp>> {
    let mut out: Vec<NewIp> = Vec::new();
    for tok in given.split_whitespace() {
        let text = if tok.bytes().all(|b| b.is_ascii_digit()) {
            match db::ip_by_id(c, tok.parse().unwrap_or(-1)).await? {
                Some(ip) => ip,
                None => {
                    add(
                        errs,
                        "ip_addresses",
                        format!(
                            "Select a valid choice. {tok} is not one of the available choices."
                        ),
                    );
                    continue;
                }
            }
        } else {
            tok.to_string()
        };
        match net::parse_ip(&text) {
            Ok(ip) => {
                let ip_text = ip.to_string();
                if !out.iter().any(|o| o.ip == ip_text) {
                    out.push(NewIp {
                        subnet_id: subnet_containing(c, &ip).await?,
                        ip: ip_text,
                    });
                }
            }
            Err(_) => add(
                errs,
                "ip_addresses",
                format!("'{tok}' is not a valid IP address."),
            ),
        }
    }
    Ok(out)
}

pub async fn create(
    ctx: &Ctx,
    user: &User,
    r: ResourceRequest,
    mut errs: FieldErrors,
) -> Result<ResourceView> {
    let mut tx = store::begin(&ctx.db).await?;
    let (name, domain) = name_and_domain(&mut tx, &r).await?;
    let name = name.filter(|n| !n.is_empty());
    if name.is_none() {
        add(&mut errs, "name", "This field is required.");
    }
    if domain.is_none() {
        add(&mut errs, "domain", "This field is required.");
    }
    let ips = match &r.ip_addresses {
        Some(given) => {
            if let Some(n) = &name
                && let Err(e) = rules::check_resource_name(n, "A")
            {
                add(&mut errs, "__all__", e);
            }
            Some(parse_ips(&mut tx, given, &mut errs).await?)
        }
        None => None,
    };
    if let (Some(n), Some(d)) = (&name, &domain)
        && db::by_name(&mut tx, d.id, n).await?.is_some()
    {
        add(&mut errs, "__all__", LABEL_TAKEN);
    }
    finish(errs)?;
    let (Some(name), Some(domain)) = (name, domain) else {
        return Err(Error::internal("checked above"));
    };
    let id = db::insert(&mut tx, &name, domain.id, r.address_ttl.flatten()).await?;
    if let Some(ips) = ips {
        db::set_ips(&mut tx, id, &ips, user.id).await?;
    }
    let v = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn update(
    ctx: &Ctx,
    user: &User,
    spec: &str,
    r: ResourceRequest,
    mut errs: FieldErrors,
) -> Result<ResourceView> {
    let mut tx = store::begin(&ctx.db).await?;
    let (name, domain) = name_and_domain(&mut tx, &r).await?;
    let id = resolve(&mut tx, spec).await?;
    let Some((cur_name, cur_domain, cur_ttl)) = db::lock(&mut tx, id).await? else {
        return Err(not_found("DNSResource"));
    };
    let name = match name {
        Some(n) if n.is_empty() => {
            add(&mut errs, "name", "This field is required.");
            cur_name.clone()
        }
        Some(n) => n,
        None => cur_name.clone(),
    };
    let domain_id = domain.map_or(cur_domain, |d| d.id);
    let ips = match &r.ip_addresses {
        Some(given) => {
            if let Err(e) = rules::check_resource_name(&name, "A") {
                add(&mut errs, "__all__", e);
            }
            let ips = parse_ips(&mut tx, given, &mut errs).await?;
            if !ips.is_empty()
                && data_db::types(&mut tx, id, None)
                    .await?
                    .iter()
                    .any(|t| t == "CNAME")
            {
                add(&mut errs, "__all__", CNAME_PRESENT);
            }
            Some(ips)
        }
        None => None,
    };
    if (name != cur_name || domain_id != cur_domain)
        && db::by_name(&mut tx, domain_id, &name).await?.is_some()
    {
        add(&mut errs, "__all__", LABEL_TAKEN);
    }
    finish(errs)?;
    let ttl = r.address_ttl.unwrap_or(cur_ttl);
    db::update(&mut tx, id, &name, domain_id, ttl).await?;
    if let Some(ips) = ips {
        db::set_ips(&mut tx, id, &ips, user.id).await?;
    }
    let v = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Delete a resource with its addresses and records.
pub async fn delete(ctx: &Ctx, spec: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    db::keep_addresses(&mut tx, id).await?;
    db::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
