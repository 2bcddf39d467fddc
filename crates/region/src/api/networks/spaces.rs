//! `spaces/` and `spaces/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{check_name, nonempty};
use crate::error::Result;
use crate::services::network::spaces::{self, SpacePatch};
use crate::services::network::{not_found, read};
use crate::store::{self, networks::space_by_spec};

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            Ok(json(&read::spaces(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = nonempty(&ck, "name");
            if let Some(n) = &name {
                check_name(&mut ck, "space", n);
            }
            let description = ck.text("description").unwrap_or_default();
            let mut tx = store::begin(&app.db).await?;
            let id = spaces::create(&mut tx, name, description, ck.into_errors()).await?;
            let out = read::spaces(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(spec): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            let id = space_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            Ok(json(&read::spaces(&mut c, Some(id)).await?.pop()))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let id = space_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            let mut ck = Check::new(&req.input);
            let name = ck.text("name");
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                check_name(&mut ck, "space", n);
            }
            let patch = SpacePatch {
                name,
                description: ck.text("description"),
            };
            spaces::update(&mut tx, id, patch, ck.into_errors()).await?;
            let out = read::spaces(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut c = store::acquire(&app.db).await?;
            let id = space_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Space"))?;
            spaces::delete(&mut c, id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
