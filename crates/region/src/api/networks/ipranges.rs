//! `ipranges/` and `ipranges/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::net::RangeType;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{ip_param, nonempty};
use crate::error::Result;
use crate::services::network::ipranges::{self, RangeParams};
use crate::services::network::{invalid_choice, not_found};

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
        (&Method::GET, None) => Ok(json(&ipranges::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, true);
            Ok(json(
                &ipranges::create(&app, p, user.id, ck.into_errors()).await?,
            ))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("IPRange"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&ipranges::get(&app, id).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, false);
            Ok(json(
                &ipranges::update(&app, id, p, ck.into_errors()).await?,
            ))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            ipranges::delete(&app, id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
