//! `nodes/{system_id}/interfaces/`: list, and add by hand (admin). (Block
//! devices are `api::storage`'s.)

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::ids;

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::machines::{self, InterfaceRequest};

/// `nodes/{system_id}/interfaces/`: list; `op=create_physical` (admin).
pub async fn interfaces(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let m = machines::get_visible(&app, u, &system_id).await?;
            Ok(json(&m.related.interfaces))
        }
        (&Method::POST, Some("create_physical")) => {
            let u = req.admin()?;
            let i = &req.input;
            let mac = i
                .get_nonempty("mac_address")
                .ok_or_else(|| Error::field("mac_address", "This field is required."))?;
            let mac = ids::normalize_mac(mac).ok_or_else(|| {
                Error::field(
                    "mac_address",
                    format!("'{mac}' is not a valid MAC address."),
                )
            })?;
            let r = InterfaceRequest {
                mac,
                name: i.get_nonempty("name").map(str::to_string),
                vlan: i.int("vlan")?,
                tags: i.list("tags"),
                link_speed: i.int("link_speed")?.unwrap_or(0),
            };
            let name = machines::add_interface(&app, u, &system_id, r).await?;
            let full = machines::get(&app, &system_id).await?;
            let iface = full
                .related
                .interfaces
                .iter()
                .find(|x| x.name == name)
                .cloned();
            Ok(json(&iface))
        }
        _ => Err(req.unknown_op()),
    }
}
