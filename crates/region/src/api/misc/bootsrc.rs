//! `boot-sources/`, `boot-sources/{id}/` and their `selections/` (admin).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::{deleted, json_status};
use crate::api::app::{App, Req, json};
use crate::error::Result;
use crate::services::misc::bootsrc::{self, Selection, SelectionChange, Source, SourceChange};

fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn source_json(s: &Source) -> Value {
    json!({
        "id": s.id, "url": s.url, "keyring_filename": s.keyring_filename,
        "keyring_data": base64::engine::general_purpose::STANDARD.encode(&s.keyring_data),
        "created": time(&s.created), "updated": time(&s.updated),
        "resource_uri": format!("/MAAS/api/2.0/boot-sources/{}/", s.id),
    })
}

fn selection_json(s: &Selection) -> Value {
    json!({
        "boot_source_id": s.boot_source_id, "id": s.id, "os": s.os, "release": s.release,
        "arches": s.arches, "subarches": s.subarches, "labels": s.labels,
        "resource_uri": format!(
            "/MAAS/api/2.0/boot-sources/{}/selections/{}/", s.boot_source_id, s.id
        ),
    })
}

fn source_change(req: &Req) -> SourceChange {
    SourceChange {
        url: req.input.get("url").map(str::to_string),
        keyring_filename: req.input.get("keyring_filename").map(str::to_string),
        keyring_data: req.input.text_or_file("keyring_data"),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.admin()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &bootsrc::list(&app)
                .await?
                .iter()
                .map(source_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            let id = bootsrc::save(&app, None, source_change(&req)).await?;
            let s = bootsrc::get(&app, &id.to_string()).await?;
            Ok(json_status(StatusCode::CREATED, &source_json(&s)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.admin()?;
    let s = bootsrc::get(&app, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&source_json(&s))),
        (&Method::PUT, None) => {
            let id = bootsrc::save(&app, Some(s), source_change(&req)).await?;
            Ok(json(&source_json(
                &bootsrc::get(&app, &id.to_string()).await?,
            )))
        }
        (&Method::DELETE, None) => {
            bootsrc::delete(&app, &s).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}

fn selection_change(req: &Req) -> SelectionChange {
    let list = |k: &str| req.input.has(k).then(|| req.input.list(k));
    SelectionChange {
        os: req.input.get("os").map(str::to_string),
        release: req.input.get("release").map(str::to_string),
        arches: list("arches"),
        subarches: list("subarches"),
        labels: list("labels"),
    }
}

pub async fn selections(
    State(app): State<App>,
    Path(source): Path<String>,
    req: Req,
) -> Result<Response> {
    req.admin()?;
    let s = bootsrc::get(&app, &source).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &bootsrc::selections(&app, &s)
                .await?
                .iter()
                .map(selection_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            let sel = bootsrc::save_selection(&app, &s, None, selection_change(&req)).await?;
            Ok(json(&selection_json(&sel)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn selection(
    State(app): State<App>,
    Path((source, id)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    req.admin()?;
    let s = bootsrc::get(&app, &source).await?;
    let sel = bootsrc::selection(&app, &s, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&selection_json(&sel))),
        (&Method::PUT, None) => {
            let sel = bootsrc::save_selection(&app, &s, Some(sel), selection_change(&req)).await?;
            Ok(json(&selection_json(&sel)))
        }
        (&Method::DELETE, None) => {
            bootsrc::delete_selection(&app, &sel).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
