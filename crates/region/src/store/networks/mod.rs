//! SQL of the network model: fabrics, VLANs, subnets, IP ranges, reserved
//! IPs, spaces, and the interfaces racks report.

pub mod rack_ifaces;

use maas_model::net::Cidr;

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
