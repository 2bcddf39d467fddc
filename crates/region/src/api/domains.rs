//! `domains/` and `domains/{id}/`: DNS domains as MAAS renders them.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json};
use crate::error::Result;
use crate::services::domains::{self, Domain};

fn domain_json(d: &Domain) -> Value {
    json!({
        "id": d.id,
        "name": d.name,
        "ttl": d.ttl,
        "authoritative": d.authoritative,
        "is_default": d.is_default,
        "resource_record_count": d.resource_record_count,
        "resource_uri": format!("/MAAS/api/2.0/domains/{}/", d.id),
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &domains::list(&app.db)
                .await?
                .iter()
                .map(domain_json)
                .collect::<Vec<_>>(),
        )),
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let domain = domains::get(&app.db, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&domain_json(&domain))),
        _ => Err(req.unknown_op()),
    }
}
