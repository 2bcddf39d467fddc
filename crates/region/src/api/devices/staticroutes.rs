//! `static-routes/` and `static-routes/{id}/`: everyone reads, admins write.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::error::Result;
use crate::services::staticroutes::{self, RouteFields};

fn fields(req: &Req) -> Result<RouteFields> {
    let i = &req.input;
    let mut c = Check::new(i);
    let metric = c.int("metric");
    c.finish()?;
    Ok(RouteFields {
        source: i.get_nonempty("source").map(str::to_string),
        destination: i.get_nonempty("destination").map(str::to_string),
        gateway_ip: i.get_nonempty("gateway_ip").map(str::to_string),
        metric,
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&staticroutes::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            Ok(json(&staticroutes::create(&app, fields(&req)?).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&staticroutes::get(&app, &id).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            Ok(json(&staticroutes::update(&app, &id, fields(&req)?).await?))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            staticroutes::delete(&app, &id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
