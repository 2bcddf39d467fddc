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

/// Whether a VLAN with this id exists.
pub async fn vlan_exists(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM vlans WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}
