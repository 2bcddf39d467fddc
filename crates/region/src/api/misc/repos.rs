//! `package-repositories/` and `package-repositories/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::deleted;
use crate::api::app::{App, Req, json};
use crate::api::check::Check;
use crate::error::Result;
use crate::services::misc::repos::{self, Change, Repo};

fn repo_json(r: &Repo) -> Value {
    json!({
        "id": r.id, "name": r.name, "url": r.url,
        "distributions": r.distributions, "disabled_pockets": r.disabled_pockets,
        "disabled_components": r.disabled_components, "disable_sources": r.disable_sources,
        "components": r.components, "arches": r.arches, "key": r.key, "enabled": r.enabled,
        "resource_uri": format!("/MAAS/api/2.0/package-repositories/{}/", r.id),
    })
}

fn change(req: &Req) -> Result<Change> {
    let mut c = Check::new(&req.input);
    let list = |k: &str| req.input.has(k).then(|| req.input.list(k));
    let ch = Change {
        name: c.text("name"),
        url: c.text("url"),
        distributions: list("distributions"),
        disabled_pockets: list("disabled_pockets").map(|v| {
            if req.input.get("disabled_pockets") == Some("") {
                vec![]
            } else {
                v
            }
        }),
        disabled_components: list("disabled_components"),
        disable_sources: c.bool("disable_sources"),
        components: list("components"),
        arches: list("arches"),
        key: req.input.get("key").map(str::to_string),
        enabled: c.bool("enabled"),
    };
    c.finish()?;
    Ok(ch)
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &repos::list(&app)
                .await?
                .iter()
                .map(repo_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            req.admin()?;
            let r = repos::save(&app, None, change(&req)?).await?;
            Ok(json(&repo_json(&r)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let r = repos::get(&app, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&repo_json(&r))),
        (&Method::PUT, None) => {
            req.admin()?;
            let r = repos::save(&app, Some(r), change(&req)?).await?;
            Ok(json(&repo_json(&r)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            repos::delete(&app, &r).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
