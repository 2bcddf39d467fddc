//! `reservedips/` and `reservedips/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{ip_param, nonempty};
use crate::error::Result;
use crate::services::network::ranges::{self, ReservedIpParams};
use crate::services::network::{not_found, read};
use crate::store;

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
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            Ok(json(&read::reserved_ips(&mut c, None).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, true);
            let mut tx = store::begin(&app.db).await?;
            let id = ranges::create_reserved_ip(&mut tx, p, ck.into_errors()).await?;
            let out = read::reserved_ips(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("ReservedIP"))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            let out = read::reserved_ips(&mut c, Some(id))
                .await?
                .pop()
                .ok_or_else(|| not_found("ReservedIP"))?;
            Ok(json(&out))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let p = params(&mut ck, false);
            let mut tx = store::begin(&app.db).await?;
            ranges::update_reserved_ip(&mut tx, id, p, ck.into_errors()).await?;
            let out = read::reserved_ips(&mut tx, Some(id)).await?.pop();
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut c = store::acquire(&app.db).await?;
            ranges::delete_reserved_ip(&mut c, id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
