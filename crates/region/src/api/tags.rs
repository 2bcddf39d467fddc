//! `tags/` and `tags/{name}/`: manual tags, applied with `update_nodes`,
//! and automatic ones (an XPath `definition` over lshw; `op=rebuild`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::filter::MachineFilter;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::api::machines::listing_response;
use crate::error::Result;
use crate::services::tags;
use crate::services::{load, tags::TagRow};

fn tag_json(t: &TagRow) -> Value {
    json!({
        "name": t.name, "comment": t.comment,
        "definition": t.definition,
        "kernel_opts": t.kernel_opts,
        "resource_uri": format!("/MAAS/api/2.0/tags/{}/", t.name),
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = tags::list(&app).await?;
            Ok(json(&rows.iter().map(tag_json).collect::<Vec<_>>()))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let name = req.input.get("name").unwrap_or("");
            let t = tags::create(
                &app,
                name,
                req.input.get("comment").unwrap_or(""),
                req.input.get("kernel_opts").unwrap_or(""),
                req.input.get("definition").unwrap_or(""),
            )
            .await?;
            Ok(json(&tag_json(&t)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(name): Path<String>, req: Req) -> Result<Response> {
    let user = req.user()?;
    let tag = tags::get(&app, &name).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&tag_json(&tag))),
        (&Method::PUT, None) => {
            req.admin()?;
            let new_name = req.input.get_nonempty("name").unwrap_or(&name).to_string();
            let comment = req.input.get("comment");
            let kernel_opts = req.input.get("kernel_opts");
            let definition = req.input.get("definition");
            let t = tags::update(&app, &tag, &new_name, comment, kernel_opts, definition).await?;
            Ok(json(&tag_json(&t)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            tags::delete(&app, &tag).await?;
            Ok(no_content())
        }
        (&Method::GET, Some("machines" | "nodes")) => {
            let f = MachineFilter {
                visibility: user.visibility(),
                tags_all: vec![name.clone()],
                ..Default::default()
            };
            Ok(listing_response(load::list(&app, &f, None).await?))
        }
        (&Method::POST, Some("rebuild")) => {
            req.admin()?;
            tags::rebuild(&app, &tag).await?;
            Ok(json(&json!({"rebuilding": tag.name})))
        }
        (&Method::POST, Some("update_nodes")) => {
            req.admin()?;
            let add = req.input.list("add");
            let remove = req.input.list("remove");
            let (added, removed) = tags::update_nodes(&app, user, &tag, &add, &remove).await?;
            Ok(json(&json!({"added": added, "removed": removed})))
        }
        _ => Err(req.unknown_op()),
    }
}
