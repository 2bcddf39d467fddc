//! Rows that requests name: zones, resource pools and domains, by name (or
//! id where MAAS accepts either).

use crate::error::Result;
use crate::store::Conn;

pub async fn zone_id(c: &mut Conn, name: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM zones WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await?)
}

/// A resource pool by name or id.
pub async fn pool_id(c: &mut Conn, name_or_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM resource_pools WHERE name = $1 OR id = $2")
            .bind(name_or_id)
            .bind(name_or_id.parse::<i64>().ok())
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A domain by name or id.
pub async fn domain_id(c: &mut Conn, name_or_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM domains WHERE name = $1 OR id = $2")
            .bind(name_or_id)
            .bind(name_or_id.parse::<i64>().ok())
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Whether a node in `domain` other than machine `except_machine` and device
/// `except_device` has this hostname: machines and devices share hostnames.
pub async fn hostname_taken(
    c: &mut Conn,
    hostname: &str,
    domain: i64,
    except_machine: i64,
    except_device: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM machines WHERE hostname = $1 AND domain_id = $2 AND id <> $3)
             OR EXISTS (SELECT 1 FROM devices WHERE hostname = $1 AND domain_id = $2 AND id <> $4)",
    )
    .bind(hostname)
    .bind(domain)
    .bind(except_machine)
    .bind(except_device)
    .fetch_one(&mut *c)
    .await?)
}
