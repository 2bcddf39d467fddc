//! `nodes/{system_id}/interfaces/{id}/` of a device: read, update (name,
//! MAC, VLAN), delete, `link_subnet` (STATIC, DHCP, LINK_UP) and
//! `unlink_subnet` — what Juju sends for container devices.

use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::device_interfaces::{self as ifaces, IfaceUpdate};
use crate::services::interfaces::links::Mode;

async fn current(app: &App, system_id: &str, id: i64) -> Result<Response> {
    Ok(json(&ifaces::get(app, system_id, id).await?))
}

pub async fn item(app: &App, req: &Req, system_id: &str, id: i64) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    match (&req.method, req.op()) {
        (&Method::GET, None) => current(app, system_id, id).await,
        (&Method::PUT, None) => {
            let vlan = match i.get("vlan") {
                None => None,
                Some(v) if v.trim().is_empty() => Some(None),
                Some(v) => Some(Some(v.trim().parse::<i64>().map_err(|_| {
                    Error::field(
                        "vlan",
                        "Select a valid choice. That choice is not one of the available choices.",
                    )
                })?)),
            };
            let up = IfaceUpdate {
                name: i.get_nonempty("name").map(str::to_string),
                mac: i.get_nonempty("mac_address").map(str::to_string),
                vlan,
            };
            ifaces::update(app, u, system_id, id, up).await?;
            current(app, system_id, id).await
        }
        (&Method::DELETE, None) => {
            ifaces::delete(app, u, system_id, id).await?;
            Ok(no_content())
        }
        (&Method::POST, Some("link_subnet")) => {
            let mode = i
                .get_nonempty("mode")
                .ok_or_else(|| Error::field("mode", "This field is required."))?;
            let mode = Mode::parse(mode).ok_or_else(|| {
                Error::field(
                    "mode",
                    format!("Select a valid choice. {mode} is not one of the available choices."),
                )
            })?;
            let subnet = i
                .get_nonempty("subnet")
                .ok_or_else(|| Error::field("subnet", "This field is required."))?;
            let ip = match i.get_nonempty("ip_address") {
                None => None,
                Some(v) => Some(v.trim().parse().map_err(|_| {
                    Error::field("ip_address", "Enter a valid IPv4 or IPv6 address.")
                })?),
            };
            ifaces::link_subnet(app, u, system_id, id, mode, subnet, ip).await?;
            current(app, system_id, id).await
        }
        (&Method::POST, Some("unlink_subnet")) => {
            let link = i
                .get_nonempty("id")
                .ok_or_else(|| Error::field("id", "This field is required."))?;
            ifaces::unlink_subnet(app, u, system_id, id, link).await?;
            current(app, system_id, id).await
        }
        _ => Err(req.unknown_op()),
    }
}
