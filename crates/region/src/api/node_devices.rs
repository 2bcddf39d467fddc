//! `nodes/{system_id}/devices/`: a machine's PCI and USB devices, as
//! commissioning found them (MAAS's node devices).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;

use crate::api::app::{App, Req, json, no_content};
use crate::error::Result;
use crate::services::node_devices::{self, Filter};

pub fn routes(api: &str) -> Router<App> {
    let n = format!("{api}/nodes/{{system_id}}/devices");
    Router::new()
        .route(&format!("{n}/"), any(collection))
        .route(&format!("{n}/{{id}}/"), any(item))
}

async fn collection(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let i = &req.input;
            let f = Filter {
                bus: i.get("bus"),
                hardware_type: i.get("hardware_type"),
                vendor_id: i.get("vendor_id"),
                product_id: i.get("product_id"),
                vendor_name: i.get("vendor_name"),
                product_name: i.get("product_name"),
                commissioning_driver: i.get("commissioning_driver"),
            };
            Ok(json(&node_devices::list(&app, u, &system_id, &f).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

async fn item(
    State(app): State<App>,
    Path((system_id, id)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let u = req.user()?;
            Ok(json(&node_devices::get(&app, u, &system_id, &id).await?))
        }
        (&Method::DELETE, None) => {
            let u = req.admin()?;
            node_devices::delete(&app, u, &system_id, &id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
