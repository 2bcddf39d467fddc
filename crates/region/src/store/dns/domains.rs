//! DNS domains: the default (`maas` at first) and any others.

use crate::error::Result;
use crate::store::{Conn, Executor};

/// A domain with the number of resource records its DNS resources hold
/// (their addresses and other data; machines' addresses are not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: i64,
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
    pub is_default: bool,
    pub resource_record_count: i64,
}

type Tuple = (i64, String, Option<i32>, bool, bool, i64);

fn domain((id, name, ttl, authoritative, is_default, resource_record_count): Tuple) -> Domain {
    Domain {
        id,
        name,
        ttl,
        authoritative,
        is_default,
        resource_record_count,
    }
}

macro_rules! columns {
    () => {
        "SELECT d.id, d.name, d.ttl, d.authoritative, d.is_default,
                (SELECT count(*) FROM dnsresource_ips a JOIN dnsresources r ON r.id = a.dnsresource_id
                  WHERE r.domain_id = d.id)
              + (SELECT count(*) FROM dnsdata x JOIN dnsresources r ON r.id = x.dnsresource_id
                  WHERE r.domain_id = d.id)
           FROM domains d"
    };
}

/// Every domain, by id.
pub async fn list<'e>(e: impl Executor<'e>) -> Result<Vec<Domain>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(columns!(), " ORDER BY d.id"))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(domain).collect())
}

/// One domain, if it exists.
pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Domain>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns!(), " WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(domain))
}

/// One domain by name, if it exists.
pub async fn by_name<'e>(e: impl Executor<'e>, name: &str) -> Result<Option<Domain>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns!(), " WHERE d.name = $1"))
        .bind(name)
        .fetch_optional(e)
        .await?;
    Ok(r.map(domain))
}

/// The default domain's id (new machines go there).
pub async fn default_id(c: &mut Conn) -> Result<i64> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM domains WHERE is_default ORDER BY id LIMIT 1")
            .fetch_optional(&mut *c)
            .await?;
    Ok(id.unwrap_or(0))
}

/// Lock the domain row for this transaction; false if it is gone.
pub async fn lock(c: &mut Conn, id: i64) -> Result<bool> {
    let r: Option<i64> = sqlx::query_scalar("SELECT id FROM domains WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.is_some())
}

/// Whether another domain (not `not`) has this name.
pub async fn name_taken(c: &mut Conn, name: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1 AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// A domain's writable fields.
#[derive(Debug, Clone)]
pub struct DomainFields {
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
}

pub async fn insert(c: &mut Conn, f: &DomainFields) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO domains (name, ttl, authoritative) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&f.name)
    .bind(f.ttl)
    .bind(f.authoritative)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(c: &mut Conn, id: i64, f: &DomainFields) -> Result<()> {
    sqlx::query("UPDATE domains SET name = $2, ttl = $3, authoritative = $4 WHERE id = $1")
        .bind(id)
        .bind(&f.name)
        .bind(f.ttl)
        .bind(f.authoritative)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// What still points at the domain: (nodes — machines and devices — and
/// DNS resources).
pub async fn users(c: &mut Conn, id: i64) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM machines WHERE domain_id = $1)
              + (SELECT count(*) FROM devices WHERE domain_id = $1),
                (SELECT count(*) FROM dnsresources WHERE domain_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM domains WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Make `id` the one default domain; machines of the previous default not
/// in one of the `keep` statuses move with it.
pub async fn set_default(c: &mut Conn, id: i64, keep: &[i16]) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET domain_id = $1, updated = now()
          WHERE domain_id IN (SELECT id FROM domains WHERE is_default AND id <> $1)
            AND NOT (status = ANY($2))",
    )
    .bind(id)
    .bind(keep)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE domains SET is_default = false WHERE is_default AND id <> $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE domains SET is_default = true WHERE id = $1 AND NOT is_default")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The serial the next zone change uses.
pub async fn set_serial(c: &mut Conn, serial: i64) -> Result<()> {
    sqlx::query("SELECT setval('dns_zone_serial', $1, false)")
        .bind(serial)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The current SOA serial.
pub async fn serial(c: &mut Conn) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT last_value FROM dns_zone_serial")
        .fetch_one(&mut *c)
        .await?)
}

/// A new or renamed domain `sub.parent` takes over the resource named `sub`
/// of the domain `parent` as its apex (`@`), unless it has an apex already.
pub async fn adopt_apex(c: &mut Conn, id: i64, name: &str) -> Result<()> {
    let Some((label, parent)) = name.split_once('.') else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE dnsresources r SET name = '@', domain_id = $1, updated = now()
          FROM domains p
         WHERE p.name = $3 AND r.domain_id = p.id AND r.name = $2
           AND NOT EXISTS (SELECT 1 FROM dnsresources a WHERE a.domain_id = $1 AND a.name = '@')",
    )
    .bind(id)
    .bind(label)
    .bind(parent)
    .execute(&mut *c)
    .await?;
    Ok(())
}
