//! SQL of the network model: fabrics, VLANs, subnets, IP ranges, reserved
//! IPs, spaces, and the interfaces racks report. This module also holds the
//! one set of lookups by specifier (`fabric_by_spec`, `space_by_spec`,
//! `subnet_by_spec`, `rack_by_spec`, …) that every caller resolving a
//! network object named by a client uses.

pub mod fabrics;
pub mod placement;
pub mod rack_ifaces;
pub mod ranges;
pub mod spaces;
pub mod subnets;
pub mod used;
pub mod vlans;

use std::net::IpAddr;

use maas_model::net::{self, Cidr};

use crate::error::Result;
use crate::store::Conn;

/// Advisory lock (transaction-scoped) serialising changes that create
/// fabrics, VLANs and subnets implicitly.
const NETWORK_LOCK: i64 = 0x6d61_6173_0101;

/// Take the network-model lock for this transaction.
pub async fn lock(c: &mut Conn) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(NETWORK_LOCK)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Create a fabric (named `fabric-<id>` unless a name is given) and its
/// default untagged VLAN (vid 0). Returns (fabric id, VLAN id).
pub async fn create_fabric(
    c: &mut Conn,
    name: Option<&str>,
    class_type: Option<&str>,
) -> Result<(i64, i64)> {
    let (id, name) = loop {
        let id: i64 = sqlx::query_scalar("SELECT nextval('fabrics_id_seq')")
            .fetch_one(&mut *c)
            .await?;
        if let Some(n) = name {
            break (id, n.to_string());
        }
        let n = format!("fabric-{id}");
        let taken: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM fabrics WHERE name = $1)")
                .bind(&n)
                .fetch_one(&mut *c)
                .await?;
        if !taken {
            break (id, n);
        }
    };
    sqlx::query("INSERT INTO fabrics (id, name, class_type) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(&name)
        .bind(class_type)
        .execute(&mut *c)
        .await?;
    let vlan: i64 = sqlx::query_scalar(
        "INSERT INTO vlans (fabric_id, vid, name) VALUES ($1, 0, 'untagged') RETURNING id",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    Ok((id, vlan))
}

/// The VLAN of the subnet with exactly this CIDR.
pub async fn subnet_vlan_by_cidr(c: &mut Conn, cidr: &Cidr) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT vlan_id FROM subnets WHERE cidr = $1::cidr")
            .bind(cidr.to_string())
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// The VLAN with `vid` on `fabric`, created if missing.
pub async fn vlan_on_fabric(c: &mut Conn, fabric: i64, vid: i32) -> Result<i64> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2")
            .bind(fabric)
            .bind(vid)
            .fetch_optional(&mut *c)
            .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    Ok(
        sqlx::query_scalar("INSERT INTO vlans (fabric_id, vid) VALUES ($1, $2) RETURNING id")
            .bind(fabric)
            .bind(vid)
            .fetch_one(&mut *c)
            .await?,
    )
}

pub async fn vlan_exists(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM vlans WHERE id = $1)")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// The fabric a VLAN is on.
pub async fn vlan_fabric(c: &mut Conn, vlan: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT fabric_id FROM vlans WHERE id = $1")
            .bind(vlan)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// A subnet named after its CIDR on `vlan` (how discovered subnets are made).
pub async fn insert_discovered_subnet(c: &mut Conn, cidr: &Cidr, vlan: i64) -> Result<()> {
    sqlx::query("INSERT INTO subnets (name, cidr, vlan_id) VALUES ($1, $1::cidr, $2)")
        .bind(cidr.to_string())
        .bind(vlan)
        .execute(&mut *c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Lookups by specifier: how clients name objects in URLs and parameters.

/// `12` or `id:12` is an id (`id:` followed by anything else matches
/// nothing); `name:lab` or any other text is a name.
fn id_or_name(spec: &str) -> (Option<i64>, Option<&str>) {
    let s = spec.trim();
    if let Some(n) = s.strip_prefix("name:") {
        (None, Some(n))
    } else if let Some(i) = s.strip_prefix("id:") {
        (Some(i.trim().parse().unwrap_or(-1)), None)
    } else if let Ok(i) = s.parse::<i64>() {
        (Some(i), None)
    } else {
        (None, Some(s))
    }
}

/// A fabric by id or name.
pub async fn fabric_by_spec(c: &mut Conn, spec: &str) -> Result<Option<i64>> {
    let (id, name) = id_or_name(spec);
    Ok(
        sqlx::query_scalar("SELECT id FROM fabrics WHERE id = $1 OR name = $2 ORDER BY id LIMIT 1")
            .bind(id)
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A space by id or name.
pub async fn space_by_spec(c: &mut Conn, spec: &str) -> Result<Option<i64>> {
    let (id, name) = id_or_name(spec);
    Ok(
        sqlx::query_scalar("SELECT id FROM spaces WHERE id = $1 OR name = $2 ORDER BY id LIMIT 1")
            .bind(id)
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A rack by system_id (or hostname, as MAAS's node fields accept); a
/// system_id match wins.
pub async fn rack_by_spec(c: &mut Conn, spec: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM racks WHERE system_id = $1 OR hostname = $1 ORDER BY system_id <> $1, id LIMIT 1",
    )
    .bind(spec.trim())
    .fetch_optional(&mut *c)
    .await?)
}

/// The most specific subnet containing `ip`.
pub async fn subnet_containing(c: &mut Conn, ip: &IpAddr) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM subnets WHERE cidr >>= $1::inet ORDER BY masklen(cidr) DESC, id LIMIT 1",
    )
    .bind(ip.to_string())
    .fetch_optional(&mut *c)
    .await?)
}

/// A subnet by id, CIDR (`10.0.0.0/24` or `cidr:10.0.0.0/24`), `name:…` or
/// `ip:…` (the most specific subnet holding the address), as MAAS accepts.
pub async fn subnet_by_spec(c: &mut Conn, spec: &str) -> Result<Option<i64>> {
    let s = spec.trim();
    if let Ok(id) = s.parse::<i64>() {
        return Ok(sqlx::query_scalar("SELECT id FROM subnets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?);
    }
    if let Some(i) = s.strip_prefix("id:") {
        return Box::pin(subnet_by_spec(c, i)).await;
    }
    if let Some(n) = s.strip_prefix("name:") {
        return Ok(sqlx::query_scalar(
            "SELECT id FROM subnets WHERE name = $1 ORDER BY id LIMIT 1",
        )
        .bind(n)
        .fetch_optional(&mut *c)
        .await?);
    }
    if let Some(a) = s.strip_prefix("ip:") {
        return match net::parse_ip(a) {
            Ok(ip) => subnet_containing(c, &ip).await,
            Err(_) => Ok(None),
        };
    }
    let cidr_text = s.strip_prefix("cidr:").unwrap_or(s);
    match Cidr::parse(cidr_text) {
        Ok(cidr) => Ok(
            sqlx::query_scalar("SELECT id FROM subnets WHERE cidr = $1::cidr")
                .bind(cidr.to_string())
                .fetch_optional(&mut *c)
                .await?,
        ),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::id_or_name;

    #[test]
    fn specs_are_ids_or_names() {
        assert_eq!(id_or_name("12"), (Some(12), None));
        assert_eq!(id_or_name(" id:7 "), (Some(7), None));
        assert_eq!(id_or_name("id:x"), (Some(-1), None));
        assert_eq!(id_or_name("name:12"), (None, Some("12")));
        assert_eq!(id_or_name("lab"), (None, Some("lab")));
        assert_eq!(id_or_name(" lab "), (None, Some("lab")));
    }
}
