//! `ipranges/` and `ipranges/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::net::RangeType;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{ip_param, nonempty};
use crate::error::Result;
use crate::services::network::ranges::{self, RangeParams};
use crate::services::network::{invalid_choice, not_found, read};
use crate::store;

fn range_type_param(c: &mut Check, required: bool) -> Option<RangeType> {
    match nonempty(c, "type") {
        None => {
            if required {
                c.add("type", "This field is required.");
            }
            None
        }
        Some(t) => {
            let r = RangeType::parse(&t);
            if r.is_none() {
                c.add("type", invalid_choice(&t));
            }
            r
        }
    }
}

/// A range's parameters; `required` for a new one.
fn params(c: &mut Check, required: bool) -> RangeParams {
    RangeParams {
        kind: range_type_param(c, required),
        start: ip_param(c, "start_ip", required),
        end: ip_param(c, "end_ip", required),
        comment: c.text("comment"),
        subnet: nonempty(c, "subnet"),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    let user = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            Ok(json(&read::ipranges(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, true);
            let mut tx = store::begin(&app.db).await?;
            let id = ranges::create_range(&mut tx, p, user.id, ck.into_errors()).await?;
            let out = read::ipranges(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("IPRange"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            let out = read::ipranges(&mut c, Some(id))
                .await?
                .pop()
                .ok_or_else(|| not_found("IPRange"))?;
            Ok(json(&out))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, false);
            let mut tx = store::begin(&app.db).await?;
            ranges::update_range(&mut tx, id, p, ck.into_errors()).await?;
            let out = read::ipranges(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            ranges::delete_range(&mut tx, id).await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
