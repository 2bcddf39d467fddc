//! Subnets.

use std::net::IpAddr;

use maas_model::net::Cidr;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::Result;
use crate::store::Conn;

/// A subnet's columns; addresses as PostgreSQL writes them (`cidr::text`,
/// `host(gateway_ip)`).
#[derive(Debug, Clone)]
pub struct SubnetRow {
    pub id: i64,
    pub name: String,
    pub cidr: String,
    pub vlan_id: i64,
    pub gateway_ip: Option<String>,
    pub dns_servers: Vec<String>,
    pub managed: bool,
    pub allow_dns: bool,
    pub allow_proxy: bool,
    pub active_discovery: bool,
    pub rdns_mode: i16,
    pub description: String,
}

/// The columns `row` reads, of `subnets s`.
macro_rules! columns {
    () => {
        "SELECT s.id, s.name, s.cidr::text AS cidr, s.vlan_id,
        host(s.gateway_ip) AS gateway_ip, s.dns_servers, s.managed, s.allow_dns,
        s.allow_proxy, s.active_discovery, s.rdns_mode, s.description"
    };
}

fn row(r: &PgRow) -> SubnetRow {
    SubnetRow {
        id: r.get("id"),
        name: r.get("name"),
        cidr: r.get("cidr"),
        vlan_id: r.get("vlan_id"),
        gateway_ip: r.get("gateway_ip"),
        dns_servers: r.get("dns_servers"),
        managed: r.get("managed"),
        allow_dns: r.get("allow_dns"),
        allow_proxy: r.get("allow_proxy"),
        active_discovery: r.get("active_discovery"),
        rdns_mode: r.get("rdns_mode"),
        description: r.get("description"),
    }
}

/// Subnets by id: those with the given ids and/or on VLANs in `space`.
pub async fn list(c: &mut Conn, ids: Option<&[i64]>, space: Option<i64>) -> Result<Vec<SubnetRow>> {
    let rows = sqlx::query(concat!(
        columns!(),
        "
           FROM subnets s JOIN vlans v ON v.id = s.vlan_id
          WHERE ($1::int8[] IS NULL OR s.id = ANY($1))
            AND ($2::int8 IS NULL OR v.space_id = $2)
          ORDER BY s.id"
    ))
    .bind(ids)
    .bind(space)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.iter().map(row).collect())
}

/// One subnet, if it exists.
pub async fn get(c: &mut Conn, id: i64) -> Result<Option<SubnetRow>> {
    let r = sqlx::query(concat!(columns!(), " FROM subnets s WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.as_ref().map(row))
}

/// The subnet, locked for this transaction.
pub async fn lock_row(c: &mut Conn, id: i64) -> Result<SubnetRow> {
    let r = sqlx::query(concat!(
        columns!(),
        " FROM subnets s WHERE s.id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    Ok(row(&r))
}

/// Lock the subnet for this transaction; false if there is none.
pub async fn lock(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("SELECT id FROM subnets WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?
            .is_some(),
    )
}

/// Whether another subnet (not `not`) has exactly this CIDR.
pub async fn cidr_taken(c: &mut Conn, cidr: &Cidr, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM subnets WHERE cidr = $1::cidr AND id IS DISTINCT FROM $2)",
    )
    .bind(cidr.to_string())
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// How many of the subnet's IP ranges, reserved IPs and assigned addresses
/// lie outside `cidr`.
pub async fn outside(c: &mut Conn, id: i64, cidr: &Cidr) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM ipranges WHERE subnet_id = $1
                  AND NOT (start_ip <<= $2::cidr AND end_ip <<= $2::cidr))
              + (SELECT count(*) FROM reserved_ips WHERE subnet_id = $1 AND NOT ip <<= $2::cidr)
              + (SELECT count(*) FROM interface_links WHERE subnet_id = $1
                  AND ip IS NOT NULL AND NOT ip <<= $2::cidr)",
    )
    .bind(id)
    .bind(cidr.to_string())
    .fetch_one(&mut *c)
    .await?)
}

/// Whether the subnet holds `ip` (an error if there is no such subnet).
pub async fn holds(c: &mut Conn, id: i64, ip: &IpAddr) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT $2::inet <<= cidr FROM subnets WHERE id = $1")
            .bind(id)
            .bind(ip.to_string())
            .fetch_one(&mut *c)
            .await?,
    )
}

/// The addresses nodes' interfaces hold on the subnet and those users
/// reserved, directly or for DNS resources (`host(ip)`).
pub async fn assigned_ips(c: &mut Conn, id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT host(ip) FROM interface_links WHERE subnet_id = $1 AND ip IS NOT NULL
         UNION SELECT host(ip) FROM ip_reservations WHERE subnet_id = $1
         UNION SELECT host(ip) FROM dnsresource_ips WHERE subnet_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?)
}

/// How many addresses nodes' interfaces hold on the subnet.
pub async fn assigned_count(c: &mut Conn, id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM interface_links WHERE subnet_id = $1 AND ip IS NOT NULL",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?)
}

/// What a subnet is written with.
#[derive(Debug, Clone)]
pub struct SubnetValues {
    pub name: String,
    pub cidr: Cidr,
    pub vlan_id: i64,
    pub gateway: Option<IpAddr>,
    pub dns_servers: Vec<String>,
    pub managed: bool,
    pub allow_dns: bool,
    pub allow_proxy: bool,
    pub active_discovery: bool,
    pub rdns_mode: i16,
    pub description: String,
}

pub async fn insert(c: &mut Conn, v: &SubnetValues) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO subnets (name, cidr, vlan_id, gateway_ip, dns_servers, managed,
                              allow_dns, allow_proxy, active_discovery, rdns_mode, description)
         VALUES ($1, $2::cidr, $3, $4::inet, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(&v.name)
    .bind(v.cidr.to_string())
    .bind(v.vlan_id)
    .bind(v.gateway.map(|g| g.to_string()))
    .bind(&v.dns_servers)
    .bind(v.managed)
    .bind(v.allow_dns)
    .bind(v.allow_proxy)
    .bind(v.active_discovery)
    .bind(v.rdns_mode)
    .bind(&v.description)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(c: &mut Conn, id: i64, v: &SubnetValues) -> Result<()> {
    sqlx::query(
        "UPDATE subnets SET name = $2, cidr = $3::cidr, vlan_id = $4, gateway_ip = $5::inet,
                dns_servers = $6, managed = $7, allow_dns = $8, allow_proxy = $9,
                active_discovery = $10, rdns_mode = $11, description = $12
          WHERE id = $1",
    )
    .bind(id)
    .bind(&v.name)
    .bind(v.cidr.to_string())
    .bind(v.vlan_id)
    .bind(v.gateway.map(|g| g.to_string()))
    .bind(&v.dns_servers)
    .bind(v.managed)
    .bind(v.allow_dns)
    .bind(v.allow_proxy)
    .bind(v.active_discovery)
    .bind(v.rdns_mode)
    .bind(&v.description)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM subnets WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
