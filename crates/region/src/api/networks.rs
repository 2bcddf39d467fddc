//! The network model in MAAS's shape: `fabrics/`, `fabrics/{id}/vlans/`,
//! `vlans/`, `subnets/`, `ipranges/`, `reservedips/` and `spaces/`, and what a
//! rack's registration records about its interfaces
//! ([`record_rack_interfaces`], which creates fabrics, VLANs and subnets the
//! way MAAS does when a controller registers).
//!
//! Reads are open to every authenticated user, writes are admin-only. Every
//! write runs in one transaction and validates everything before it writes,
//! so a refused request leaves nothing behind.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::constraints::{FieldErrors, parse_bool};
use maas_model::net::{self, Cidr, IpSet, RangeType, Statistics, SubnetUsage};
use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};

const API: &str = "/MAAS/api/2.0";

// ---------------------------------------------------------------------------
// Validation helpers

/// Field errors collected before anything is written.
#[derive(Default)]
struct Errs(FieldErrors);

impl Errs {
    fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_default()
            .push(msg.into());
    }

    fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    fn done(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

fn opt_bool(req: &Req, key: &str, e: &mut Errs) -> Option<bool> {
    let v = req.input.get(key)?;
    let b = parse_bool(v);
    if b.is_none() {
        e.add(key, format!("'{v}' is not a valid boolean."));
    }
    b
}

fn opt_int(req: &Req, key: &str, e: &mut Errs) -> Option<i64> {
    let v = req.input.get_nonempty(key)?;
    let n = v.trim().parse::<i64>().ok();
    if n.is_none() {
        e.add(key, format!("'{v}' is not a valid integer."));
    }
    n
}

fn int_between(req: &Req, key: &str, lo: i64, hi: i64, e: &mut Errs) -> Option<i64> {
    let n = opt_int(req, key, e)?;
    if n < lo {
        e.add(
            key,
            format!("Ensure this value is greater than or equal to {lo}."),
        );
        None
    } else if n > hi {
        e.add(
            key,
            format!("Ensure this value is less than or equal to {hi}."),
        );
        None
    } else {
        Some(n)
    }
}

/// A present parameter, trimmed; `Some("")` means "clear it".
fn opt_text(req: &Req, key: &str) -> Option<String> {
    req.input.get(key).map(|s| s.trim().to_string())
}

fn check_name(what: &str, n: &str, e: &mut Errs) {
    if !crate::api::places::valid_name(n) {
        e.add(
            "name",
            format!("'{n}' is not a valid {what} name: use letters, digits, '-', '_' and '.'."),
        );
    }
}

fn check_vlan_name(n: &str, e: &mut Errs) {
    if n.len() > 256 || n.chars().any(char::is_control) {
        e.add(
            "name",
            "A VLAN name has at most 256 characters and no control characters.",
        );
    }
}

fn not_found(what: &str) -> Error {
    Error::NotFound(format!("No {what} matches the given query."))
}

fn invalid_choice(v: &str) -> String {
    format!("Select a valid choice. '{v}' is not one of the available choices.")
}

fn db_ip(s: &str) -> Result<IpAddr> {
    net::parse_ip(s).map_err(|e| Error::Internal(anyhow::anyhow!("stored address: {e}")))
}

fn db_cidr(s: &str) -> Result<Cidr> {
    Cidr::parse(s).map_err(|e| Error::Internal(anyhow::anyhow!("stored network: {e}")))
}

/// A count that JavaScript clients can hold exactly is a JSON number; a
/// larger one (IPv6) is a decimal string.
fn big(n: u128) -> Value {
    if n <= 1u128 << 53 {
        json!(n as u64)
    } else {
        json!(n.to_string())
    }
}

// ---------------------------------------------------------------------------
// Lookups by specifier (id, name, …)

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

async fn fabric_by_spec(c: &mut PgConnection, spec: &str) -> Result<Option<i64>> {
    let (id, name) = id_or_name(spec);
    Ok(
        sqlx::query_scalar("SELECT id FROM fabrics WHERE id = $1 OR name = $2 ORDER BY id LIMIT 1")
            .bind(id)
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}

async fn space_by_spec(c: &mut PgConnection, spec: &str) -> Result<Option<i64>> {
    let (id, name) = id_or_name(spec);
    Ok(
        sqlx::query_scalar("SELECT id FROM spaces WHERE id = $1 OR name = $2 ORDER BY id LIMIT 1")
            .bind(id)
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A rack by system_id (or hostname, as MAAS's node fields accept).
async fn rack_by_spec(c: &mut PgConnection, spec: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM racks WHERE system_id = $1 OR hostname = $1 ORDER BY system_id <> $1, id LIMIT 1",
    )
    .bind(spec.trim())
    .fetch_optional(&mut *c)
    .await?)
}

/// The most specific subnet containing `ip`.
async fn subnet_containing(c: &mut PgConnection, ip: &IpAddr) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM subnets WHERE cidr >>= $1::inet ORDER BY masklen(cidr) DESC, id LIMIT 1",
    )
    .bind(ip.to_string())
    .fetch_optional(&mut *c)
    .await?)
}

/// A subnet by id, CIDR (`10.0.0.0/24` or `cidr:10.0.0.0/24`), `name:…` or
/// `ip:…` (the most specific subnet holding the address), as MAAS accepts.
async fn subnet_by_spec(c: &mut PgConnection, spec: &str) -> Result<Option<i64>> {
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

// ---------------------------------------------------------------------------
// JSON renderings

const VLAN_SELECT: &str = "SELECT v.id, v.vid, v.name, v.mtu, v.dhcp_on, v.external_dhcp,
        v.description, v.relay_vlan_id, v.fabric_id, f.name AS fabric,
        pr.system_id AS primary_rack, sr.system_id AS secondary_rack, sp.name AS space
   FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
   LEFT JOIN racks pr ON pr.id = v.primary_rack_id
   LEFT JOIN racks sr ON sr.id = v.secondary_rack_id
   LEFT JOIN spaces sp ON sp.id = v.space_id
  WHERE ($1::int8[] IS NULL OR v.id = ANY($1))
    AND ($2::int8[] IS NULL OR v.fabric_id = ANY($2))
    AND ($3::int8 IS NULL OR v.space_id = $3)
  ORDER BY v.fabric_id, v.vid";

fn vlan_name(name: Option<String>, vid: i32) -> String {
    name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        if vid == 0 {
            "untagged".to_string()
        } else {
            vid.to_string()
        }
    })
}

fn vlan_json(r: &PgRow) -> Value {
    let id: i64 = r.get("id");
    let vid: i32 = r.get("vid");
    json!({
        "id": id,
        "vid": vid,
        "name": vlan_name(r.get("name"), vid),
        "fabric": r.get::<String, _>("fabric"),
        "fabric_id": r.get::<i64, _>("fabric_id"),
        "mtu": r.get::<i32, _>("mtu"),
        "dhcp_on": r.get::<bool, _>("dhcp_on"),
        "external_dhcp": r.get::<Option<String>, _>("external_dhcp"),
        "primary_rack": r.get::<Option<String>, _>("primary_rack"),
        "secondary_rack": r.get::<Option<String>, _>("secondary_rack"),
        "relay_vlan": r.get::<Option<i64>, _>("relay_vlan_id"),
        "space": r.get::<Option<String>, _>("space").unwrap_or_else(|| "undefined".into()),
        "description": r.get::<String, _>("description"),
        "resource_uri": format!("{API}/vlans/{id}/"),
    })
}

/// VLANs as (fabric_id, json), filtered by ids, fabrics and/or space.
async fn load_vlans(
    c: &mut PgConnection,
    ids: Option<Vec<i64>>,
    fabrics: Option<Vec<i64>>,
    space: Option<i64>,
) -> Result<Vec<(i64, Value)>> {
    let rows = sqlx::query(VLAN_SELECT)
        .bind(ids)
        .bind(fabrics)
        .bind(space)
        .fetch_all(&mut *c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<i64, _>("fabric_id"), vlan_json(r)))
        .collect())
}

async fn vlan_one(c: &mut PgConnection, id: i64) -> Result<Value> {
    load_vlans(c, Some(vec![id]), None, None)
        .await?
        .pop()
        .map(|(_, v)| v)
        .ok_or_else(|| not_found("VLAN"))
}

const SUBNET_SELECT: &str = "SELECT s.id, s.name, s.cidr::text AS cidr, s.vlan_id,
        host(s.gateway_ip) AS gateway_ip, s.dns_servers, s.managed, s.allow_dns,
        s.allow_proxy, s.active_discovery, s.rdns_mode, s.description
   FROM subnets s JOIN vlans v ON v.id = s.vlan_id
  WHERE ($1::int8[] IS NULL OR s.id = ANY($1))
    AND ($2::int8 IS NULL OR v.space_id = $2)
  ORDER BY s.id";

/// Subnets as (id, json) with their VLANs nested.
async fn load_subnets(
    c: &mut PgConnection,
    ids: Option<Vec<i64>>,
    space: Option<i64>,
) -> Result<Vec<(i64, Value)>> {
    let rows = sqlx::query(SUBNET_SELECT)
        .bind(ids)
        .bind(space)
        .fetch_all(&mut *c)
        .await?;
    let vlan_ids: Vec<i64> = rows
        .iter()
        .map(|r| r.get::<i64, _>("vlan_id"))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let vlans: HashMap<i64, Value> = load_vlans(c, Some(vlan_ids), None, None)
        .await?
        .into_iter()
        .map(|(_, v)| (v["id"].as_i64().unwrap_or_default(), v))
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let vlan = vlans
                .get(&r.get::<i64, _>("vlan_id"))
                .cloned()
                .unwrap_or(Value::Null);
            let space = vlan["space"].clone();
            (
                id,
                json!({
                    "id": id,
                    "name": r.get::<String, _>("name"),
                    "description": r.get::<String, _>("description"),
                    "vlan": vlan,
                    "cidr": r.get::<String, _>("cidr"),
                    "space": space,
                    "gateway_ip": r.get::<Option<String>, _>("gateway_ip"),
                    "dns_servers": r.get::<Vec<String>, _>("dns_servers"),
                    "rdns_mode": r.get::<i16, _>("rdns_mode"),
                    "allow_dns": r.get::<bool, _>("allow_dns"),
                    "allow_proxy": r.get::<bool, _>("allow_proxy"),
                    "active_discovery": r.get::<bool, _>("active_discovery"),
                    "managed": r.get::<bool, _>("managed"),
                    "disabled_boot_architectures": [],
                    "resource_uri": format!("{API}/subnets/{id}/"),
                }),
            )
        })
        .collect())
}

async fn subnet_one(c: &mut PgConnection, id: i64) -> Result<Value> {
    load_subnets(c, Some(vec![id]), None)
        .await?
        .pop()
        .map(|(_, v)| v)
        .ok_or_else(|| not_found("Subnet"))
}

async fn subnet_map(c: &mut PgConnection, ids: Vec<i64>) -> Result<HashMap<i64, Value>> {
    Ok(load_subnets(c, Some(ids), None)
        .await?
        .into_iter()
        .collect())
}

async fn load_fabrics(c: &mut PgConnection, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT id, name, class_type FROM fabrics WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let mut vlans: HashMap<i64, Vec<Value>> = HashMap::new();
    for (f, v) in load_vlans(c, None, Some(ids), None).await? {
        vlans.entry(f).or_default().push(v);
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            json!({
                "id": id,
                "name": r.get::<String, _>(1),
                "class_type": r.get::<Option<String>, _>(2),
                "vlans": vlans.remove(&id).unwrap_or_default(),
                "resource_uri": format!("{API}/fabrics/{id}/"),
            })
        })
        .collect())
}

async fn fabric_one(c: &mut PgConnection, id: i64) -> Result<Value> {
    load_fabrics(c, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("Fabric"))
}

async fn load_ipranges(c: &mut PgConnection, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT r.id, r.type, host(r.start_ip) AS start_ip, host(r.end_ip) AS end_ip,
                r.comment, u.username, r.subnet_id
           FROM ipranges r LEFT JOIN users u ON u.id = r.user_id
          WHERE ($1::int8 IS NULL OR r.id = $1)
          ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let subnets = subnet_map(c, rows.iter().map(|r| r.get("subnet_id")).collect()).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            json!({
                "id": id,
                "type": r.get::<String, _>("type"),
                "start_ip": r.get::<String, _>("start_ip"),
                "end_ip": r.get::<String, _>("end_ip"),
                "subnet": subnets.get(&r.get::<i64, _>("subnet_id")).cloned().unwrap_or(Value::Null),
                "comment": r.get::<String, _>("comment"),
                "user": r.get::<Option<String>, _>("username"),
                "resource_uri": format!("{API}/ipranges/{id}/"),
            })
        })
        .collect())
}

async fn load_reserved_ips(c: &mut PgConnection, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT id, host(ip) AS ip, mac_address, comment, subnet_id FROM reserved_ips
          WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let subnets = subnet_map(c, rows.iter().map(|r| r.get("subnet_id")).collect()).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let subnet = subnets
                .get(&r.get::<i64, _>("subnet_id"))
                .cloned()
                .unwrap_or(Value::Null);
            json!({
                "id": id,
                "ip": r.get::<String, _>("ip"),
                "mac_address": r.get::<String, _>("mac_address"),
                "comment": r.get::<String, _>("comment"),
                "vlan": subnet["vlan"].clone(),
                "subnet": subnet,
                "resource_uri": format!("{API}/reservedips/{id}/"),
            })
        })
        .collect())
}

async fn load_spaces(c: &mut PgConnection, id: Option<i64>) -> Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT id, name, description FROM spaces WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.get(0);
        let vlans: Vec<Value> = load_vlans(c, None, None, Some(id))
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let subnets: Vec<Value> = load_subnets(c, None, Some(id))
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        out.push(json!({
            "id": id,
            "name": r.get::<String, _>(1),
            "description": r.get::<String, _>(2),
            "vlans": vlans,
            "subnets": subnets,
            "resource_uri": format!("{API}/spaces/{id}/"),
        }));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Shared writers

/// Refuse a change that would leave a DHCP-enabled VLAN without any dynamic
/// range (MAAS only turns DHCP on with one, and the racks need a pool).
async fn keep_dhcp_pool(
    c: &mut PgConnection,
    vlan_id: i64,
    without_range: Option<i64>,
    without_subnet: Option<i64>,
) -> Result<()> {
    let row = sqlx::query(
        "SELECT v.dhcp_on, v.vid, f.name,
                (SELECT count(*) FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
                  WHERE s.vlan_id = v.id AND r.type = 'dynamic'
                    AND r.id IS DISTINCT FROM $2 AND s.id IS DISTINCT FROM $3) AS n
           FROM vlans v JOIN fabrics f ON f.id = v.fabric_id WHERE v.id = $1",
    )
    .bind(vlan_id)
    .bind(without_range)
    .bind(without_subnet)
    .fetch_optional(&mut *c)
    .await?;
    if let Some(r) = row
        && r.get::<bool, _>(0)
        && r.get::<i64, _>(3) == 0
    {
        return Err(Error::BadRequest(format!(
            "DHCP is on for VLAN {} of fabric {}, and this would leave it without a dynamic range; \
             turn DHCP off first.",
            r.get::<i32, _>(1),
            r.get::<String, _>(2)
        )));
    }
    Ok(())
}

/// Everything occupying addresses of a subnet (optionally leaving out one
/// IP range or reserved IP: the one being edited).
async fn subnet_usage(
    c: &mut PgConnection,
    subnet_id: i64,
    without_range: Option<i64>,
    without_reserved: Option<i64>,
) -> Result<SubnetUsage> {
    let row = sqlx::query(
        "SELECT cidr::text, host(gateway_ip), dns_servers, managed FROM subnets WHERE id = $1",
    )
    .bind(subnet_id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| not_found("Subnet"))?;
    let mut u = SubnetUsage::new(db_cidr(&row.get::<String, _>(0))?);
    u.gateway = row
        .get::<Option<String>, _>(1)
        .map(|g| db_ip(&g))
        .transpose()?;
    u.dns_servers = row
        .get::<Vec<String>, _>(2)
        .iter()
        .filter_map(|d| net::parse_ip(d).ok())
        .collect();
    u.managed = row.get(3);
    for r in sqlx::query(
        "SELECT type, host(start_ip), host(end_ip) FROM ipranges
          WHERE subnet_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(subnet_id)
    .bind(without_range)
    .fetch_all(&mut *c)
    .await?
    {
        let t = RangeType::parse(&r.get::<String, _>(0)).unwrap_or(RangeType::Reserved);
        u.ranges.push((
            t,
            db_ip(&r.get::<String, _>(1))?,
            db_ip(&r.get::<String, _>(2))?,
        ));
    }
    let assigned: Vec<String> = sqlx::query_scalar(
        "SELECT host(ip) FROM interface_links WHERE subnet_id = $1 AND ip IS NOT NULL",
    )
    .bind(subnet_id)
    .fetch_all(&mut *c)
    .await?;
    u.assigned = assigned.iter().map(|a| db_ip(a)).collect::<Result<_>>()?;
    let reserved: Vec<String> = sqlx::query_scalar(
        "SELECT host(ip) FROM reserved_ips WHERE subnet_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(subnet_id)
    .bind(without_reserved)
    .fetch_all(&mut *c)
    .await?;
    u.reserved_ips = reserved.iter().map(|a| db_ip(a)).collect::<Result<_>>()?;
    Ok(u)
}

async fn lock_subnet(c: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM subnets WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| not_found("Subnet"))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// fabrics/

pub async fn fabrics(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            Ok(json(&load_fabrics(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let name = opt_text(&req, "name").filter(|n| !n.is_empty());
            if let Some(n) = &name {
                check_name("fabric", n, &mut e);
            }
            let class_type = opt_text(&req, "class_type").filter(|n| !n.is_empty());
            let mut tx = app.db.begin().await?;
            if let Some(n) = &name
                && fabric_name_taken(&mut tx, n, None).await?
            {
                e.add("name", "Fabric with this Name already exists.");
            }
            e.done()?;
            let (id, _) = crate::store::networks::create_fabric(
                &mut tx,
                name.as_deref(),
                class_type.as_deref(),
            )
            .await?;
            let out = fabric_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

async fn fabric_name_taken(c: &mut PgConnection, name: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM fabrics WHERE name = $1 AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn fabric(
    State(app): State<App>,
    Path(spec): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let id = fabric_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            Ok(json(&fabric_one(&mut c, id).await?))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let row = sqlx::query("SELECT name, class_type FROM fabrics WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let mut e = Errs::default();
            let name = match opt_text(&req, "name") {
                Some(n) if n.is_empty() => format!("fabric-{id}"),
                Some(n) => {
                    check_name("fabric", &n, &mut e);
                    n
                }
                None => row.get(0),
            };
            if !e.has("name") && fabric_name_taken(&mut tx, &name, Some(id)).await? {
                e.add("name", "Fabric with this Name already exists.");
            }
            let class_type = match opt_text(&req, "class_type") {
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c),
                None => row.get(1),
            };
            e.done()?;
            sqlx::query("UPDATE fabrics SET name = $2, class_type = $3 WHERE id = $1")
                .bind(id)
                .bind(&name)
                .bind(&class_type)
                .execute(&mut *tx)
                .await?;
            let out = fabric_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let name: String =
                sqlx::query_scalar("SELECT name FROM fabrics WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let subnets: Vec<String> = sqlx::query_scalar(
                "SELECT s.cidr::text FROM subnets s JOIN vlans v ON v.id = s.vlan_id
                  WHERE v.fabric_id = $1 ORDER BY s.id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            if !subnets.is_empty() {
                return Err(Error::BadRequest(format!(
                    "Can't delete fabric {name}: subnets {} are still on its VLANs; delete or move them first.",
                    subnets.join(", ")
                )));
            }
            let ifaces: Vec<String> = sqlx::query_scalar(
                "SELECT m.hostname || ':' || i.name FROM interfaces i
                   JOIN machines m ON m.id = i.machine_id JOIN vlans v ON v.id = i.vlan_id
                  WHERE v.fabric_id = $1
                 UNION ALL
                 SELECT r.hostname || ':' || ri.name FROM rack_interfaces ri
                   JOIN racks r ON r.id = ri.rack_id JOIN vlans v ON v.id = ri.vlan_id
                  WHERE v.fabric_id = $1
                 ORDER BY 1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            if !ifaces.is_empty() {
                return Err(Error::BadRequest(format!(
                    "Can't delete fabric {name}; the following interfaces are still connected: {}.",
                    ifaces.join(", ")
                )));
            }
            sqlx::query("DELETE FROM fabrics WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

// ---------------------------------------------------------------------------
// VLANs

pub async fn fabric_vlans(
    State(app): State<App>,
    Path(spec): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let fid = fabric_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let vlans: Vec<Value> = load_vlans(&mut c, None, Some(vec![fid]), None)
                .await?
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            Ok(json(&vlans))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let fid = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let mut e = Errs::default();
            let vid = int_between(&req, "vid", 1, 4094, &mut e);
            if vid.is_none() && !e.has("vid") {
                e.add("vid", "This field is required.");
            }
            if let Some(v) = vid
                && vid_taken(&mut tx, fid, v as i32, None).await?
            {
                e.add("vid", "VLAN with this Fabric and Vid already exists.");
            }
            let name = opt_text(&req, "name").filter(|n| !n.is_empty());
            if let Some(n) = &name {
                check_vlan_name(n, &mut e);
            }
            let mtu = int_between(&req, "mtu", 552, 65535, &mut e).unwrap_or(1500);
            let description = opt_text(&req, "description").unwrap_or_default();
            let space = match opt_text(&req, "space").filter(|s| !s.is_empty()) {
                Some(s) => {
                    let sp = space_by_spec(&mut tx, &s).await?;
                    if sp.is_none() {
                        e.add("space", invalid_choice(&s));
                    }
                    sp
                }
                None => None,
            };
            e.done()?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO vlans (fabric_id, vid, name, mtu, description, space_id)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(fid)
            .bind(vid.unwrap_or_default() as i32)
            .bind(&name)
            .bind(mtu as i32)
            .bind(&description)
            .bind(space)
            .fetch_one(&mut *tx)
            .await?;
            let out = vlan_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

async fn vid_taken(c: &mut PgConnection, fabric: i64, vid: i32, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM vlans WHERE fabric_id = $1 AND vid = $2 AND id IS DISTINCT FROM $3)",
    )
    .bind(fabric)
    .bind(vid)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// How a VLAN was addressed: by database id (`vlans/{id}/`) or by fabric and
/// vid (`fabrics/{fabric}/vlans/{vid}/`).
enum VlanRef {
    Id(String),
    FabricVid(String, String),
}

async fn resolve_vlan(c: &mut PgConnection, r: &VlanRef) -> Result<i64> {
    let id = match r {
        VlanRef::Id(s) => match s.trim().parse::<i64>() {
            Ok(id) => {
                sqlx::query_scalar("SELECT id FROM vlans WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?
            }
            Err(_) => None,
        },
        VlanRef::FabricVid(f, v) => {
            let fid = fabric_by_spec(c, f)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            match v.trim().parse::<i32>() {
                Ok(vid) => {
                    sqlx::query_scalar("SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2")
                        .bind(fid)
                        .bind(vid)
                        .fetch_optional(&mut *c)
                        .await?
                }
                Err(_) => None,
            }
        }
    };
    id.ok_or_else(|| not_found("VLAN"))
}

pub async fn vlans(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let vlans: Vec<Value> = load_vlans(&mut c, None, None, None)
                .await?
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            Ok(json(&vlans))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn vlan(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    vlan_item(&app, &req, VlanRef::Id(id)).await
}

pub async fn fabric_vlan(
    State(app): State<App>,
    Path((fabric, vid)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    vlan_item(&app, &req, VlanRef::FabricVid(fabric, vid)).await
}

async fn vlan_item(app: &App, req: &Req, r: VlanRef) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let id = resolve_vlan(&mut c, &r).await?;
            Ok(json(&vlan_one(&mut c, id).await?))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = resolve_vlan(&mut tx, &r).await?;
            update_vlan(&mut tx, req, id).await?;
            let out = vlan_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = resolve_vlan(&mut tx, &r).await?;
            let vid: i32 = sqlx::query_scalar("SELECT vid FROM vlans WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            if vid == 0 {
                return Err(Error::BadRequest(
                    "This VLAN is the default VLAN in the fabric, it cannot be deleted.".into(),
                ));
            }
            let subnets: Vec<String> =
                sqlx::query_scalar("SELECT cidr::text FROM subnets WHERE vlan_id = $1 ORDER BY id")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            if !subnets.is_empty() {
                return Err(Error::BadRequest(format!(
                    "Can't delete VLAN {vid}: subnets {} are still on it; delete or move them first.",
                    subnets.join(", ")
                )));
            }
            sqlx::query("DELETE FROM vlans WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

/// A nullable reference parameter: absent → None, empty → Some(None).
async fn rack_param(
    c: &mut PgConnection,
    req: &Req,
    key: &str,
    e: &mut Errs,
) -> Result<Option<Option<i64>>> {
    match opt_text(req, key) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(Some(None)),
        Some(s) => match rack_by_spec(c, &s).await? {
            Some(id) => Ok(Some(Some(id))),
            None => {
                e.add(key, invalid_choice(&s));
                Ok(None)
            }
        },
    }
}

/// VLAN update with MAAS's rules for DHCP, racks and relays.
async fn update_vlan(c: &mut PgConnection, req: &Req, id: i64) -> Result<()> {
    let cur = sqlx::query(
        "SELECT fabric_id, vid, name, mtu, description, dhcp_on, primary_rack_id,
                secondary_rack_id, relay_vlan_id, space_id
           FROM vlans WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    let fabric_id: i64 = cur.get("fabric_id");
    let cur_vid: i32 = cur.get("vid");
    let cur_primary: Option<i64> = cur.get("primary_rack_id");
    let cur_secondary: Option<i64> = cur.get("secondary_rack_id");
    let mut e = Errs::default();

    let name: Option<String> = match opt_text(req, "name") {
        Some(n) if n.is_empty() => None,
        Some(n) => {
            check_vlan_name(&n, &mut e);
            Some(n)
        }
        None => cur.get("name"),
    };
    let description = opt_text(req, "description").unwrap_or_else(|| cur.get("description"));
    let mut vid = cur_vid;
    if let Some(v) = opt_int(req, "vid", &mut e) {
        if cur_vid == 0 && v != 0 {
            e.add(
                "vid",
                "The VID of a fabric's default VLAN cannot be changed.",
            );
        } else if cur_vid != 0 && !(1..=4094).contains(&v) {
            e.add("vid", "The VID must be between 1 and 4094.");
        } else if v as i32 != cur_vid && vid_taken(c, fabric_id, v as i32, Some(id)).await? {
            e.add("vid", "VLAN with this Fabric and Vid already exists.");
        } else {
            vid = v as i32;
        }
    }
    let mtu = int_between(req, "mtu", 552, 65535, &mut e)
        .map(|m| m as i32)
        .unwrap_or_else(|| cur.get("mtu"));
    let space: Option<i64> = match opt_text(req, "space") {
        None => cur.get("space_id"),
        Some(s) if s.is_empty() || s == "undefined" => None,
        Some(s) => {
            let sp = space_by_spec(c, &s).await?;
            if sp.is_none() {
                e.add("space", invalid_choice(&s));
            }
            sp
        }
    };
    let primary = rack_param(c, req, "primary_rack", &mut e).await?;
    let secondary = rack_param(c, req, "secondary_rack", &mut e).await?;
    let relay: Option<Option<i64>> = match opt_text(req, "relay_vlan") {
        None => None,
        Some(s) if s.is_empty() => Some(None),
        Some(s) => {
            let target: Option<Option<i64>> = match s.parse::<i64>() {
                Ok(rid) => {
                    sqlx::query_scalar("SELECT relay_vlan_id FROM vlans WHERE id = $1")
                        .bind(rid)
                        .fetch_optional(&mut *c)
                        .await?
                }
                Err(_) => None,
            };
            match target {
                None => {
                    e.add("relay_vlan", invalid_choice(&s));
                    None
                }
                Some(_) if s.parse::<i64>().ok() == Some(id) => {
                    e.add("relay_vlan", "A VLAN cannot relay DHCP to itself.");
                    None
                }
                Some(Some(_)) => {
                    e.add(
                        "relay_vlan",
                        format!(
                            "VLAN {s} relays DHCP to another VLAN itself; relays cannot be chained."
                        ),
                    );
                    None
                }
                Some(None) => Some(s.parse::<i64>().ok()),
            }
        }
    };
    let dhcp_on = opt_bool(req, "dhcp_on", &mut e).unwrap_or_else(|| cur.get("dhcp_on"));
    e.done()?;

    // Cross-field rules, on the VLAN as it would be after the update.
    let mut e = Errs::default();
    let mut new_primary = primary.unwrap_or(cur_primary);
    let mut new_secondary = secondary.unwrap_or(cur_secondary);
    if primary == Some(None) && secondary.is_none() && cur_secondary.is_some() {
        // As MAAS: removing the primary promotes the secondary.
        new_primary = cur_secondary;
        new_secondary = None;
    }
    if primary.flatten().is_some() && primary.flatten() == cur_secondary && secondary.is_none() {
        // The secondary became the primary.
        new_secondary = None;
    }
    if new_secondary.is_some() && new_secondary == new_primary {
        e.add(
            "__all__",
            "The primary and secondary rack must be different.",
        );
    }
    if new_secondary.is_some() && new_primary.is_none() {
        e.add(
            "secondary_rack",
            "A secondary rack controller needs a primary rack controller.",
        );
    }
    let mut new_relay = relay.unwrap_or_else(|| cur.get("relay_vlan_id"));
    if dhcp_on {
        if new_primary.is_none() {
            e.add(
                "__all__",
                "dhcp can only be turned on when a primary rack controller is set.",
            );
        }
        let dynamic: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
              WHERE s.vlan_id = $1 AND r.type = 'dynamic'",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
        if dynamic == 0 {
            e.add(
                "dhcp_on",
                "dhcp can only be turned on when a dynamic IP range is defined.",
            );
        }
        if relay.flatten().is_some() {
            e.add("relay_vlan", "A relay VLAN cannot be set while DHCP is on.");
        }
        // MAAS: a VLAN serving DHCP itself relays nowhere.
        new_relay = None;
    }
    if new_relay.is_some() {
        let relayed_to: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM vlans WHERE relay_vlan_id = $1)")
                .bind(id)
                .fetch_one(&mut *c)
                .await?;
        if relayed_to {
            e.add(
                "relay_vlan",
                "Other VLANs relay DHCP to this VLAN; it cannot relay DHCP itself.",
            );
        }
    }
    e.done()?;
    sqlx::query(
        "UPDATE vlans SET vid = $2, name = $3, mtu = $4, description = $5, dhcp_on = $6,
                primary_rack_id = $7, secondary_rack_id = $8, relay_vlan_id = $9, space_id = $10
          WHERE id = $1",
    )
    .bind(id)
    .bind(vid)
    .bind(&name)
    .bind(mtu)
    .bind(&description)
    .bind(dhcp_on)
    .bind(new_primary)
    .bind(new_secondary)
    .bind(new_relay)
    .bind(space)
    .execute(&mut *c)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// subnets/

/// Where a subnet goes: an existing VLAN, or a new fabric's untagged VLAN.
enum Placement {
    Vlan(i64),
    NewFabric,
}

/// Resolve `vlan` / `fabric` / `vid`; None when none was given.
async fn subnet_placement(
    c: &mut PgConnection,
    req: &Req,
    e: &mut Errs,
) -> Result<Option<Placement>> {
    let vlan = opt_text(req, "vlan").filter(|s| !s.is_empty());
    let fabric = opt_text(req, "fabric").filter(|s| !s.is_empty());
    let vid = opt_int(req, "vid", e);
    let fid = match &fabric {
        Some(f) => {
            let fid = fabric_by_spec(c, f).await?;
            if fid.is_none() {
                e.add("fabric", invalid_choice(f));
                return Ok(None);
            }
            fid
        }
        None => None,
    };
    if let Some(v) = vlan {
        let row: Option<(i64, i64)> = match v.parse::<i64>() {
            Ok(id) => {
                sqlx::query_as("SELECT id, fabric_id FROM vlans WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?
            }
            Err(_) => None,
        };
        return Ok(match row {
            None => {
                e.add("vlan", invalid_choice(&v));
                None
            }
            Some((_, f)) if fid.is_some_and(|fid| fid != f) => {
                e.add("vlan", format!("VLAN {v} is not in the given fabric."));
                None
            }
            Some((id, _)) => Some(Placement::Vlan(id)),
        });
    }
    if let Some(fid) = fid {
        let vid = vid.unwrap_or(0);
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2")
                .bind(fid)
                .bind(vid as i32)
                .fetch_optional(&mut *c)
                .await?;
        if id.is_none() {
            e.add(
                "vid",
                format!("No VLAN with vid {vid} in the given fabric."),
            );
        }
        return Ok(id.map(Placement::Vlan));
    }
    if let Some(vid) = vid {
        // No default fabric here: a vid alone must name exactly one VLAN.
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM vlans WHERE vid = $1 LIMIT 2")
            .bind(vid as i32)
            .fetch_all(&mut *c)
            .await?;
        if ids.len() != 1 {
            e.add(
                "fabric",
                format!(
                    "Give the fabric of VLAN {vid}: {} fabrics have one.",
                    ids.len()
                ),
            );
            return Ok(None);
        }
        return Ok(Some(Placement::Vlan(ids[0])));
    }
    Ok(None)
}

/// Subnet fields common to create and update (absent → None).
struct SubnetFields {
    cidr: Option<Cidr>,
    name: Option<String>,
    description: Option<String>,
    gateway: Option<Option<IpAddr>>,
    dns_servers: Option<Vec<String>>,
    rdns_mode: Option<i16>,
    allow_dns: Option<bool>,
    allow_proxy: Option<bool>,
    managed: Option<bool>,
    active_discovery: Option<bool>,
}

fn subnet_fields(req: &Req, e: &mut Errs) -> SubnetFields {
    let cidr = match opt_text(req, "cidr") {
        None => None,
        Some(s) if s.is_empty() => {
            e.add("cidr", "This field cannot be blank.");
            None
        }
        Some(s) => match Cidr::parse(&s) {
            Ok(c) => Some(c),
            Err(err) => {
                e.add("cidr", err.to_string());
                None
            }
        },
    };
    let gateway = match opt_text(req, "gateway_ip") {
        None => None,
        Some(s) if s.is_empty() => Some(None),
        Some(s) => match net::parse_ip(&s) {
            Ok(ip) => Some(Some(ip)),
            Err(_) => {
                e.add("gateway_ip", "Enter a valid IPv4 or IPv6 address.");
                None
            }
        },
    };
    let dns_servers = req.input.has("dns_servers").then(|| {
        let mut out = Vec::new();
        for v in req.input.all("dns_servers") {
            for d in v.split(|c: char| c == ',' || c.is_whitespace()) {
                if d.is_empty() {
                    continue;
                }
                match net::parse_ip(d) {
                    Ok(ip) => out.push(ip.to_string()),
                    Err(err) => e.add("dns_servers", err.to_string()),
                }
            }
        }
        out
    });
    let rdns_mode = opt_int(req, "rdns_mode", e).and_then(|m| {
        if (0..=2).contains(&m) {
            Some(m as i16)
        } else {
            e.add("rdns_mode", invalid_choice(&m.to_string()));
            None
        }
    });
    SubnetFields {
        cidr,
        name: opt_text(req, "name"),
        description: opt_text(req, "description"),
        gateway,
        dns_servers,
        rdns_mode,
        allow_dns: opt_bool(req, "allow_dns", e),
        allow_proxy: opt_bool(req, "allow_proxy", e),
        managed: opt_bool(req, "managed", e),
        active_discovery: opt_bool(req, "active_discovery", e),
    }
}

async fn cidr_taken(c: &mut PgConnection, cidr: &Cidr, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM subnets WHERE cidr = $1::cidr AND id IS DISTINCT FROM $2)",
    )
    .bind(cidr.to_string())
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn subnets(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let list: Vec<Value> = load_subnets(&mut c, None, None)
                .await?
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            Ok(json(&list))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let f = subnet_fields(&req, &mut e);
            if f.cidr.is_none() && !e.has("cidr") {
                e.add("cidr", "This field is required.");
            }
            let mut tx = app.db.begin().await?;
            let placement = subnet_placement(&mut tx, &req, &mut e).await?;
            if let Some(cidr) = &f.cidr {
                if let Some(Some(g)) = f.gateway
                    && !cidr.contains(&g)
                {
                    e.add("gateway_ip", "Gateway IP must be within CIDR range.");
                }
                if cidr_taken(&mut tx, cidr, None).await? {
                    e.add("cidr", "Subnet with this Cidr already exists.");
                }
            }
            e.done()?;
            let Some(cidr) = f.cidr else {
                return Err(Error::field("cidr", "This field is required."));
            };
            let vlan_id = match placement.unwrap_or(Placement::NewFabric) {
                Placement::Vlan(id) => id,
                Placement::NewFabric => {
                    crate::store::networks::create_fabric(&mut tx, None, None)
                        .await?
                        .1
                }
            };
            let name = f
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| cidr.to_string());
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO subnets (name, cidr, vlan_id, gateway_ip, dns_servers, managed,
                                      allow_dns, allow_proxy, active_discovery, rdns_mode, description)
                 VALUES ($1, $2::cidr, $3, $4::inet, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&name)
            .bind(cidr.to_string())
            .bind(vlan_id)
            .bind(f.gateway.flatten().map(|g| g.to_string()))
            .bind(f.dns_servers.unwrap_or_default())
            .bind(f.managed.unwrap_or(true))
            .bind(f.allow_dns.unwrap_or(true))
            .bind(f.allow_proxy.unwrap_or(true))
            .bind(f.active_discovery.unwrap_or(false))
            .bind(f.rdns_mode.unwrap_or(2))
            .bind(f.description.unwrap_or_default())
            .fetch_one(&mut *tx)
            .await?;
            let out = subnet_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

fn render_set(set: &IpSet, purpose: bool) -> Value {
    Value::Array(
        set.spans
            .iter()
            .map(|s| {
                let mut o = json!({
                    "start": set.ip(s.first).to_string(),
                    "end": set.ip(s.last).to_string(),
                    "num_addresses": big(s.size()),
                });
                if purpose {
                    o["purpose"] = json!(s.purpose.iter().collect::<Vec<_>>());
                }
                o
            })
            .collect(),
    )
}

fn statistics_json(st: &Statistics, ranges: bool, suggestions: bool) -> Value {
    let mut o = json!({
        "num_available": big(st.num_available),
        "largest_available": big(st.largest_available),
        "num_unavailable": big(st.num_unavailable),
        "total_addresses": big(st.total_addresses),
        "usage": st.usage,
        "usage_string": net::percent_string(st.usage),
        "available_string": net::percent_string(st.available),
        "first_address": st.first_address.map(|a| a.to_string()),
        "last_address": st.last_address.map(|a| a.to_string()),
        "ip_version": st.ip_version,
    });
    if ranges {
        o["ranges"] = render_set(&st.ranges, true);
    }
    if suggestions {
        o["suggested_gateway"] = json!(st.suggested_gateway.map(|g| g.to_string()));
        o["suggested_dynamic_range"] = match st.suggested_dynamic_range {
            Some((a, b)) => {
                let n = net::ip_to_u128(b) - net::ip_to_u128(a) + 1;
                json!({"start": a.to_string(), "end": b.to_string(), "num_addresses": big(n),
                       "purpose": ["proposed-dynamic"]})
            }
            None => Value::Null,
        };
    }
    o
}

pub async fn subnet(
    State(app): State<App>,
    Path(spec): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    if req.method == Method::GET {
        let mut c = app.db.acquire().await?;
        let id = subnet_by_spec(&mut c, &spec)
            .await?
            .ok_or_else(|| not_found("Subnet"))?;
        return match req.op() {
            None => Ok(json(&subnet_one(&mut c, id).await?)),
            Some("reserved_ip_ranges") => {
                let u = subnet_usage(&mut c, id, None, None).await?;
                Ok(json(&render_set(&u.in_use(), true)))
            }
            Some("unreserved_ip_ranges") => {
                let u = subnet_usage(&mut c, id, None, None).await?;
                Ok(json(&render_set(&u.not_in_use(), false)))
            }
            Some("statistics") => {
                let mut e = Errs::default();
                let ranges = opt_bool(&req, "include_ranges", &mut e).unwrap_or(false);
                let sugg = opt_bool(&req, "include_suggestions", &mut e).unwrap_or(false);
                e.done()?;
                let u = subnet_usage(&mut c, id, None, None).await?;
                Ok(json(&statistics_json(&Statistics::of(&u), ranges, sugg)))
            }
            Some(_) => Err(req.unknown_op()),
        };
    }
    match (&req.method, req.op()) {
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = subnet_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Subnet"))?;
            update_subnet(&mut tx, &req, id).await?;
            let out = subnet_one(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let force = opt_bool(&req, "force", &mut e).unwrap_or(false);
            e.done()?;
            let mut tx = app.db.begin().await?;
            let id = subnet_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Subnet"))?;
            let (cidr, vlan_id): (String, i64) =
                sqlx::query_as("SELECT cidr::text, vlan_id FROM subnets WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let in_use: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM interface_links WHERE subnet_id = $1 AND ip IS NOT NULL",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if in_use > 0 && !force {
                return Err(Error::BadRequest(format!(
                    "Subnet {cidr} has {in_use} IP address(es) in use by nodes; delete it with force=true to release them."
                )));
            }
            keep_dhcp_pool(&mut tx, vlan_id, None, Some(id)).await?;
            sqlx::query("DELETE FROM subnets WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

async fn update_subnet(c: &mut PgConnection, req: &Req, id: i64) -> Result<()> {
    let cur = sqlx::query(
        "SELECT name, cidr::text AS cidr, vlan_id, host(gateway_ip) AS gateway_ip, dns_servers,
                managed, allow_dns, allow_proxy, active_discovery, rdns_mode, description
           FROM subnets WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    let cur_cidr = db_cidr(&cur.get::<String, _>("cidr"))?;
    let cur_vlan: i64 = cur.get("vlan_id");
    let mut e = Errs::default();
    let f = subnet_fields(req, &mut e);
    let placement = subnet_placement(c, req, &mut e).await?;
    let cidr = f.cidr.unwrap_or(cur_cidr);
    if cidr != cur_cidr {
        if cidr_taken(c, &cidr, Some(id)).await? {
            e.add("cidr", "Subnet with this Cidr already exists.");
        }
        let outside: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM ipranges WHERE subnet_id = $1
                      AND NOT (start_ip <<= $2::cidr AND end_ip <<= $2::cidr))
                  + (SELECT count(*) FROM reserved_ips WHERE subnet_id = $1 AND NOT ip <<= $2::cidr)
                  + (SELECT count(*) FROM interface_links WHERE subnet_id = $1
                      AND ip IS NOT NULL AND NOT ip <<= $2::cidr)",
        )
        .bind(id)
        .bind(cidr.to_string())
        .fetch_one(&mut *c)
        .await?;
        if outside > 0 {
            e.add(
                "cidr",
                format!("{outside} IP range(s), reserved IP(s) or assigned address(es) of this subnet lie outside {cidr}."),
            );
        }
    }
    let gateway: Option<IpAddr> = match f.gateway {
        Some(g) => g,
        None => cur
            .get::<Option<String>, _>("gateway_ip")
            .map(|g| db_ip(&g))
            .transpose()?,
    };
    if let Some(g) = gateway
        && !cidr.contains(&g)
    {
        e.add("gateway_ip", "Gateway IP must be within CIDR range.");
    }
    let cur_name: String = cur.get("name");
    let name = match f.name {
        Some(n) if !n.is_empty() => n,
        Some(_) => cidr.to_string(),
        None if cur_name == cur_cidr.to_string() => cidr.to_string(),
        None => cur_name,
    };
    let vlan_id = match placement {
        Some(Placement::Vlan(v)) => v,
        _ => cur_vlan,
    };
    e.done()?;
    if vlan_id != cur_vlan {
        keep_dhcp_pool(c, cur_vlan, None, Some(id)).await?;
    }
    sqlx::query(
        "UPDATE subnets SET name = $2, cidr = $3::cidr, vlan_id = $4, gateway_ip = $5::inet,
                dns_servers = $6, managed = $7, allow_dns = $8, allow_proxy = $9,
                active_discovery = $10, rdns_mode = $11, description = $12
          WHERE id = $1",
    )
    .bind(id)
    .bind(&name)
    .bind(cidr.to_string())
    .bind(vlan_id)
    .bind(gateway.map(|g| g.to_string()))
    .bind(
        f.dns_servers
            .unwrap_or_else(|| cur.get::<Vec<String>, _>("dns_servers")),
    )
    .bind(f.managed.unwrap_or_else(|| cur.get("managed")))
    .bind(f.allow_dns.unwrap_or_else(|| cur.get("allow_dns")))
    .bind(f.allow_proxy.unwrap_or_else(|| cur.get("allow_proxy")))
    .bind(
        f.active_discovery
            .unwrap_or_else(|| cur.get("active_discovery")),
    )
    .bind(f.rdns_mode.unwrap_or_else(|| cur.get("rdns_mode")))
    .bind(f.description.unwrap_or_else(|| cur.get("description")))
    .execute(&mut *c)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// ipranges/

/// The subnet a range or reserved IP goes in: the `subnet` parameter, or the
/// most specific subnet holding `ip`.
async fn owning_subnet(
    c: &mut PgConnection,
    req: &Req,
    ip: Option<&IpAddr>,
    ip_field: &str,
    e: &mut Errs,
) -> Result<Option<i64>> {
    if let Some(s) = opt_text(req, "subnet").filter(|s| !s.is_empty()) {
        let id = subnet_by_spec(c, &s).await?;
        if id.is_none() {
            e.add("subnet", invalid_choice(&s));
        }
        return Ok(id);
    }
    let Some(ip) = ip else { return Ok(None) };
    let id = subnet_containing(c, ip).await?;
    if id.is_none() {
        e.add(
            ip_field,
            format!("No subnet contains {ip}; create the subnet first."),
        );
    }
    Ok(id)
}

fn ip_param(req: &Req, key: &str, required: bool, e: &mut Errs) -> Option<IpAddr> {
    match opt_text(req, key).filter(|s| !s.is_empty()) {
        None => {
            if required {
                e.add(key, "This field is required.");
            }
            None
        }
        Some(s) => match net::parse_ip(&s) {
            Ok(ip) => Some(ip),
            Err(_) => {
                e.add(key, "Enter a valid IPv4 or IPv6 address.");
                None
            }
        },
    }
}

fn range_type_param(req: &Req, required: bool, e: &mut Errs) -> Option<RangeType> {
    match opt_text(req, "type").filter(|s| !s.is_empty()) {
        None => {
            if required {
                e.add("type", "This field is required.");
            }
            None
        }
        Some(t) => {
            let r = RangeType::parse(&t);
            if r.is_none() {
                e.add("type", invalid_choice(&t));
            }
            r
        }
    }
}

/// Check a range against its subnet; errors go on start_ip/end_ip.
async fn check_range(
    c: &mut PgConnection,
    subnet_id: i64,
    without: Option<i64>,
    kind: RangeType,
    start: &IpAddr,
    end: &IpAddr,
    e: &mut Errs,
) -> Result<()> {
    let u = subnet_usage(c, subnet_id, without, None).await?;
    let problems = net::range_problems(&u.cidr, start, end);
    if !problems.is_empty() {
        for (f, m) in problems {
            e.add(f, m);
        }
        return Ok(());
    }
    if let Err(m) = u.check_new_range(kind, start, end) {
        e.add("start_ip", m.clone());
        e.add("end_ip", m);
    }
    Ok(())
}

pub async fn ipranges(State(app): State<App>, req: Req) -> Result<Response> {
    let user = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            Ok(json(&load_ipranges(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let kind = range_type_param(&req, true, &mut e);
            let start = ip_param(&req, "start_ip", true, &mut e);
            let end = ip_param(&req, "end_ip", true, &mut e);
            let comment = opt_text(&req, "comment").unwrap_or_default();
            let mut tx = app.db.begin().await?;
            let subnet = owning_subnet(&mut tx, &req, start.as_ref(), "start_ip", &mut e).await?;
            e.done()?;
            let (Some(kind), Some(start), Some(end), Some(subnet)) = (kind, start, end, subnet)
            else {
                return Err(Error::BadRequest("Incomplete IP range.".into()));
            };
            lock_subnet(&mut tx, subnet).await?;
            let mut e = Errs::default();
            check_range(&mut tx, subnet, None, kind, &start, &end, &mut e).await?;
            e.done()?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO ipranges (subnet_id, type, start_ip, end_ip, comment, user_id)
                 VALUES ($1, $2, $3::inet, $4::inet, $5, $6) RETURNING id",
            )
            .bind(subnet)
            .bind(kind.as_str())
            .bind(start.to_string())
            .bind(end.to_string())
            .bind(&comment)
            .bind(user.id)
            .fetch_one(&mut *tx)
            .await?;
            let out = load_ipranges(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn iprange(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("IPRange"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let out = load_ipranges(&mut c, Some(id))
                .await?
                .pop()
                .ok_or_else(|| not_found("IPRange"))?;
            Ok(json(&out))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let subnet: i64 = sqlx::query_scalar("SELECT subnet_id FROM ipranges WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| not_found("IPRange"))?;
            lock_subnet(&mut tx, subnet).await?;
            let cur = sqlx::query(
                "SELECT r.type, host(r.start_ip), host(r.end_ip), r.comment, s.vlan_id
                   FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
                  WHERE r.id = $1 FOR UPDATE OF r",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found("IPRange"))?;
            let cur_kind =
                RangeType::parse(&cur.get::<String, _>(0)).unwrap_or(RangeType::Reserved);
            let mut e = Errs::default();
            let kind = range_type_param(&req, false, &mut e).unwrap_or(cur_kind);
            let start = ip_param(&req, "start_ip", false, &mut e);
            let end = ip_param(&req, "end_ip", false, &mut e);
            let comment = opt_text(&req, "comment").unwrap_or_else(|| cur.get(3));
            e.done()?;
            let start = match start {
                Some(s) => s,
                None => db_ip(&cur.get::<String, _>(1))?,
            };
            let end = match end {
                Some(s) => s,
                None => db_ip(&cur.get::<String, _>(2))?,
            };
            if cur_kind == RangeType::Dynamic && kind != RangeType::Dynamic {
                keep_dhcp_pool(&mut tx, cur.get(4), Some(id), None).await?;
            }
            let mut e = Errs::default();
            check_range(&mut tx, subnet, Some(id), kind, &start, &end, &mut e).await?;
            e.done()?;
            sqlx::query(
                "UPDATE ipranges SET type = $2, start_ip = $3::inet, end_ip = $4::inet, comment = $5
                  WHERE id = $1",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(start.to_string())
            .bind(end.to_string())
            .bind(&comment)
            .execute(&mut *tx)
            .await?;
            let out = load_ipranges(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT r.type, s.vlan_id FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
                  WHERE r.id = $1 FOR UPDATE OF r",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (kind, vlan) = row.ok_or_else(|| not_found("IPRange"))?;
            if kind == "dynamic" {
                keep_dhcp_pool(&mut tx, vlan, Some(id), None).await?;
            }
            sqlx::query("DELETE FROM ipranges WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

// ---------------------------------------------------------------------------
// reservedips/

fn mac_param(req: &Req, required: bool, e: &mut Errs) -> Option<String> {
    match opt_text(req, "mac_address").filter(|s| !s.is_empty()) {
        None => {
            if required {
                e.add("mac_address", "This field is required.");
            }
            None
        }
        Some(m) => {
            let n = maas_model::ids::normalize_mac(&m);
            if n.is_none() {
                e.add("mac_address", format!("'{m}' is not a valid MAC address."));
            }
            n
        }
    }
}

/// Check a reserved IP (ip + mac in a subnet); errors go on ip/mac_address.
async fn check_reserved_ip(
    c: &mut PgConnection,
    subnet_id: i64,
    without: Option<i64>,
    ip: &IpAddr,
    mac: &str,
    e: &mut Errs,
) -> Result<()> {
    let u = subnet_usage(c, subnet_id, None, without).await?;
    if let Err(m) = u.check_reserved_ip(ip) {
        e.add("ip", m);
    }
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reserved_ips WHERE ip = $1::inet AND id IS DISTINCT FROM $2)",
    )
    .bind(ip.to_string())
    .bind(without)
    .fetch_one(&mut *c)
    .await?;
    if taken {
        e.add("ip", "Reserved IP with this IP address already exists.");
    }
    let other: Option<String> = sqlx::query_scalar(
        "SELECT host(r.ip) FROM reserved_ips r JOIN subnets s ON s.id = r.subnet_id
          WHERE r.mac_address = $1 AND r.id IS DISTINCT FROM $2
            AND family(r.ip) = family($3::inet)
            AND s.vlan_id = (SELECT vlan_id FROM subnets WHERE id = $4)
          LIMIT 1",
    )
    .bind(mac)
    .bind(without)
    .bind(ip.to_string())
    .bind(subnet_id)
    .fetch_optional(&mut *c)
    .await?;
    if let Some(o) = other {
        e.add(
            "mac_address",
            format!("{mac} already has the reserved IP {o} on this VLAN."),
        );
    }
    Ok(())
}

pub async fn reserved_ips(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            Ok(json(&load_reserved_ips(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let ip = ip_param(&req, "ip", true, &mut e);
            let mac = mac_param(&req, true, &mut e);
            let comment = opt_text(&req, "comment").unwrap_or_default();
            let mut tx = app.db.begin().await?;
            let subnet = owning_subnet(&mut tx, &req, ip.as_ref(), "ip", &mut e).await?;
            e.done()?;
            let (Some(ip), Some(mac), Some(subnet)) = (ip, mac, subnet) else {
                return Err(Error::BadRequest("Incomplete reserved IP.".into()));
            };
            lock_subnet(&mut tx, subnet).await?;
            let mut e = Errs::default();
            check_reserved_ip(&mut tx, subnet, None, &ip, &mac, &mut e).await?;
            e.done()?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reserved_ips (subnet_id, ip, mac_address, comment)
                 VALUES ($1, $2::inet, $3, $4) RETURNING id",
            )
            .bind(subnet)
            .bind(ip.to_string())
            .bind(&mac)
            .bind(&comment)
            .fetch_one(&mut *tx)
            .await?;
            let out = load_reserved_ips(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn reserved_ip(
    State(app): State<App>,
    Path(id): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("ReservedIP"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let out = load_reserved_ips(&mut c, Some(id))
                .await?
                .pop()
                .ok_or_else(|| not_found("ReservedIP"))?;
            Ok(json(&out))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let cur: (i64, String, String, String) = sqlx::query_as(
                "SELECT subnet_id, host(ip), mac_address, comment FROM reserved_ips WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found("ReservedIP"))?;
            let mut e = Errs::default();
            let ip = ip_param(&req, "ip", false, &mut e);
            let mac = mac_param(&req, false, &mut e).unwrap_or(cur.2);
            let comment = opt_text(&req, "comment").unwrap_or(cur.3);
            let ip = match ip {
                Some(ip) => ip,
                None => db_ip(&cur.1)?,
            };
            // Another subnet when asked for, or when the new address leaves
            // the current one.
            let subnet = if opt_text(&req, "subnet").is_some_and(|s| !s.is_empty()) {
                owning_subnet(&mut tx, &req, Some(&ip), "ip", &mut e).await?
            } else {
                let inside: bool =
                    sqlx::query_scalar("SELECT $2::inet <<= cidr FROM subnets WHERE id = $1")
                        .bind(cur.0)
                        .bind(ip.to_string())
                        .fetch_one(&mut *tx)
                        .await?;
                if inside {
                    Some(cur.0)
                } else {
                    owning_subnet(&mut tx, &req, Some(&ip), "ip", &mut e).await?
                }
            };
            e.done()?;
            let Some(subnet) = subnet else {
                return Err(Error::field("ip", "No subnet holds this address."));
            };
            lock_subnet(&mut tx, subnet).await?;
            sqlx::query("SELECT id FROM reserved_ips WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let mut e = Errs::default();
            check_reserved_ip(&mut tx, subnet, Some(id), &ip, &mac, &mut e).await?;
            e.done()?;
            sqlx::query(
                "UPDATE reserved_ips SET subnet_id = $2, ip = $3::inet, mac_address = $4, comment = $5
                  WHERE id = $1",
            )
            .bind(id)
            .bind(subnet)
            .bind(ip.to_string())
            .bind(&mac)
            .bind(&comment)
            .execute(&mut *tx)
            .await?;
            let out = load_reserved_ips(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let n = sqlx::query("DELETE FROM reserved_ips WHERE id = $1")
                .bind(id)
                .execute(&app.db)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(not_found("ReservedIP"));
            }
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

// ---------------------------------------------------------------------------
// spaces/

async fn space_name_taken(c: &mut PgConnection, name: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM spaces WHERE name = $1 AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn spaces(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            Ok(json(&load_spaces(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut e = Errs::default();
            let name = opt_text(&req, "name").filter(|n| !n.is_empty());
            if let Some(n) = &name {
                check_name("space", n, &mut e);
                if n == "undefined" {
                    e.add("name", "'undefined' is reserved for VLANs without a space.");
                }
            }
            let description = opt_text(&req, "description").unwrap_or_default();
            let mut tx = app.db.begin().await?;
            if let Some(n) = &name
                && space_name_taken(&mut tx, n, None).await?
            {
                e.add("name", "Space with this Name already exists.");
            }
            e.done()?;
            let id: i64 = sqlx::query_scalar("SELECT nextval('spaces_id_seq')")
                .fetch_one(&mut *tx)
                .await?;
            let name = name.unwrap_or_else(|| format!("space-{id}"));
            sqlx::query("INSERT INTO spaces (id, name, description) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&name)
                .bind(&description)
                .execute(&mut *tx)
                .await?;
            let out = load_spaces(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn space(State(app): State<App>, Path(spec): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = app.db.acquire().await?;
            let id = space_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            Ok(json(&load_spaces(&mut c, Some(id)).await?.pop()))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let id = space_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            let (cur_name, cur_desc): (String, String) =
                sqlx::query_as("SELECT name, description FROM spaces WHERE id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let mut e = Errs::default();
            let name = match opt_text(&req, "name") {
                Some(n) if n.is_empty() => format!("space-{id}"),
                Some(n) => {
                    check_name("space", &n, &mut e);
                    n
                }
                None => cur_name,
            };
            if !e.has("name") && space_name_taken(&mut tx, &name, Some(id)).await? {
                e.add("name", "Space with this Name already exists.");
            }
            let description = opt_text(&req, "description").unwrap_or(cur_desc);
            e.done()?;
            sqlx::query("UPDATE spaces SET name = $2, description = $3 WHERE id = $1")
                .bind(id)
                .bind(&name)
                .bind(&description)
                .execute(&mut *tx)
                .await?;
            let out = load_spaces(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut c = app.db.acquire().await?;
            let id = space_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            // VLANs in the space fall back to "undefined" (ON DELETE SET NULL).
            sqlx::query("DELETE FROM spaces WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
