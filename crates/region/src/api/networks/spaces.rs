//! `spaces/` and `spaces/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{check_name, nonempty};
use crate::error::Result;
use crate::services::network::spaces::{self, SpacePatch};

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&spaces::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = nonempty(&ck, "name");
            if let Some(n) = &name {
                check_name(&mut ck, "space", n);
            }
            let description = ck.text("description").unwrap_or_default();
            let out = spaces::create(&app, name, description, ck.into_errors()).await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(spec): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&spaces::get(&app, &spec).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = ck.text("name");
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                check_name(&mut ck, "space", n);
            }
            let p = SpacePatch {
                name,
                description: ck.text("description"),
            };
            Ok(json(
                &spaces::update(&app, &spec, p, ck.into_errors()).await?,
            ))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            spaces::delete(&app, &spec).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
