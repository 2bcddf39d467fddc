//! SQL of racks: enrollment, certificates and revocation, session state (connection,
//! generations pushed and applied), the events racks report, and the
//! listing the API shows.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use crate::error::Result;
use crate::store::Conn;

/// A rack being enrolled.
pub struct NewRack<'a> {
    pub system_id: &'a str,
    pub hostname: &'a str,
    pub version: &'a str,
    pub cert_serial: &'a str,
    pub cert_fingerprint: &'a str,
}

/// Record a new rack; false when its system id is taken (by a rack or a
/// machine).
pub async fn insert(c: &mut Conn, r: &NewRack<'_>) -> Result<bool> {
    let n = sqlx::query(
        "INSERT INTO racks (system_id, hostname, version, cert_serial, cert_fingerprint)
         SELECT $1, $2, $3, $4, $5
          WHERE NOT EXISTS (SELECT 1 FROM machines WHERE system_id = $1)
         ON CONFLICT (system_id) DO NOTHING",
    )
    .bind(r.system_id)
    .bind(r.hostname)
    .bind(r.version)
    .bind(r.cert_serial)
    .bind(r.cert_fingerprint)
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn is_revoked(c: &mut Conn, serial: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_certs WHERE serial = $1)")
            .bind(serial)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// The rack's id and current certificate serial.
pub async fn id_and_serial(c: &mut Conn, system_id: &str) -> Result<Option<(i64, Option<String>)>> {
    Ok(
        sqlx::query_as("SELECT id, cert_serial FROM racks WHERE system_id = $1")
            .bind(system_id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

/// A session opened on `region`: record what the rack said; returns the
/// highest event seq stored for it (None: the rack is gone).
pub async fn connected(
    c: &mut Conn,
    rack_id: i64,
    hostname: &str,
    version: &str,
    region: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE racks SET hostname = $2, version = $3, connected_region = $4,
                connected_since = now(), last_seen = now()
          WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(rack_id)
    .bind(hostname)
    .bind(version)
    .bind(region)
    .fetch_optional(&mut *c)
    .await?)
}

/// The session on `region` ended (another region may hold a newer one).
pub async fn disconnected(c: &mut Conn, rack_id: i64, region: &str) -> Result<()> {
    sqlx::query("UPDATE racks SET connected_region = NULL WHERE id = $1 AND connected_region = $2")
        .bind(rack_id)
        .bind(region)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The rack is still connected to `region`.
pub async fn seen(c: &mut Conn, rack_id: i64, region: &str) -> Result<()> {
    sqlx::query("UPDATE racks SET last_seen = now(), connected_region = $2 WHERE id = $1")
        .bind(rack_id)
        .bind(region)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The rack applied `generation`.
pub async fn applied(c: &mut Conn, rack_id: i64, generation: i64) -> Result<()> {
    sqlx::query(
        "UPDATE racks SET applied_generation = greatest(applied_generation, $2), last_seen = now()
          WHERE id = $1",
    )
    .bind(rack_id)
    .bind(generation)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn applied_generation(c: &mut Conn, rack_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT applied_generation FROM racks WHERE id = $1")
            .bind(rack_id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// The rack already has `generation` with content `hash`.
pub async fn has_generation(c: &mut Conn, rack_id: i64, generation: i64, hash: &str) -> Result<()> {
    sqlx::query(
        "UPDATE racks SET pushed_generation = greatest(pushed_generation, $2), pushed_hash = $3,
                applied_generation = greatest(applied_generation, $2)
          WHERE id = $1",
    )
    .bind(rack_id)
    .bind(generation)
    .bind(hash)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The generation to push content `hash` as: the last pushed one when the
/// content is the same, else one past both it and `rack_generation`.
pub async fn push_generation(
    c: &mut Conn,
    rack_id: i64,
    hash: &str,
    rack_generation: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE racks SET pushed_generation = CASE WHEN pushed_hash IS DISTINCT FROM $2
                THEN greatest(pushed_generation, $3) + 1 ELSE pushed_generation END,
                pushed_hash = $2
          WHERE id = $1 RETURNING pushed_generation",
    )
    .bind(rack_id)
    .bind(hash)
    .bind(rack_generation)
    .fetch_one(&mut *c)
    .await?)
}

/// A batch of events, column by column.
#[derive(Default)]
pub struct EventRows {
    pub seqs: Vec<i64>,
    pub kinds: Vec<&'static str>,
    pub payloads: Vec<Value>,
    pub occurred: Vec<DateTime<Utc>>,
}

/// Store events, each (rack, seq) once.
pub async fn insert_events(c: &mut Conn, rack_id: i64, e: &EventRows) -> Result<()> {
    sqlx::query(
        "INSERT INTO rack_events (rack_id, seq, kind, payload, occurred)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::timestamptz[])
         ON CONFLICT (rack_id, seq) DO NOTHING",
    )
    .bind(rack_id)
    .bind(&e.seqs)
    .bind(&e.kinds)
    .bind(&e.payloads)
    .bind(&e.occurred)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Events up to `seq` are stored; merge `services` (name → health) into the
/// rack's. Returns the highest seq stored.
pub async fn events_stored(c: &mut Conn, rack_id: i64, seq: i64, services: Value) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE racks SET last_event_seq = greatest(last_event_seq, $2), last_seen = now(),
                services = services || $3
          WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(rack_id)
    .bind(seq)
    .bind(services)
    .fetch_one(&mut *c)
    .await?)
}

/// Delete a rack; returns its certificate serial (None: no such rack).
pub async fn delete(c: &mut Conn, system_id: &str) -> Result<Option<Option<String>>> {
    Ok(
        sqlx::query_scalar("DELETE FROM racks WHERE system_id = $1 RETURNING cert_serial")
            .bind(system_id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

pub async fn revoke(c: &mut Conn, serial: &str) -> Result<()> {
    sqlx::query("INSERT INTO revoked_certs (serial) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(serial)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// NOTIFY `channel` (delivered when the transaction commits).
pub async fn notify(c: &mut Conn, channel: &str, payload: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A rack as the API lists it.
pub struct RackRow {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub version: String,
    pub connected_region: Option<String>,
    pub last_seen: Option<DateTime<Utc>>,
    pub connected_since: Option<DateTime<Utc>>,
    pub applied_generation: i64,
    pub pushed_generation: i64,
    pub last_event_seq: i64,
    /// Service name → {"status", "info"}.
    pub services: Value,
}

/// Racks by hostname (one, with `system_id`).
pub async fn list(c: &mut Conn, system_id: Option<&str>) -> Result<Vec<RackRow>> {
    let rows = sqlx::query(
        "SELECT id, system_id, hostname, version, connected_region, last_seen, connected_since,
                applied_generation, pushed_generation, last_event_seq, services
           FROM racks WHERE $1::text IS NULL OR system_id = $1 ORDER BY hostname, id",
    )
    .bind(system_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RackRow {
                id: r.try_get("id")?,
                system_id: r.try_get("system_id")?,
                hostname: r.try_get("hostname")?,
                version: r.try_get("version")?,
                connected_region: r.try_get("connected_region")?,
                last_seen: r.try_get("last_seen")?,
                connected_since: r.try_get("connected_since")?,
                applied_generation: r.try_get("applied_generation")?,
                pushed_generation: r.try_get("pushed_generation")?,
                last_event_seq: r.try_get("last_event_seq")?,
                services: r.try_get("services")?,
            })
        })
        .collect()
}

/// An interface a rack reported, with the VLAN it was placed on.
pub struct RackIfaceRow {
    pub rack_id: i64,
    pub name: String,
    pub mac_address: String,
    pub kind: String,
    pub addresses: Vec<String>,
    pub vlan_id: Option<i64>,
    pub vlan_vid: Option<i32>,
    pub fabric: Option<String>,
    pub fabric_id: Option<i64>,
}

/// The interfaces of these racks, by name.
pub async fn interfaces(c: &mut Conn, rack_ids: &[i64]) -> Result<Vec<RackIfaceRow>> {
    let rows = sqlx::query(
        "SELECT ri.rack_id, ri.name, ri.mac_address, ri.type, ri.addresses, ri.vlan_id,
                v.vid AS vlan_vid, f.name AS fabric, f.id AS fabric_id
           FROM rack_interfaces ri LEFT JOIN vlans v ON v.id = ri.vlan_id
           LEFT JOIN fabrics f ON f.id = v.fabric_id
          WHERE ri.rack_id = ANY($1) ORDER BY ri.name",
    )
    .bind(rack_ids)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|i| {
            Ok(RackIfaceRow {
                rack_id: i.try_get("rack_id")?,
                name: i.try_get("name")?,
                mac_address: i.try_get("mac_address")?,
                kind: i.try_get("type")?,
                addresses: i.try_get("addresses")?,
                vlan_id: i.try_get("vlan_id")?,
                vlan_vid: i.try_get("vlan_vid")?,
                fabric: i.try_get("fabric")?,
                fabric_id: i.try_get("fabric_id")?,
            })
        })
        .collect()
}
