//! `fabrics/` and `fabrics/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{check_name, nonempty};
use crate::error::Result;
use crate::services::network::fabrics::{self, FabricPatch};
use crate::services::network::{not_found, read};
use crate::store::{self, networks::fabric_by_spec};

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            Ok(json(&read::fabrics(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = nonempty(&ck, "name");
            if let Some(n) = &name {
                check_name(&mut ck, "fabric", n);
            }
            let class_type = nonempty(&ck, "class_type");
            let mut tx = store::begin(&app.db).await?;
            let id = fabrics::create(
                &mut tx,
                name.as_deref(),
                class_type.as_deref(),
                ck.into_errors(),
            )
            .await?;
            let out = read::fabric(&mut tx, id).await?;
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
            let id = fabric_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            Ok(json(&read::fabric(&mut c, id).await?))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let id = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let mut ck = Check::new(&req.input);
            let name = ck.text("name");
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                check_name(&mut ck, "fabric", n);
            }
            let patch = FabricPatch {
                name,
                class_type: ck.text("class_type"),
            };
            fabrics::update(&mut tx, id, patch, ck.into_errors()).await?;
            let out = read::fabric(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let id = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            fabrics::delete(&mut tx, id).await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
