//! The interfaces each rack reported.

use std::collections::HashMap;

use maas_model::rack::Interface;

use crate::error::Result;
use crate::store::Conn;

/// Name → VLAN of the interfaces a rack reported last time.
pub async fn vlans_by_name(c: &mut Conn, rack_id: i64) -> Result<HashMap<String, Option<i64>>> {
    Ok(
        sqlx::query_as("SELECT name, vlan_id FROM rack_interfaces WHERE rack_id = $1")
            .bind(rack_id)
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .collect(),
    )
}

/// Forget the rack's interfaces not named in `keep`.
pub async fn delete_others(c: &mut Conn, rack_id: i64, keep: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM rack_interfaces WHERE rack_id = $1 AND NOT (name = ANY($2))")
        .bind(rack_id)
        .bind(keep)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Record (insert or replace) one interface; `mac` normalised by the caller.
pub async fn upsert(
    c: &mut Conn,
    rack_id: i64,
    i: &Interface,
    mac: &str,
    addresses: &[String],
    vlan: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO rack_interfaces (rack_id, name, mac_address, type, parent, vid, vlan_id, addresses)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (rack_id, name) DO UPDATE SET
            mac_address = EXCLUDED.mac_address, type = EXCLUDED.type, parent = EXCLUDED.parent,
            vid = EXCLUDED.vid, vlan_id = EXCLUDED.vlan_id, addresses = EXCLUDED.addresses",
    )
    .bind(rack_id)
    .bind(&i.name)
    .bind(mac)
    .bind(&i.kind)
    .bind(&i.parent)
    .bind(i.vid)
    .bind(vlan)
    .bind(addresses)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The addresses ("10.0.0.2/24") each of these racks reported, by rack id.
pub async fn addresses(
    db: &crate::store::Pool,
    rack_ids: &[i64],
) -> Result<Vec<(i64, Vec<String>)>> {
    Ok(sqlx::query_as(
        "SELECT rack_id, array_agg(a) FROM rack_interfaces, unnest(addresses) AS a
          WHERE rack_id = ANY($1) GROUP BY rack_id",
    )
    .bind(rack_ids)
    .fetch_all(db)
    .await?)
}

/// Every address ("10.0.0.2/24") any rack reported, as reported.
pub async fn all_addresses(c: &mut Conn) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT DISTINCT a FROM rack_interfaces, unnest(addresses) AS a")
            .fetch_all(&mut *c)
            .await?,
    )
}
