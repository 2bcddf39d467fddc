//! Devices (non-deployable nodes): rows, their interfaces and links (the
//! machine interface shape), writes.

use serde_json::Value;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::error::{Error, Result};
use crate::store::Conn;
use crate::store::machines::related::{
    IFACE_COLS, IFACE_FROM, IfaceRow, LINK_COLS, LINK_FROM, LinkRow,
};

/// A device row with its parent's system id.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub domain_id: i64,
    pub description: String,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub parent_id: Option<i64>,
    pub parent: Option<String>,
    pub owner_data: String,
}

const COLS: &str = "SELECT d.id, d.system_id, d.hostname, d.domain_id, d.description, d.owner_id,
    d.zone_id, d.parent_id, p.system_id AS parent, d.owner_data::text AS owner_data
  FROM devices d LEFT JOIN machines p ON p.id = d.parent_id";

fn row(r: &sqlx::postgres::PgRow) -> Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.try_get(0)?,
        system_id: r.try_get(1)?,
        hostname: r.try_get(2)?,
        domain_id: r.try_get(3)?,
        description: r.try_get(4)?,
        owner_id: r.try_get(5)?,
        zone_id: r.try_get(6)?,
        parent_id: r.try_get(7)?,
        parent: r.try_get(8)?,
        owner_data: r.try_get(9)?,
    })
}

/// What a listing filters on (MAAS's node filters); empty = any.
#[derive(Debug, Default, Clone)]
pub struct DeviceFilter {
    pub ids: Vec<String>,
    pub hostnames: Vec<String>,
    pub macs: Vec<String>,
    pub domains: Vec<String>,
    pub zone: Option<String>,
    /// Only devices this user owns (non-admins).
    pub owner: Option<i64>,
    /// A filter no device can match (a pool, an agent name).
    pub none: bool,
}

pub async fn list(c: &mut Conn, f: &DeviceFilter) -> Result<Vec<DeviceRow>> {
    if f.none {
        return Ok(vec![]);
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(COLS);
    q.push(" WHERE true");
    if !f.ids.is_empty() {
        q.push(" AND d.system_id = ANY(")
            .push_bind(f.ids.clone())
            .push(")");
    }
    if !f.hostnames.is_empty() {
        q.push(" AND d.hostname = ANY(")
            .push_bind(f.hostnames.clone())
            .push(")");
    }
    if !f.macs.is_empty() {
        q.push(" AND EXISTS (SELECT 1 FROM interfaces i WHERE i.device_id = d.id AND i.mac_address = ANY(")
            .push_bind(f.macs.clone())
            .push("))");
    }
    if !f.domains.is_empty() {
        q.push(" AND d.domain_id IN (SELECT id FROM domains WHERE name = ANY(")
            .push_bind(f.domains.clone())
            .push("))");
    }
    if let Some(z) = &f.zone {
        q.push(" AND d.zone_id IN (SELECT id FROM zones WHERE name = ")
            .push_bind(z.clone())
            .push(")");
    }
    if let Some(o) = f.owner {
        q.push(" AND d.owner_id = ").push_bind(o);
    }
    q.push(" ORDER BY d.id");
    let rows = q.build().fetch_all(&mut *c).await?;
    rows.iter().map(row).collect()
}

pub async fn get(c: &mut Conn, system_id: &str) -> Result<Option<DeviceRow>> {
    let q = format!("{COLS} WHERE d.system_id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(system_id)
        .fetch_optional(&mut *c)
        .await?;
    r.as_ref().map(row).transpose()
}

/// The device, locked for an update in this transaction.
pub async fn lock(c: &mut Conn, system_id: &str) -> Result<Option<DeviceRow>> {
    let q = format!("{COLS} WHERE d.system_id = $1 FOR UPDATE OF d");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(system_id)
        .fetch_optional(&mut *c)
        .await?;
    r.as_ref().map(row).transpose()
}

/// A machine's id and domain by system id (a device's parent).
pub async fn machine(c: &mut Conn, system_id: &str) -> Result<Option<(i64, i64)>> {
    Ok(
        sqlx::query_as("SELECT id, domain_id FROM machines WHERE system_id = $1")
            .bind(system_id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

pub struct NewDevice<'a> {
    pub system_id: &'a str,
    pub hostname: &'a str,
    pub domain_id: i64,
    pub description: &'a str,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub parent_id: Option<i64>,
}

/// Insert a device; `None` if its system id is taken by any node.
pub async fn insert(c: &mut Conn, d: &NewDevice<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO devices (system_id, hostname, domain_id, description, owner_id, zone_id, parent_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (system_id) DO NOTHING RETURNING id",
    )
    .bind(d.system_id)
    .bind(d.hostname)
    .bind(d.domain_id)
    .bind(d.description)
    .bind(d.owner_id)
    .bind(d.zone_id)
    .bind(d.parent_id)
    .fetch_optional(&mut *c)
    .await?)
}

/// A physical interface on a device (the first one is its boot interface).
pub async fn insert_interface(
    c: &mut Conn,
    device_id: i64,
    name: &str,
    mac: &str,
    vlan_id: Option<i64>,
    tags: &[String],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO interfaces (device_id, name, mac_address, vlan_id, tags, is_boot)
         VALUES ($1, $2, $3, $4, $5,
                 NOT EXISTS (SELECT 1 FROM interfaces WHERE device_id = $1))",
    )
    .bind(device_id)
    .bind(name)
    .bind(mac)
    .bind(vlan_id)
    .bind(tags)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The names of a device's interfaces.
pub async fn interface_names(c: &mut Conn, device_id: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM interfaces WHERE device_id = $1")
            .bind(device_id)
            .fetch_all(&mut *c)
            .await?,
    )
}

/// Fields to change (None: unchanged).
#[derive(Debug, Default)]
pub struct DeviceUpdate {
    pub hostname: Option<String>,
    pub domain_id: Option<i64>,
    pub description: Option<String>,
    pub zone_id: Option<i64>,
    /// `Some(None)`: no parent any more.
    pub parent_id: Option<Option<i64>>,
}

pub async fn update(c: &mut Conn, id: i64, u: &DeviceUpdate) -> Result<()> {
    sqlx::query(
        "UPDATE devices SET hostname = coalesce($2, hostname), domain_id = coalesce($3, domain_id),
             description = coalesce($4, description), zone_id = coalesce($5, zone_id),
             parent_id = CASE WHEN $7 THEN $6 ELSE parent_id END
         WHERE id = $1",
    )
    .bind(id)
    .bind(u.hostname.as_deref())
    .bind(u.domain_id)
    .bind(u.description.as_deref())
    .bind(u.zone_id)
    .bind(u.parent_id.flatten())
    .bind(u.parent_id.is_some())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM devices WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn set_owner_data(c: &mut Conn, id: i64, data: Value) -> Result<()> {
    sqlx::query("UPDATE devices SET owner_data = $2 WHERE id = $1")
        .bind(id)
        .bind(data)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Remove every link of the device's interfaces (back to no addresses).
pub async fn clear_links(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM interface_links WHERE interface_id IN
           (SELECT id FROM interfaces WHERE device_id = $1)",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Move devices (by system id) to a zone; how many moved.
pub async fn set_zone(c: &mut Conn, zone_id: i64, system_ids: &[String]) -> Result<u64> {
    Ok(
        sqlx::query("UPDATE devices SET zone_id = $1 WHERE system_id = ANY($2)")
            .bind(zone_id)
            .bind(system_ids)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}

static IFACES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let cols = IFACE_COLS.replace("i.machine_id", "i.device_id");
    format!(
        "SELECT json_build_array({cols})::text {IFACE_FROM} WHERE i.device_id = ANY($1) ORDER BY i.id"
    )
});
static LINKS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT i.device_id, json_build_array({LINK_COLS})::text {LINK_FROM}
          WHERE i.device_id = ANY($1) ORDER BY l.id"
    )
});

/// The interfaces (with the device id in the machine id column) and links,
/// with each link's device id, of devices `ids`.
pub async fn related(c: &mut Conn, ids: &[i64]) -> Result<(Vec<IfaceRow>, Vec<(i64, LinkRow)>)> {
    let ifaces: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(IFACES.as_str()))
        .bind(ids)
        .fetch_all(&mut *c)
        .await?;
    let links: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(LINKS.as_str()))
        .bind(ids)
        .fetch_all(&mut *c)
        .await?;
    let ifaces = ifaces
        .iter()
        .map(|t| parse::<IfaceRow>(t))
        .collect::<Result<Vec<IfaceRow>>>()?;
    let links = links
        .iter()
        .map(|(d, t)| Ok((*d, parse::<LinkRow>(t)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok((ifaces, links))
}

fn parse<T: serde::de::DeserializeOwned>(t: &str) -> Result<T> {
    serde_json::from_str(t).map_err(|e| Error::Internal(e.into()))
}

/// One interface of a device: (id, name, mac, vlan), locked.
pub type DeviceIface = (i64, String, String, Option<i64>);

pub async fn interface(c: &mut Conn, device_id: i64, id: i64) -> Result<Option<DeviceIface>> {
    Ok(sqlx::query_as(
        "SELECT id, name, mac_address, vlan_id FROM interfaces
          WHERE id = $1 AND device_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(device_id)
    .fetch_optional(&mut *c)
    .await?)
}

/// Write an interface's name, MAC and VLAN.
pub async fn update_interface(c: &mut Conn, i: &DeviceIface) -> Result<()> {
    sqlx::query("UPDATE interfaces SET name = $2, mac_address = $3, vlan_id = $4 WHERE id = $1")
        .bind(i.0)
        .bind(&i.1)
        .bind(&i.2)
        .bind(i.3)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn delete_interface(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM interfaces WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
