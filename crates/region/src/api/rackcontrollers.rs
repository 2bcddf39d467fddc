//! `rackcontrollers/` and `rackcontrollers/{system_id}/` (MAAS shape, plus
//! session state: connected region, last seen, generations, services).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};

async fn racks_json(db: &PgPool, system_id: Option<&str>) -> Result<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT id, system_id, hostname, version, connected_region, last_seen, connected_since,
                applied_generation, pushed_generation, last_event_seq, services
           FROM racks WHERE $1::text IS NULL OR system_id = $1 ORDER BY hostname, id",
    )
    .bind(system_id)
    .fetch_all(db)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get("id")).collect();
    let ifaces = sqlx::query(
        "SELECT ri.rack_id, ri.name, ri.mac_address, ri.type, ri.vid, ri.addresses, ri.vlan_id,
                v.vid AS vlan_vid, f.name AS fabric, f.id AS fabric_id
           FROM rack_interfaces ri LEFT JOIN vlans v ON v.id = ri.vlan_id
           LEFT JOIN fabrics f ON f.id = v.fabric_id
          WHERE ri.rack_id = ANY($1) ORDER BY ri.name",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get("id");
            let sid: String = r.get("system_id");
            let hostname: String = r.get("hostname");
            let services: Value = r.get("services");
            let mut service_set: Vec<Value> = services
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(name, v)| json!({"name": name, "status": v["status"], "status_info": v["info"]}))
                        .collect()
                })
                .unwrap_or_default();
            service_set.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            let interface_set: Vec<Value> = ifaces
                .iter()
                .filter(|i| i.get::<i64, _>("rack_id") == id)
                .map(|i| {
                    let vlan = i.get::<Option<i64>, _>("vlan_id").map(|vid| {
                        json!({"id": vid, "vid": i.get::<Option<i32>, _>("vlan_vid"),
                               "fabric": i.get::<Option<String>, _>("fabric"),
                               "fabric_id": i.get::<Option<i64>, _>("fabric_id"),
                               "resource_uri": format!("/MAAS/api/2.0/vlans/{vid}/")})
                    });
                    let addrs: Vec<String> = i.get("addresses");
                    json!({
                        "name": i.get::<String, _>("name"),
                        "mac_address": i.get::<String, _>("mac_address"),
                        "type": i.get::<String, _>("type"),
                        "vlan": vlan,
                        "links": addrs.iter().map(|a| json!({"mode": "static", "ip_address": a.split('/').next(), "subnet": {"cidr": a}})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let ts = |k: &str| {
                r.get::<Option<chrono::DateTime<chrono::Utc>>, _>(k)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            let region: Option<String> = r.get("connected_region");
            json!({
                "system_id": sid,
                "hostname": hostname,
                "fqdn": format!("{hostname}.maas"),
                "node_type": 2,
                "node_type_name": "Rack controller",
                "version": r.get::<String, _>("version"),
                "connected": region.is_some(),
                "connected_region": region,
                "connected_since": ts("connected_since"),
                "last_seen": ts("last_seen"),
                "applied_generation": r.get::<i64, _>("applied_generation"),
                "pushed_generation": r.get::<i64, _>("pushed_generation"),
                "last_event_seq": r.get::<i64, _>("last_event_seq"),
                "service_set": service_set,
                "interface_set": interface_set,
                "resource_uri": format!("/MAAS/api/2.0/rackcontrollers/{sid}/"),
            })
        })
        .collect())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&racks_json(&app.db, None).await?)),
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    let not_found = || {
        Error::NotFound(format!(
            "No RackController matches the given query ({system_id})."
        ))
    };
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut v = racks_json(&app.db, Some(&system_id)).await?;
            if v.is_empty() {
                return Err(not_found());
            }
            Ok(json(&v.remove(0)))
        }
        (&Method::DELETE, None) => {
            let u = req.admin()?;
            let mut tx = app.db.begin().await?;
            let serial: Option<Option<String>> =
                sqlx::query_scalar("DELETE FROM racks WHERE system_id = $1 RETURNING cert_serial")
                    .bind(&system_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let serial = serial.ok_or_else(not_found)?;
            if let Some(s) = serial {
                sqlx::query(
                    "INSERT INTO revoked_certs (serial) VALUES ($1) ON CONFLICT DO NOTHING",
                )
                .bind(s)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::rackrpc::REVOKE_CHANNEL)
                .bind(&system_id)
                .execute(&mut *tx)
                .await?;
            crate::services::lifecycle::event(
                &mut tx,
                None,
                Some(&u.username),
                "INFO",
                "Rack deleted",
                &format!("Rack controller {system_id} deleted; its certificate is revoked."),
            )
            .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
