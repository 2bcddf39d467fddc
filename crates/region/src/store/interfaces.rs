//! A machine's interfaces as the interface API edits them: rows, parents,
//! links, default gateways, and the addresses in use anywhere.

use std::net::IpAddr;

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::Result;
use crate::store::Conn;

/// One interface's own columns.
#[derive(Debug, Clone)]
pub struct IfaceRec {
    pub id: i64,
    pub machine_id: i64,
    pub name: String,
    pub type_: String,
    pub mac_address: String,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub vlan_id: Option<i64>,
    pub is_boot: bool,
    pub params: Option<serde_json::Value>,
    pub link_connected: bool,
    pub link_speed: i32,
    pub interface_speed: i32,
}

const COLS: &str = "SELECT id, machine_id, name, type, mac_address, enabled, tags, vlan_id,
    is_boot, params, link_connected, link_speed, interface_speed FROM interfaces";

fn rec(r: &PgRow) -> IfaceRec {
    IfaceRec {
        id: r.get(0),
        machine_id: r.get(1),
        name: r.get(2),
        type_: r.get(3),
        mac_address: r.get(4),
        enabled: r.get(5),
        tags: r.get(6),
        vlan_id: r.get(7),
        is_boot: r.get(8),
        params: r.get(9),
        link_connected: r.get(10),
        link_speed: r.get(11),
        interface_speed: r.get(12),
    }
}

/// The interface `id` of machine `machine_id`, locked for this transaction.
pub async fn get(c: &mut Conn, machine_id: i64, id: i64) -> Result<Option<IfaceRec>> {
    let q = format!("{COLS} WHERE id = $1 AND machine_id = $2 FOR UPDATE");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id)
        .bind(machine_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.as_ref().map(rec))
}

/// The machine's interfaces by id.
pub async fn of_machine(c: &mut Conn, machine_id: i64) -> Result<Vec<IfaceRec>> {
    let q = format!("{COLS} WHERE machine_id = $1 ORDER BY id");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(machine_id)
        .fetch_all(&mut *c)
        .await?;
    Ok(r.iter().map(rec).collect())
}

/// Interfaces by id, whichever machine they are on.
pub async fn by_ids(c: &mut Conn, ids: &[i64]) -> Result<Vec<IfaceRec>> {
    let q = format!("{COLS} WHERE id = ANY($1) ORDER BY id");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(ids)
        .fetch_all(&mut *c)
        .await?;
    Ok(r.iter().map(rec).collect())
}

/// A new interface.
pub struct NewIface<'a> {
    pub machine_id: i64,
    pub name: &'a str,
    pub type_: &'a str,
    pub mac_address: &'a str,
    pub tags: &'a [String],
    pub vlan_id: Option<i64>,
    pub params: Option<&'a serde_json::Value>,
    pub is_boot: bool,
    pub enabled: bool,
    pub link_connected: bool,
    pub link_speed: i32,
    pub interface_speed: i32,
}

pub async fn insert(c: &mut Conn, i: &NewIface<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO interfaces (machine_id, name, type, mac_address, tags, vlan_id, params,
                                 is_boot, enabled, link_connected, link_speed, interface_speed,
                                 user_created)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, true) RETURNING id",
    )
    .bind(i.machine_id)
    .bind(i.name)
    .bind(i.type_)
    .bind(i.mac_address)
    .bind(i.tags)
    .bind(i.vlan_id)
    .bind(i.params)
    .bind(i.is_boot)
    .bind(i.enabled)
    .bind(i.link_connected)
    .bind(i.link_speed)
    .bind(i.interface_speed)
    .fetch_one(&mut *c)
    .await?)
}

/// Write back an interface's editable columns.
pub async fn update(c: &mut Conn, i: &IfaceRec) -> Result<()> {
    sqlx::query(
        "UPDATE interfaces SET name = $2, mac_address = $3, enabled = $4, tags = $5, vlan_id = $6,
                params = $7, link_connected = $8, link_speed = $9, interface_speed = $10
          WHERE id = $1",
    )
    .bind(i.id)
    .bind(&i.name)
    .bind(&i.mac_address)
    .bind(i.enabled)
    .bind(&i.tags)
    .bind(i.vlan_id)
    .bind(&i.params)
    .bind(i.link_connected)
    .bind(i.link_speed)
    .bind(i.interface_speed)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, ids: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM interfaces WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Whether the machine has another interface named `name`.
pub async fn name_taken(
    c: &mut Conn,
    machine_id: i64,
    name: &str,
    not: Option<i64>,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interfaces WHERE machine_id = $1 AND name = $2
                         AND ($3::int8 IS NULL OR id <> $3))",
    )
    .bind(machine_id)
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// Whether a physical interface (other than `not`) has this MAC.
pub async fn physical_mac_taken(c: &mut Conn, mac: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interfaces WHERE type = 'physical' AND mac_address = $1
                         AND ($2::int8 IS NULL OR id <> $2))",
    )
    .bind(mac)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

// ------------------------------------------------------------ parents

/// (child, parent) pairs touching any of `ids`, as ids and the other's type.
pub async fn parents_of(c: &mut Conn, child: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT parent_id FROM interface_parents WHERE child_id = $1 ORDER BY parent_id",
    )
    .bind(child)
    .fetch_all(&mut *c)
    .await?)
}

/// The children of `parent`: (id, type, name).
pub async fn children_of(c: &mut Conn, parent: i64) -> Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query(
        "SELECT i.id, i.type, i.name FROM interface_parents p JOIN interfaces i ON i.id = p.child_id
          WHERE p.parent_id = $1 ORDER BY i.id",
    )
    .bind(parent)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

pub async fn set_parents(c: &mut Conn, child: i64, parents: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM interface_parents WHERE child_id = $1 AND NOT parent_id = ANY($2)")
        .bind(child)
        .bind(parents)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO interface_parents (child_id, parent_id) SELECT $1, unnest($2::int8[])
         ON CONFLICT DO NOTHING",
    )
    .bind(child)
    .bind(parents)
    .execute(&mut *c)
    .await?;
    Ok(())
}

// ------------------------------------------------------------ links

/// A link of an interface to a subnet.
#[derive(Debug, Clone)]
pub struct LinkRec {
    pub id: i64,
    pub interface_id: i64,
    pub subnet_id: i64,
    pub mode: String,
    pub ip: Option<String>,
    pub default_gateway: bool,
    /// The subnet's network and gateway.
    pub cidr: String,
    pub gateway_ip: Option<String>,
}

const LINK_COLS: &str =
    "SELECT l.id, l.interface_id, l.subnet_id, l.mode, host(l.ip), l.default_gateway,
    s.cidr::text, host(s.gateway_ip)
    FROM interface_links l JOIN subnets s ON s.id = l.subnet_id";

fn link(r: &PgRow) -> LinkRec {
    LinkRec {
        id: r.get(0),
        interface_id: r.get(1),
        subnet_id: r.get(2),
        mode: r.get(3),
        ip: r.get(4),
        default_gateway: r.get(5),
        cidr: r.get(6),
        gateway_ip: r.get(7),
    }
}

pub async fn links_of(c: &mut Conn, iface: i64) -> Result<Vec<LinkRec>> {
    let q = format!("{LINK_COLS} WHERE l.interface_id = $1 ORDER BY l.id");
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(iface)
        .fetch_all(&mut *c)
        .await?;
    Ok(r.iter().map(link).collect())
}

pub async fn links_of_machine(c: &mut Conn, machine_id: i64) -> Result<Vec<LinkRec>> {
    let q = format!(
        "{LINK_COLS} JOIN interfaces i ON i.id = l.interface_id WHERE i.machine_id = $1 ORDER BY l.id"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(machine_id)
        .fetch_all(&mut *c)
        .await?;
    Ok(r.iter().map(link).collect())
}

pub async fn insert_link(
    c: &mut Conn,
    iface: i64,
    subnet: i64,
    mode: &str,
    ip: Option<&IpAddr>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
         VALUES ($1, $2, $3, $4::inet) RETURNING id",
    )
    .bind(iface)
    .bind(subnet)
    .bind(mode)
    .bind(ip.map(|i| i.to_string()))
    .fetch_one(&mut *c)
    .await?)
}

pub async fn delete_links(c: &mut Conn, ids: &[i64]) -> Result<()> {
    sqlx::query("DELETE FROM interface_links WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Move every link of the interfaces `from` to `to`.
pub async fn move_links(c: &mut Conn, from: &[i64], to: i64) -> Result<()> {
    sqlx::query("UPDATE interface_links SET interface_id = $2 WHERE interface_id = ANY($1)")
        .bind(from)
        .bind(to)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Make `link` the machine's default gateway link of its family (clearing
/// the other one of that family).
pub async fn set_gateway(c: &mut Conn, machine_id: i64, link: i64) -> Result<()> {
    sqlx::query(
        "UPDATE interface_links l SET default_gateway = (l.id = $2)
           FROM interfaces i, subnets s
          WHERE i.id = l.interface_id AND i.machine_id = $1 AND s.id = l.subnet_id
            AND family(s.cidr) = (SELECT family(s2.cidr) FROM interface_links l2
                                    JOIN subnets s2 ON s2.id = l2.subnet_id WHERE l2.id = $2)
            AND (l.default_gateway OR l.id = $2)",
    )
    .bind(machine_id)
    .bind(link)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn clear_gateways(c: &mut Conn, machine_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE interface_links l SET default_gateway = false FROM interfaces i
          WHERE i.id = l.interface_id AND i.machine_id = $1 AND l.default_gateway",
    )
    .bind(machine_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Whether `ip` is held by a link, a reserved IP, a user reservation or a
/// DNS resource.
pub async fn ip_in_use(c: &mut Conn, ip: &IpAddr) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interface_links WHERE ip = $1::inet)
             OR EXISTS (SELECT 1 FROM reserved_ips WHERE ip = $1::inet)
             OR EXISTS (SELECT 1 FROM ip_reservations WHERE ip = $1::inet)
             OR EXISTS (SELECT 1 FROM dnsresource_ips WHERE ip = $1::inet)",
    )
    .bind(ip.to_string())
    .fetch_one(&mut *c)
    .await?)
}

/// A VLAN's vid and fabric.
pub async fn vlan_info(c: &mut Conn, id: i64) -> Result<Option<(i32, i64)>> {
    let r = sqlx::query("SELECT vid, fabric_id FROM vlans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|r| (r.get(0), r.get(1))))
}

/// The first subnet on a VLAN.
pub async fn first_subnet_on(c: &mut Conn, vlan: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM subnets WHERE vlan_id = $1 ORDER BY id LIMIT 1")
            .bind(vlan)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// The interfaces the API created on a machine.
pub async fn user_created(c: &mut Conn, machine_id: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM interfaces WHERE machine_id = $1 AND user_created")
            .bind(machine_id)
            .fetch_all(&mut *c)
            .await?,
    )
}

/// Delete every link of the machine's interfaces.
pub async fn delete_machine_links(c: &mut Conn, machine_id: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM interface_links l USING interfaces i
          WHERE i.id = l.interface_id AND i.machine_id = $1",
    )
    .bind(machine_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// AUTO links without an address on the machine (claimed at deploy).
pub async fn unclaimed_auto_links(c: &mut Conn, machine_id: i64) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(
        "SELECT l.id, l.subnet_id FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
          WHERE i.machine_id = $1 AND l.mode = 'auto' AND l.ip IS NULL ORDER BY l.id",
    )
    .bind(machine_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn set_link_ip(c: &mut Conn, link: i64, ip: &IpAddr) -> Result<()> {
    sqlx::query("UPDATE interface_links SET ip = $2::inet WHERE id = $1")
        .bind(link)
        .bind(ip.to_string())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The hostname of the machine with an interface of this MAC, if any.
pub async fn node_of_mac(c: &mut Conn, mac: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id
          WHERE i.mac_address = $1 LIMIT 1",
    )
    .bind(mac)
    .fetch_optional(&mut *c)
    .await?)
}

/// Name the VLAN interfaces on `parent` after it (`{parent}.{vid}`).
pub async fn rename_vlan_children(c: &mut Conn, parent: i64, name: &str) -> Result<()> {
    sqlx::query(
        "UPDATE interfaces ch SET name = $2 || '.' || v.vid
           FROM interface_parents p, vlans v
          WHERE p.parent_id = $1 AND ch.id = p.child_id AND ch.type = 'vlan' AND v.id = ch.vlan_id",
    )
    .bind(parent)
    .bind(name)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Clear the addresses of the machine's AUTO links.
pub async fn clear_auto_ips(c: &mut Conn, machine_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE interface_links l SET ip = NULL FROM interfaces i
          WHERE i.id = l.interface_id AND i.machine_id = $1 AND l.mode = 'auto'
            AND l.ip IS NOT NULL",
    )
    .bind(machine_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The machine's first networking after commissioning (MAAS's initial
/// networking configuration): when none of its interfaces has a link, the
/// enabled physical interface that holds a DHCP lease (the boot interface
/// first, else the newest lease) joins the leased subnet's VLAN with an AUTO
/// link, whose address is claimed at deploy. `(interface, subnet)` when a
/// link was made.
pub async fn initial_auto_link(c: &mut Conn, machine_id: i64) -> Result<Option<(i64, i64)>> {
    let row = sqlx::query(
        "SELECT i.id, s.id, s.vlan_id
           FROM interfaces i
           JOIN dhcp_leases d ON d.mac = lower(i.mac_address)
           JOIN subnets s ON s.id = d.subnet_id
          WHERE i.machine_id = $1 AND i.type = 'physical' AND i.enabled
            AND d.expires > now()
            AND NOT EXISTS (SELECT 1 FROM interface_links l JOIN interfaces j
                             ON j.id = l.interface_id WHERE j.machine_id = $1)
          ORDER BY i.is_boot DESC, d.updated DESC
          LIMIT 1",
    )
    .bind(machine_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let (iface, subnet, vlan): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
    sqlx::query("UPDATE interfaces SET vlan_id = $2 WHERE id = $1")
        .bind(iface)
        .bind(vlan)
        .execute(&mut *c)
        .await?;
    insert_link(c, iface, subnet, "auto", None).await?;
    Ok(Some((iface, subnet)))
}
