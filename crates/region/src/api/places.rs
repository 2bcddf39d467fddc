//! `zones/` and `resourcepools/`: where machines live.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::places::{self, Place};

pub use crate::services::places::valid_name;

fn zone_json(z: &Place) -> Value {
    json!({"id": z.id, "name": z.name, "description": z.description,
           "resource_uri": format!("/MAAS/api/2.0/zones/{}/", z.name)})
}

fn pool_json(p: &Place) -> Value {
    json!({"id": p.id, "name": p.name, "description": p.description,
           "resource_uri": format!("/MAAS/api/2.0/resourcepool/{}/", p.id)})
}

fn required_name(req: &Req) -> Result<&str> {
    req.input
        .get_nonempty("name")
        .ok_or_else(|| Error::field("name", "This field is required."))
}

fn description(req: &Req) -> &str {
    req.input.get("description").unwrap_or("")
}

pub async fn zones(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &places::zones(&app.db)
                .await?
                .iter()
                .map(zone_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            req.admin()?;
            let z = places::create_zone(&app.db, required_name(&req)?, description(&req)).await?;
            Ok(json(&zone_json(&z)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn zone(State(app): State<App>, Path(name): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let zone = places::zone(&app.db, &name).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&zone_json(&zone))),
        (&Method::PUT, None) => {
            req.admin()?;
            let z = places::update_zone(
                &app.db,
                &zone,
                req.input.get_nonempty("name"),
                req.input.get("description"),
            )
            .await?;
            Ok(json(&zone_json(&z)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            places::delete_zone(&app.db, &zone).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn pools(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &places::pools(&app.db)
                .await?
                .iter()
                .map(pool_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            req.admin()?;
            let p = places::create_pool(&app.db, required_name(&req)?, description(&req)).await?;
            Ok(json(&pool_json(&p)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn pool(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let pool = places::pool(&app.db, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&pool_json(&pool))),
        (&Method::PUT, None) => {
            req.admin()?;
            let p = places::update_pool(
                &app.db,
                &pool,
                req.input.get_nonempty("name"),
                req.input.get("description"),
            )
            .await?;
            Ok(json(&pool_json(&p)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            places::delete_pool(&app.db, &pool).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
