//! VLANs.

use sqlx::Row;

use crate::error::Result;
use crate::store::Conn;

/// A VLAN as it is shown: with the names of its fabric, racks and space.
#[derive(Debug, Clone)]
pub struct VlanRow {
    pub id: i64,
    pub vid: i32,
    pub name: Option<String>,
    pub mtu: i32,
    pub dhcp_on: bool,
    pub external_dhcp: Option<String>,
    pub description: String,
    pub relay_vlan_id: Option<i64>,
    pub fabric_id: i64,
    pub fabric: String,
    pub primary_rack: Option<String>,
    pub secondary_rack: Option<String>,
    pub space: Option<String>,
}

/// Which VLANs to list; every given condition must hold.
#[derive(Debug, Clone, Default)]
pub struct VlanFilter {
    pub ids: Option<Vec<i64>>,
    pub fabrics: Option<Vec<i64>>,
    pub space: Option<i64>,
}

/// VLANs by fabric, then vid.
pub async fn list(c: &mut Conn, f: &VlanFilter) -> Result<Vec<VlanRow>> {
    let rows = sqlx::query(
        "SELECT v.id, v.vid, v.name, v.mtu, v.dhcp_on, v.external_dhcp,
                v.description, v.relay_vlan_id, v.fabric_id, f.name AS fabric,
                pr.system_id AS primary_rack, sr.system_id AS secondary_rack, sp.name AS space
           FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN racks pr ON pr.id = v.primary_rack_id
           LEFT JOIN racks sr ON sr.id = v.secondary_rack_id
           LEFT JOIN spaces sp ON sp.id = v.space_id
          WHERE ($1::int8[] IS NULL OR v.id = ANY($1))
            AND ($2::int8[] IS NULL OR v.fabric_id = ANY($2))
            AND ($3::int8 IS NULL OR v.space_id = $3)
          ORDER BY v.fabric_id, v.vid",
    )
    .bind(&f.ids)
    .bind(&f.fabrics)
    .bind(f.space)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| VlanRow {
            id: r.get("id"),
            vid: r.get("vid"),
            name: r.get("name"),
            mtu: r.get("mtu"),
            dhcp_on: r.get("dhcp_on"),
            external_dhcp: r.get("external_dhcp"),
            description: r.get("description"),
            relay_vlan_id: r.get("relay_vlan_id"),
            fabric_id: r.get("fabric_id"),
            fabric: r.get("fabric"),
            primary_rack: r.get("primary_rack"),
            secondary_rack: r.get("secondary_rack"),
            space: r.get("space"),
        })
        .collect())
}

/// The VLAN with this id, if any.
pub async fn find(c: &mut Conn, id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM vlans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?)
}

/// The VLAN with `vid` on `fabric`, if any.
pub async fn find_by_vid(c: &mut Conn, fabric: i64, vid: i32) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2")
            .bind(fabric)
            .bind(vid)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Up to two VLANs (on any fabric) with this vid.
pub async fn some_with_vid(c: &mut Conn, vid: i32) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM vlans WHERE vid = $1 LIMIT 2")
            .bind(vid)
            .fetch_all(&mut *c)
            .await?,
    )
}

/// The fabric of the VLAN with this id, if there is one.
pub async fn fabric_of(c: &mut Conn, id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT fabric_id FROM vlans WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Whether another VLAN (not `not`) on `fabric` has this vid.
pub async fn vid_taken(c: &mut Conn, fabric: i64, vid: i32, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM vlans WHERE fabric_id = $1 AND vid = $2 AND id IS DISTINCT FROM $3)",
    )
    .bind(fabric)
    .bind(vid)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// A VLAN's own columns (what an update reads and writes).
#[derive(Debug, Clone)]
pub struct VlanState {
    pub fabric_id: i64,
    pub vid: i32,
    pub name: Option<String>,
    pub mtu: i32,
    pub description: String,
    pub dhcp_on: bool,
    pub primary_rack_id: Option<i64>,
    pub secondary_rack_id: Option<i64>,
    pub relay_vlan_id: Option<i64>,
    pub space_id: Option<i64>,
}

/// The VLAN, locked for this transaction.
pub async fn lock(c: &mut Conn, id: i64) -> Result<VlanState> {
    let r = sqlx::query(
        "SELECT fabric_id, vid, name, mtu, description, dhcp_on, primary_rack_id,
                secondary_rack_id, relay_vlan_id, space_id
           FROM vlans WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    Ok(VlanState {
        fabric_id: r.get("fabric_id"),
        vid: r.get("vid"),
        name: r.get("name"),
        mtu: r.get("mtu"),
        description: r.get("description"),
        dhcp_on: r.get("dhcp_on"),
        primary_rack_id: r.get("primary_rack_id"),
        secondary_rack_id: r.get("secondary_rack_id"),
        relay_vlan_id: r.get("relay_vlan_id"),
        space_id: r.get("space_id"),
    })
}

/// Write everything but the fabric.
pub async fn update(c: &mut Conn, id: i64, s: &VlanState) -> Result<()> {
    sqlx::query(
        "UPDATE vlans SET vid = $2, name = $3, mtu = $4, description = $5, dhcp_on = $6,
                primary_rack_id = $7, secondary_rack_id = $8, relay_vlan_id = $9, space_id = $10
          WHERE id = $1",
    )
    .bind(id)
    .bind(s.vid)
    .bind(&s.name)
    .bind(s.mtu)
    .bind(&s.description)
    .bind(s.dhcp_on)
    .bind(s.primary_rack_id)
    .bind(s.secondary_rack_id)
    .bind(s.relay_vlan_id)
    .bind(s.space_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A new VLAN (DHCP off, no racks, no relay).
pub struct NewVlan<'a> {
    pub fabric_id: i64,
    pub vid: i32,
    pub name: Option<&'a str>,
    pub mtu: i32,
    pub description: &'a str,
    pub space_id: Option<i64>,
}

pub async fn insert(c: &mut Conn, v: &NewVlan<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO vlans (fabric_id, vid, name, mtu, description, space_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(v.fabric_id)
    .bind(v.vid)
    .bind(v.name)
    .bind(v.mtu)
    .bind(v.description)
    .bind(v.space_id)
    .fetch_one(&mut *c)
    .await?)
}

/// Where this VLAN relays DHCP to: None if there is no such VLAN,
/// Some(None) if it relays nowhere.
pub async fn relay_of(c: &mut Conn, id: i64) -> Result<Option<Option<i64>>> {
    Ok(
        sqlx::query_scalar("SELECT relay_vlan_id FROM vlans WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// Whether any VLAN relays DHCP to this one.
pub async fn relayed_to(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM vlans WHERE relay_vlan_id = $1)")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// How many dynamic IP ranges the VLAN's subnets have.
pub async fn dynamic_ranges(c: &mut Conn, id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
          WHERE s.vlan_id = $1 AND r.type = 'dynamic'",
    )
    .bind(id)
    .fetch_one(&mut *c)
    .await?)
}

/// A VLAN's DHCP state and the dynamic ranges it would keep.
#[derive(Debug, Clone)]
pub struct DhcpPool {
    pub dhcp_on: bool,
    pub vid: i32,
    pub fabric: String,
    /// Dynamic ranges on the VLAN's subnets, leaving out the given range and
    /// the given subnet's ranges.
    pub dynamic_ranges: i64,
}

pub async fn dhcp_pool(
    c: &mut Conn,
    id: i64,
    without_range: Option<i64>,
    without_subnet: Option<i64>,
) -> Result<Option<DhcpPool>> {
    let row = sqlx::query(
        "SELECT v.dhcp_on, v.vid, f.name,
                (SELECT count(*) FROM ipranges r JOIN subnets s ON s.id = r.subnet_id
                  WHERE s.vlan_id = v.id AND r.type = 'dynamic'
                    AND r.id IS DISTINCT FROM $2 AND s.id IS DISTINCT FROM $3) AS n
           FROM vlans v JOIN fabrics f ON f.id = v.fabric_id WHERE v.id = $1",
    )
    .bind(id)
    .bind(without_range)
    .bind(without_subnet)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.map(|r| DhcpPool {
        dhcp_on: r.get(0),
        vid: r.get(1),
        fabric: r.get(2),
        dynamic_ranges: r.get(3),
    }))
}

/// The CIDRs of the VLAN's subnets, by subnet id.
pub async fn subnet_cidrs(c: &mut Conn, id: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT cidr::text FROM subnets WHERE vlan_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *c)
            .await?,
    )
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM vlans WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
