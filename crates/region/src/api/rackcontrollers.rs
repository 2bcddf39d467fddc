//! `rackcontrollers/` and `rackcontrollers/{system_id}/` (MAAS shape, plus
//! session state: connected region, last seen, generations, services).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::racks::{self, Rack};

pub fn rack_json(rack: &Rack) -> Value {
    let r = &rack.row;
    let mut service_set: Vec<Value> = r
        .services
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, v)| json!({"name": name, "status": v["status"], "status_info": v["info"]}))
                .collect()
        })
        .unwrap_or_default();
    service_set.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let interface_set: Vec<Value> = rack
        .interfaces
        .iter()
        .map(|i| {
            let vlan = i.vlan_id.map(|vid| {
                json!({"id": vid, "vid": i.vlan_vid, "fabric": i.fabric, "fabric_id": i.fabric_id,
                       "resource_uri": format!("/MAAS/api/2.0/vlans/{vid}/")})
            });
            json!({
                "name": i.name,
                "mac_address": i.mac_address,
                "type": i.kind,
                "vlan": vlan,
                "links": i.addresses.iter().map(|a| json!({"mode": "static", "ip_address": a.split('/').next(), "subnet": {"cidr": a}})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let ts = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let sid = &r.system_id;
    json!({
        "system_id": sid,
        "hostname": r.hostname,
        "fqdn": format!("{}.maas", r.hostname),
        "node_type": 2,
        "node_type_name": "Rack controller",
        "version": r.version,
        "connected": r.connected_region.is_some(),
        "connected_region": r.connected_region,
        "connected_since": ts(r.connected_since),
        "last_seen": ts(r.last_seen),
        "applied_generation": r.applied_generation,
        "pushed_generation": r.pushed_generation,
        "last_event_seq": r.last_event_seq,
        "service_set": service_set,
        "interface_set": interface_set,
        "resource_uri": format!("/MAAS/api/2.0/rackcontrollers/{sid}/"),
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let all = racks::list(&app.db, None).await?;
            Ok(json(&all.iter().map(rack_json).collect::<Vec<_>>()))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rack = racks::list(&app.db, Some(&system_id))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "No RackController matches the given query ({system_id})."
                    ))
                })?;
            Ok(json(&rack_json(&rack)))
        }
        (&Method::DELETE, None) => {
            let u = req.admin()?;
            racks::delete(&app.db, &system_id, &u.username).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
