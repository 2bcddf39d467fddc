//! Regions (each registers itself at start) and static routes.

use sqlx::Row;

use crate::error::Result;
use crate::store::{Conn, Pool};

#[derive(Debug, Clone)]
pub struct RegionRow {
    pub system_id: String,
    pub hostname: String,
    pub version: String,
    pub last_seen: chrono::DateTime<chrono::Utc>,
}

/// Record this region (insert or refresh).
pub async fn upsert(db: &Pool, system_id: &str, hostname: &str, version: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO regions (system_id, hostname, version) VALUES ($1, $2, $3)
         ON CONFLICT (system_id) DO UPDATE
           SET hostname = EXCLUDED.hostname, version = EXCLUDED.version, last_seen = now()",
    )
    .bind(system_id)
    .bind(hostname)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

/// This region is alive now.
pub async fn seen(db: &Pool, system_id: &str) -> Result<()> {
    sqlx::query("UPDATE regions SET last_seen = now() WHERE system_id = $1")
        .bind(system_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn list(db: &Pool, system_id: Option<&str>) -> Result<Vec<RegionRow>> {
    let rows = sqlx::query(
        "SELECT system_id, hostname, version, last_seen FROM regions
          WHERE $1::text IS NULL OR system_id = $1 ORDER BY id",
    )
    .bind(system_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RegionRow {
                system_id: r.try_get(0)?,
                hostname: r.try_get(1)?,
                version: r.try_get(2)?,
                last_seen: r.try_get(3)?,
            })
        })
        .collect()
}

/// A static route with its two subnets' ids.
#[derive(Debug, Clone)]
pub struct RouteRow {
    pub id: i64,
    pub source_id: i64,
    pub destination_id: i64,
    pub gateway_ip: String,
    pub metric: i32,
}

fn route(r: &sqlx::postgres::PgRow) -> Result<RouteRow> {
    Ok(RouteRow {
        id: r.try_get(0)?,
        source_id: r.try_get(1)?,
        destination_id: r.try_get(2)?,
        gateway_ip: r.try_get(3)?,
        metric: r.try_get(4)?,
    })
}

pub async fn routes(c: &mut Conn, id: Option<i64>) -> Result<Vec<RouteRow>> {
    let rows = sqlx::query(
        "SELECT id, source_id, destination_id, host(gateway_ip), metric FROM static_routes
          WHERE $1::bigint IS NULL OR id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(route).collect()
}

/// The route, locked.
pub async fn lock_route(c: &mut Conn, id: i64) -> Result<Option<RouteRow>> {
    let r = sqlx::query(
        "SELECT id, source_id, destination_id, host(gateway_ip), metric FROM static_routes
          WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    r.as_ref().map(route).transpose()
}

/// Whether another route (not `except`) has these source, destination and gateway.
pub async fn route_exists(c: &mut Conn, r: &RouteRow) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM static_routes WHERE source_id = $1 AND destination_id = $2
                          AND gateway_ip = $3::inet AND id <> $4)",
    )
    .bind(r.source_id)
    .bind(r.destination_id)
    .bind(&r.gateway_ip)
    .bind(r.id)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn insert_route(c: &mut Conn, r: &RouteRow) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO static_routes (source_id, destination_id, gateway_ip, metric)
         VALUES ($1, $2, $3::inet, $4) RETURNING id",
    )
    .bind(r.source_id)
    .bind(r.destination_id)
    .bind(&r.gateway_ip)
    .bind(r.metric)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update_route(c: &mut Conn, r: &RouteRow) -> Result<()> {
    sqlx::query(
        "UPDATE static_routes SET source_id = $2, destination_id = $3, gateway_ip = $4::inet,
             metric = $5 WHERE id = $1",
    )
    .bind(r.id)
    .bind(r.source_id)
    .bind(r.destination_id)
    .bind(&r.gateway_ip)
    .bind(r.metric)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete_route(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM static_routes WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
