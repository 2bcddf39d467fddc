//! IP addresses users reserve (`ipaddresses/`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::Result;
use crate::store::Conn;

#[derive(Debug, Clone)]
pub struct ReservationRow {
    pub id: i64,
    pub ip: String,
    pub subnet_id: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub is_superuser: Option<bool>,
    pub hostname: String,
    pub mac_address: Option<String>,
    pub created: DateTime<Utc>,
}

const COLS: &str = "SELECT r.id, host(r.ip), r.subnet_id, r.user_id, u.username, u.email,
    u.is_superuser, r.hostname, r.mac_address, r.created
    FROM ip_reservations r LEFT JOIN users u ON u.id = r.user_id";

fn row(r: &PgRow) -> ReservationRow {
    ReservationRow {
        id: r.get(0),
        ip: r.get(1),
        subnet_id: r.get(2),
        user_id: r.get(3),
        username: r.get(4),
        email: r.get(5),
        is_superuser: r.get(6),
        hostname: r.get(7),
        mac_address: r.get(8),
        created: r.get(9),
    }
}

/// Reservations, optionally only a user's (by id or name) and one address.
pub async fn list(
    c: &mut Conn,
    user_id: Option<i64>,
    username: Option<&str>,
    ip: Option<&IpAddr>,
) -> Result<Vec<ReservationRow>> {
    let q = format!(
        "{COLS} WHERE ($1::int8 IS NULL OR r.user_id = $1) AND ($2::text IS NULL OR u.username = $2)
            AND ($3::inet IS NULL OR r.ip = $3::inet) ORDER BY r.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(user_id)
        .bind(username)
        .bind(ip.map(|i| i.to_string()))
        .fetch_all(&mut *c)
        .await?;
    Ok(rows.iter().map(row).collect())
}

pub async fn insert(
    c: &mut Conn,
    ip: &IpAddr,
    subnet: i64,
    user: i64,
    hostname: &str,
    mac: Option<&str>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO ip_reservations (ip, subnet_id, user_id, hostname, mac_address)
         VALUES ($1::inet, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ip.to_string())
    .bind(subnet)
    .bind(user)
    .bind(hostname)
    .bind(mac)
    .fetch_one(&mut *c)
    .await?)
}

/// Delete the reservation of `ip` (only `user`'s unless `None`); whether one was.
pub async fn delete(c: &mut Conn, ip: &IpAddr, user: Option<i64>) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM ip_reservations WHERE ip = $1::inet AND ($2::int8 IS NULL OR user_id = $2)",
    )
    .bind(ip.to_string())
    .bind(user)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() > 0)
}
