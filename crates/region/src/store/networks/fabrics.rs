//! Fabrics.

use sqlx::Row;

use crate::error::Result;
use crate::store::Conn;

#[derive(Debug, Clone)]
pub struct FabricRow {
    pub id: i64,
    pub name: String,
    pub class_type: Option<String>,
}

fn row(r: &sqlx::postgres::PgRow) -> FabricRow {
    FabricRow {
        id: r.get(0),
        name: r.get(1),
        class_type: r.get(2),
    }
}

/// Every fabric (or the one with `id`), by id.
pub async fn list(c: &mut Conn, id: Option<i64>) -> Result<Vec<FabricRow>> {
    let rows = sqlx::query(
        "SELECT id, name, class_type FROM fabrics WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.iter().map(row).collect())
}

/// The fabric, locked for this transaction.
pub async fn lock(c: &mut Conn, id: i64) -> Result<FabricRow> {
    let r = sqlx::query("SELECT id, name, class_type FROM fabrics WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_one(&mut *c)
        .await?;
    Ok(row(&r))
}

/// Whether another fabric (not `not`) has this name.
pub async fn name_taken(c: &mut Conn, name: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM fabrics WHERE name = $1 AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(c: &mut Conn, id: i64, name: &str, class_type: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE fabrics SET name = $2, class_type = $3 WHERE id = $1")
        .bind(id)
        .bind(name)
        .bind(class_type)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The CIDRs of the subnets on the fabric's VLANs, by subnet id.
pub async fn subnet_cidrs(c: &mut Conn, id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT s.cidr::text FROM subnets s JOIN vlans v ON v.id = s.vlan_id
          WHERE v.fabric_id = $1 ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?)
}

/// `host:interface` of every machine or rack interface on the fabric's
/// VLANs, sorted.
pub async fn connected_interfaces(c: &mut Conn, id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
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
    .fetch_all(&mut *c)
    .await?)
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM fabrics WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
