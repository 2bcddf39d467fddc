//! `fabrics/` and `fabrics/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{check_name, nonempty};
use crate::error::Result;
use crate::services::network::fabrics::{self, FabricPatch, NewFabric};

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&fabrics::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = nonempty(&ck, "name");
            if let Some(n) = &name {
                check_name(&mut ck, "fabric", n);
            }
            let f = NewFabric {
                name,
                class_type: nonempty(&ck, "class_type"),
            };
            Ok(json(&fabrics::create(&app, f, ck.into_errors()).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(spec): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&fabrics::get(&app, &spec).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = ck.text("name");
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                check_name(&mut ck, "fabric", n);
            }
            let p = FabricPatch {
                name,
                class_type: ck.text("class_type"),
            };
            Ok(json(
                &fabrics::update(&app, &spec, p, ck.into_errors()).await?,
            ))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            fabrics::delete(&app, &spec).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
