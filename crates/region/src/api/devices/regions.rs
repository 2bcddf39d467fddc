//! `regioncontrollers/` and `regioncontrollers/{system_id}/`: the regions
//! that have run against this database (MAAS's RegionController shape).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::regions;
use crate::store::regions::RegionRow;

pub fn region_json(r: &RegionRow) -> Value {
    let sid = &r.system_id;
    json!({
        "system_id": sid,
        "hostname": r.hostname,
        "fqdn": format!("{}.maas", r.hostname),
        "description": "",
        "domain": {"id": 0, "name": "maas", "resource_uri": "/MAAS/api/2.0/domains/0/"},
        "node_type": 3,
        "node_type_name": "Region controller",
        "version": r.version,
        "last_seen": r.last_seen.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "interface_set": [],
        "ip_addresses": [],
        "tag_names": [],
        "zone": {"id": 1, "name": "default", "description": "", "resource_uri": "/MAAS/api/2.0/zones/default/"},
        "resource_uri": format!("/MAAS/api/2.0/regioncontrollers/{sid}/"),
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        // Controllers are listed to admins only (MAAS's node visibility);
        // any user may read one by its system id.
        (&Method::GET, None) if !u.is_superuser => Ok(json(&Vec::<Value>::new())),
        (&Method::GET, None) => {
            let all = regions::list(&app.db, None).await?;
            Ok(json(&all.iter().map(region_json).collect::<Vec<_>>()))
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
            let r = regions::list(&app.db, Some(&system_id))
                .await?
                .pop()
                .ok_or_else(|| {
                    Error::NotFound("No RegionController matches the given query.".into())
                })?;
            Ok(json(&region_json(&r)))
        }
        _ => Err(req.unknown_op()),
    }
}
