//! `reservedips/` and `reservedips/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{ip_param, nonempty};
use crate::error::Result;
use crate::services::network::not_found;
use crate::services::network::reservedips::{self, ReservedIpParams};

/// A MAAS-normalised MAC address parameter.
fn mac_param(c: &mut Check, required: bool) -> Option<String> {
    match nonempty(c, "mac_address") {
        None => {
            if required {
                c.add("mac_address", "This field is required.");
            }
            None
        }
        Some(m) => {
            let n = maas_model::ids::normalize_mac(&m);
            if n.is_none() {
                c.add("mac_address", format!("'{m}' is not a valid MAC address."));
            }
            n
        }
    }
}

/// A reserved IP's parameters; `required` for a new one.
fn params(c: &mut Check, required: bool) -> ReservedIpParams {
    ReservedIpParams {
        ip: ip_param(c, "ip", required),
        mac: mac_param(c, required),
        comment: c.text("comment"),
        subnet: nonempty(c, "subnet"),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&reservedips::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, true);
            Ok(json(&reservedips::create(&app, p, ck.into_errors()).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("ReservedIP"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&reservedips::get(&app, id).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, false);
            Ok(json(
                &reservedips::update(&app, id, p, ck.into_errors()).await?,
            ))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            reservedips::delete(&app, id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
