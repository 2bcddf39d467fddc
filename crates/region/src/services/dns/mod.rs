//! DNS: domains, DNS resources (names with addresses), their records, and
//! a domain's full zone as the rack will serve it.

pub mod domains;
pub mod records;
pub mod resources;

use maas_model::constraints::FieldErrors;
use maas_model::dns::{Record, Zone, effective_ttl};

use crate::error::{Error, Result};
use crate::services::{Ctx, config};
use crate::store::dns::domains::{self as domain_db, Domain};
use crate::store::dns::records::{self as data_db, DataFilter};
use crate::store::dns::resources::{self as res_db, ResourceFilter};
use crate::store::{self, Conn};

pub fn not_found(what: &str) -> Error {
    Error::NotFound(format!("No {what} matches the given query."))
}

fn add(errs: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    errs.entry(field.to_string()).or_default().push(msg.into());
}

fn finish(errs: FieldErrors) -> Result<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errs))
    }
}

/// A domain named by id (all digits) or by name; 404 otherwise.
pub async fn resolve_domain(c: &mut Conn, spec: &str) -> Result<Domain> {
    let d = if !spec.is_empty() && spec.bytes().all(|b| b.is_ascii_digit()) {
        match spec.parse::<i64>() {
            Ok(id) => domain_db::by_id(&mut *c, id).await?,
            Err(_) => None,
        }
    } else {
        domain_db::by_name(&mut *c, spec).await?
    };
    d.ok_or_else(|| not_found("Domain"))
}

/// The effective default TTL (the `default_dns_ttl` setting).
async fn default_ttl(c: &mut Conn) -> Result<i64> {
    config::get_i64(&mut *c, "default_dns_ttl").await
}

/// The full content of a domain's zone: its DNS resources' addresses
/// (A/AAAA), their other records, and its machines' link addresses under
/// their hostnames; sorted by name, type, data.
pub async fn zone(ctx: &Ctx, domain_id: i64) -> Result<Zone> {
    let mut c = store::acquire(&ctx.db).await?;
    zone_in(&mut c, domain_id).await
}

pub async fn zone_in(c: &mut Conn, domain_id: i64) -> Result<Zone> {
    let d = domain_db::by_id(&mut *c, domain_id)
        .await?
        .ok_or_else(|| not_found("Domain"))?;
    let default = default_ttl(c).await?;
    let dttl = d.ttl.map(i64::from);
    let resources = res_db::list(
        c,
        &ResourceFilter {
            domain_id: Some(domain_id),
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<i64> = resources.iter().map(|r| r.id).collect();
    let mut records = Vec::new();
    for ip in res_db::ips(c, &ids).await? {
        let Some(r) = resources.iter().find(|r| r.id == ip.dnsresource_id) else {
            continue;
        };
        records.push(Record {
            name: apex(&r.name),
            rrtype: addr_type(&ip.ip).into(),
            rrdata: ip.ip,
            ttl: effective_ttl(r.address_ttl.map(i64::from), dttl, default),
        });
    }
    let data = data_db::list(
        c,
        &DataFilter {
            domain_id: Some(domain_id),
            ..Default::default()
        },
    )
    .await?;
    for x in data {
        records.push(Record {
            name: apex(&x.name),
            rrtype: x.rrtype,
            rrdata: x.rrdata,
            ttl: effective_ttl(x.ttl.map(i64::from), dttl, default),
        });
    }
    for m in res_db::machine_addresses(c, Some(domain_id)).await? {
        records.push(Record {
            name: m.hostname,
            rrtype: addr_type(&m.ip).into(),
            rrdata: m.ip,
            ttl: effective_ttl(None, dttl, default),
        });
    }
    records.sort();
    records.dedup();
    let serial = domain_db::serial(c).await?;
    Ok(Zone {
        domain_id,
        name: d.name,
        authoritative: d.authoritative,
        ttl: effective_ttl(None, dttl, default),
        serial: serial.clamp(1, u32::MAX as i64) as u32,
        records,
    })
}

fn apex(name: &str) -> String {
    if name.is_empty() {
        "@".into()
    } else {
        name.to_string()
    }
}

/// A or AAAA for an address.
pub fn addr_type(ip: &str) -> &'static str {
    if ip.contains(':') { "AAAA" } else { "A" }
}
