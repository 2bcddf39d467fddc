//! `ipaddresses/`: list the caller's reserved addresses; `reserve`,
//! `release`.

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::ipaddresses::{self, ListRequest, ReserveRequest};

pub fn routes(api: &str) -> Router<App> {
    Router::new().route(&format!("{api}/ipaddresses/"), any(collection))
}

fn ip(req: &Req, key: &str) -> Result<Option<std::net::IpAddr>> {
    match req.input.get_nonempty(key) {
        None => Ok(None),
        Some(v) => maas_model::net::parse_ip(v.trim())
            .map(Some)
            .map_err(|_| Error::field(key, "Enter a valid IPv4 or IPv6 address.")),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let ip = match i.get_nonempty("ip") {
                None => None,
                Some(v) => Some(maas_model::net::parse_ip(v.trim()).map_err(|_| {
                    Error::BadRequest("Parameter 'ip' must contain an IP address.".into())
                })?),
            };
            let r = ListRequest {
                all: i.bool("all")?.unwrap_or(false),
                owner: i.get_nonempty("owner").map(str::to_string),
                ip,
            };
            Ok(json(&ipaddresses::list(&app, u, r).await?))
        }
        (&Method::POST, Some("reserve")) => {
            let addr = match ip(&req, "ip_address")? {
                Some(a) => Some(a),
                None => ip(&req, "ip")?,
            };
            let mac = match i.get_nonempty("mac") {
                Some(m) => Some(m),
                None => i.get_nonempty("mac_address"),
            };
            let mac = match mac {
                None => None,
                Some(m) => Some(maas_model::ids::normalize_mac(m).ok_or_else(|| {
                    Error::field("mac", format!("'{m}' is not a valid MAC address."))
                })?),
            };
            let r = ReserveRequest {
                subnet: i.get_nonempty("subnet").map(|s| s.trim().to_string()),
                ip: addr,
                hostname: i.get("hostname").unwrap_or("").trim().to_string(),
                mac,
            };
            Ok(json(&ipaddresses::reserve(&app, u, r).await?))
        }
        (&Method::POST, Some("release")) => {
            let addr =
                ip(&req, "ip")?.ok_or_else(|| Error::field("ip", "This field is required."))?;
            let force = i.bool("force")?.unwrap_or(false);
            ipaddresses::release(&app, u, addr, force).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
