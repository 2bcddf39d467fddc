//! DNS resources (a name in a domain), their static addresses and the
//! machines' addresses shown beside them.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use crate::error::Result;
use crate::store::Conn;

#[derive(Debug, Clone)]
pub struct ResourceRow {
    pub id: i64,
    pub name: String,
    pub domain_id: i64,
    pub domain_name: String,
    pub address_ttl: Option<i32>,
}

impl ResourceRow {
    /// `name.domain`, or the domain for the apex (`@`).
    pub fn fqdn(&self) -> String {
        fqdn(&self.name, &self.domain_name)
    }
}

/// A name in a domain as an FQDN (`@` and the empty name are the apex).
pub fn fqdn(name: &str, domain: &str) -> String {
    if name == "@" || name.is_empty() {
        domain.to_string()
    } else {
        format!("{name}.{domain}")
    }
}

/// Which resources to list.
#[derive(Debug, Default, Clone)]
pub struct ResourceFilter {
    pub id: Option<i64>,
    pub domain_id: Option<i64>,
    pub name: Option<String>,
    /// Only resources holding a record (DNSData) of this type.
    pub rrtype: Option<String>,
}

type ResTuple = (i64, String, i64, String, Option<i32>);

/// Resources by domain then name.
pub async fn list(c: &mut Conn, f: &ResourceFilter) -> Result<Vec<ResourceRow>> {
    let mut q = QueryBuilder::new(
        "SELECT r.id, r.name, r.domain_id, d.name, r.address_ttl
           FROM dnsresources r JOIN domains d ON d.id = r.domain_id WHERE true",
    );
    if let Some(id) = f.id {
        q.push(" AND r.id = ").push_bind(id);
    }
    if let Some(d) = f.domain_id {
        q.push(" AND r.domain_id = ").push_bind(d);
    }
    if let Some(n) = &f.name {
        q.push(" AND r.name = ").push_bind(n.clone());
    }
    if let Some(t) = &f.rrtype {
        q.push(
            " AND EXISTS (SELECT 1 FROM dnsdata x WHERE x.dnsresource_id = r.id AND x.rrtype = ",
        )
        .push_bind(t.clone())
        .push(")");
    }
    q.push(" ORDER BY r.domain_id, r.name COLLATE \"C\", r.id");
    let rows: Vec<ResTuple> = q.build_query_as().fetch_all(&mut *c).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, domain_id, domain_name, address_ttl)| ResourceRow {
                id,
                name,
                domain_id,
                domain_name,
                address_ttl,
            },
        )
        .collect())
}

/// The id of the resource named `name` in the domain.
pub async fn by_name(c: &mut Conn, domain_id: i64, name: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM dnsresources WHERE domain_id = $1 AND name = $2")
            .bind(domain_id)
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Lock the resource for this transaction; its (name, domain, ttl).
pub async fn lock(c: &mut Conn, id: i64) -> Result<Option<(String, i64, Option<i32>)>> {
    Ok(sqlx::query_as(
        "SELECT name, domain_id, address_ttl FROM dnsresources WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

pub async fn insert(c: &mut Conn, name: &str, domain_id: i64, ttl: Option<i32>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO dnsresources (name, domain_id, address_ttl) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(domain_id)
    .bind(ttl)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(
    c: &mut Conn,
    id: i64,
    name: &str,
    domain_id: i64,
    ttl: Option<i32>,
) -> Result<()> {
    sqlx::query(
        "UPDATE dnsresources SET name = $2, domain_id = $3, address_ttl = $4, updated = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(domain_id)
    .bind(ttl)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The resource's addresses outlive it as user reservations of their owner
/// (MAAS keeps the static IP; clients release it through `ipaddresses/`).
pub async fn keep_addresses(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO ip_reservations (ip, subnet_id, user_id, hostname)
         SELECT d.ip, d.subnet_id, d.user_id, r.name
           FROM dnsresource_ips d JOIN dnsresources r ON r.id = d.dnsresource_id
          WHERE d.dnsresource_id = $1 AND d.subnet_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM dnsresource_ips o
                             WHERE o.ip = d.ip AND o.dnsresource_id <> $1)
         ON CONFLICT (ip) DO NOTHING",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM dnsresources WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Delete the resource if it holds neither addresses nor records.
pub async fn delete_if_empty(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM dnsresources r WHERE r.id = $1
            AND NOT EXISTS (SELECT 1 FROM dnsdata WHERE dnsresource_id = r.id)
            AND NOT EXISTS (SELECT 1 FROM dnsresource_ips WHERE dnsresource_id = r.id)",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The owner of a static address (a user as MAAS renders one).
#[derive(Debug, Clone)]
pub struct Owner {
    pub username: String,
    pub email: String,
    pub is_superuser: bool,
    pub is_local: bool,
}

/// A static address of a DNS resource.
#[derive(Debug, Clone)]
pub struct IpRow {
    pub id: i64,
    pub dnsresource_id: i64,
    pub ip: String,
    pub subnet_id: Option<i64>,
    pub created: DateTime<Utc>,
    pub owner: Option<Owner>,
}

type IpTuple = (
    i64,
    i64,
    String,
    Option<i64>,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<bool>,
);

/// The addresses of these resources, by resource then address.
pub async fn ips(c: &mut Conn, resource_ids: &[i64]) -> Result<Vec<IpRow>> {
    let rows: Vec<IpTuple> = sqlx::query_as(
        "SELECT a.id, a.dnsresource_id, host(a.ip), a.subnet_id, a.created,
                u.username, u.email, u.is_superuser, u.is_local
           FROM dnsresource_ips a LEFT JOIN users u ON u.id = a.user_id
          WHERE a.dnsresource_id = ANY($1) ORDER BY a.dnsresource_id, a.ip",
    )
    .bind(resource_ids)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, dnsresource_id, ip, subnet_id, created, un, em, su, lo)| IpRow {
                id,
                dnsresource_id,
                ip,
                subnet_id,
                created,
                owner: un.map(|username| Owner {
                    username,
                    email: em.unwrap_or_default(),
                    is_superuser: su.unwrap_or(false),
                    is_local: lo.unwrap_or(true),
                }),
            },
        )
        .collect())
}

/// The address of the static IP with this id (any resource's).
pub async fn ip_by_id(c: &mut Conn, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT host(ip) FROM dnsresource_ips WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Whether the resource has addresses.
pub async fn has_ips(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM dnsresource_ips WHERE dnsresource_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?)
}

/// An address to hold: the IP, the subnet it falls in.
#[derive(Debug, Clone)]
pub struct NewIp {
    pub ip: String,
    pub subnet_id: Option<i64>,
}

/// Make the resource's addresses exactly `ips` (new ones owned by `user`).
pub async fn set_ips(c: &mut Conn, id: i64, ips: &[NewIp], user_id: i64) -> Result<()> {
    let keep: Vec<String> = ips.iter().map(|i| i.ip.clone()).collect();
    sqlx::query(
        "DELETE FROM dnsresource_ips WHERE dnsresource_id = $1 AND NOT (ip = ANY($2::inet[]))",
    )
    .bind(id)
    .bind(&keep)
    .execute(&mut *c)
    .await?;
    for i in ips {
        sqlx::query(
            "INSERT INTO dnsresource_ips (dnsresource_id, ip, subnet_id, user_id)
             VALUES ($1, $2::inet, $3, $4) ON CONFLICT (dnsresource_id, ip) DO NOTHING",
        )
        .bind(id)
        .bind(&i.ip)
        .bind(i.subnet_id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// A machine's address under its hostname in its domain.
#[derive(Debug, Clone)]
pub struct MachineAddress {
    pub domain_id: i64,
    pub domain_name: String,
    pub hostname: String,
    pub system_id: String,
    pub node_type: i16,
    pub ip: String,
}

/// Machines' and devices' link addresses (of one domain, or all), by
/// domain, hostname and address (a device's node_type is 1).
pub async fn machine_addresses(
    c: &mut Conn,
    domain_id: Option<i64>,
) -> Result<Vec<MachineAddress>> {
    let rows: Vec<(i64, String, String, String, i16, String)> = sqlx::query_as(
        "SELECT s.domain_id, s.name, s.hostname, s.system_id, s.node_type, host(s.ip) FROM (
            SELECT DISTINCT m.domain_id, d.name, m.hostname, m.system_id, m.node_type, l.ip
              FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
              JOIN machines m ON m.id = i.machine_id JOIN domains d ON d.id = m.domain_id
             WHERE l.ip IS NOT NULL AND ($1::int8 IS NULL OR m.domain_id = $1)
            UNION
            SELECT v.domain_id, d.name, v.hostname, v.system_id, 1::int2, l.ip
              FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
              JOIN devices v ON v.id = i.device_id JOIN domains d ON d.id = v.domain_id
             WHERE l.ip IS NOT NULL AND ($1::int8 IS NULL OR v.domain_id = $1)) s
          ORDER BY s.domain_id, s.hostname COLLATE \"C\", s.ip",
    )
    .bind(domain_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(domain_id, domain_name, hostname, system_id, node_type, ip)| MachineAddress {
                domain_id,
                domain_name,
                hostname,
                system_id,
                node_type,
                ip,
            },
        )
        .collect())
}
