//! IP ranges and reserved IPs: the addresses of a subnet set aside.

use std::net::IpAddr;

use maas_model::net::RangeType;
use sqlx::Row;

use crate::error::Result;
use crate::store::Conn;

// ---------------------------------------------------------------------------
// IP ranges

/// An IP range as it is shown, with the name of the user who made it.
#[derive(Debug, Clone)]
pub struct IpRangeRow {
    pub id: i64,
    pub kind: String,
    pub start_ip: String,
    pub end_ip: String,
    pub comment: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub is_superuser: Option<bool>,
    pub is_local: Option<bool>,
    pub subnet_id: i64,
}

/// Every IP range (or the one with `id`), by id.
pub async fn list(c: &mut Conn, id: Option<i64>) -> Result<Vec<IpRangeRow>> {
    let rows = sqlx::query(
        "SELECT r.id, r.type, host(r.start_ip) AS start_ip, host(r.end_ip) AS end_ip,
                r.comment, u.username, u.email, u.is_superuser, u.is_local, r.subnet_id
           FROM ipranges r LEFT JOIN users u ON u.id = r.user_id
          WHERE ($1::int8 IS NULL OR r.id = $1)
          ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| IpRangeRow {
            id: r.get("id"),
            kind: r.get("type"),
            start_ip: r.get("start_ip"),
            end_ip: r.get("end_ip"),
            comment: r.get("comment"),
            username: r.get("username"),
            email: r.get("email"),
            is_superuser: r.get("is_superuser"),
            is_local: r.get("is_local"),
            subnet_id: r.get("subnet_id"),
        })
        .collect())
}

/// A range's type and bounds (`host()` text).
#[derive(Debug, Clone)]
pub struct Span {
    pub kind: String,
    pub start_ip: String,
    pub end_ip: String,
}

/// The ranges of a subnet, leaving out `without`.
pub async fn of_subnet(c: &mut Conn, subnet: i64, without: Option<i64>) -> Result<Vec<Span>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT type, host(start_ip), host(end_ip) FROM ipranges
          WHERE subnet_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(subnet)
    .bind(without)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, start_ip, end_ip)| Span {
            kind,
            start_ip,
            end_ip,
        })
        .collect())
}

/// The subnet of the range, if the range exists.
pub async fn subnet_of(c: &mut Conn, id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT subnet_id FROM ipranges WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A range as an update starts from.
#[derive(Debug, Clone)]
pub struct RangeState {
    pub span: Span,
    pub comment: String,
    /// The VLAN of its subnet.
    pub vlan_id: i64,
}

/// The range, locked for this transaction, if it exists.
pub async fn lock(c: &mut Conn, id: i64) -> Result<Option<RangeState>> {
    let r = sqlx::query(
        "SELECT r.type, host(r.start_ip), host(r.end_ip), r.comment, s.vlan_id
           FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
          WHERE r.id = $1 FOR UPDATE OF r",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(|r| RangeState {
        span: Span {
            kind: r.get(0),
            start_ip: r.get(1),
            end_ip: r.get(2),
        },
        comment: r.get(3),
        vlan_id: r.get(4),
    }))
}

/// What a range is written with.
pub struct RangeValues<'a> {
    pub kind: RangeType,
    pub start: IpAddr,
    pub end: IpAddr,
    pub comment: &'a str,
}

pub async fn insert(c: &mut Conn, subnet: i64, user_id: i64, v: &RangeValues<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO ipranges (subnet_id, type, start_ip, end_ip, comment, user_id)
         VALUES ($1, $2, $3::inet, $4::inet, $5, $6) RETURNING id",
    )
    .bind(subnet)
    .bind(v.kind.as_str())
    .bind(v.start.to_string())
    .bind(v.end.to_string())
    .bind(v.comment)
    .bind(user_id)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(c: &mut Conn, id: i64, v: &RangeValues<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE ipranges SET type = $2, start_ip = $3::inet, end_ip = $4::inet, comment = $5
          WHERE id = $1",
    )
    .bind(id)
    .bind(v.kind.as_str())
    .bind(v.start.to_string())
    .bind(v.end.to_string())
    .bind(v.comment)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM ipranges WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Reserved IPs

/// A reserved IP (`host(ip)` text).
#[derive(Debug, Clone)]
pub struct ReservedIpRow {
    pub id: i64,
    pub ip: String,
    pub mac_address: String,
    pub comment: String,
    pub subnet_id: i64,
}

/// Every reserved IP (or the one with `id`), by id.
pub async fn reserved_list(c: &mut Conn, id: Option<i64>) -> Result<Vec<ReservedIpRow>> {
    let rows = sqlx::query(
        "SELECT id, host(ip) AS ip, mac_address, comment, subnet_id FROM reserved_ips
          WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ReservedIpRow {
            id: r.get("id"),
            ip: r.get("ip"),
            mac_address: r.get("mac_address"),
            comment: r.get("comment"),
            subnet_id: r.get("subnet_id"),
        })
        .collect())
}

/// The reserved IP with this id, if any.
pub async fn reserved_get(c: &mut Conn, id: i64) -> Result<Option<ReservedIpRow>> {
    Ok(reserved_list(c, Some(id)).await?.pop())
}

/// Lock the reserved IP for this transaction.
pub async fn reserved_lock(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM reserved_ips WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The reserved addresses of a subnet (`host(ip)`), leaving out `without`.
pub async fn reserved_of_subnet(
    c: &mut Conn,
    subnet: i64,
    without: Option<i64>,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT host(ip) FROM reserved_ips WHERE subnet_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(subnet)
    .bind(without)
    .fetch_all(&mut *c)
    .await?)
}

/// Whether another reserved IP (not `without`) has this address.
pub async fn reserved_ip_taken(c: &mut Conn, ip: &IpAddr, without: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reserved_ips WHERE ip = $1::inet AND id IS DISTINCT FROM $2)",
    )
    .bind(ip.to_string())
    .bind(without)
    .fetch_one(&mut *c)
    .await?)
}

/// Another reserved IP (not `without`) of `mac` in the family of `ip` on the
/// VLAN of `subnet`, if there is one.
pub async fn reserved_for_mac_on_vlan(
    c: &mut Conn,
    mac: &str,
    without: Option<i64>,
    ip: &IpAddr,
    subnet: i64,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT host(r.ip) FROM reserved_ips r JOIN subnets s ON s.id = r.subnet_id
          WHERE r.mac_address = $1 AND r.id IS DISTINCT FROM $2
            AND family(r.ip) = family($3::inet)
            AND s.vlan_id = (SELECT vlan_id FROM subnets WHERE id = $4)
          LIMIT 1",
    )
    .bind(mac)
    .bind(without)
    .bind(ip.to_string())
    .bind(subnet)
    .fetch_optional(&mut *c)
    .await?)
}

/// What a reserved IP is written with.
pub struct ReservedValues<'a> {
    pub subnet_id: i64,
    pub ip: IpAddr,
    pub mac: &'a str,
    pub comment: &'a str,
}

pub async fn reserved_insert(c: &mut Conn, v: &ReservedValues<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO reserved_ips (subnet_id, ip, mac_address, comment)
         VALUES ($1, $2::inet, $3, $4) RETURNING id",
    )
    .bind(v.subnet_id)
    .bind(v.ip.to_string())
    .bind(v.mac)
    .bind(v.comment)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn reserved_update(c: &mut Conn, id: i64, v: &ReservedValues<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE reserved_ips SET subnet_id = $2, ip = $3::inet, mac_address = $4, comment = $5
          WHERE id = $1",
    )
    .bind(id)
    .bind(v.subnet_id)
    .bind(v.ip.to_string())
    .bind(v.mac)
    .bind(v.comment)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Delete the reserved IP; false if there was none.
pub async fn reserved_delete(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM reserved_ips WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?
        .rows_affected()
        > 0)
}
