//! `nodes/{system_id}/blockdevices/`: list, and add by hand (admin).
//! (Interfaces: `api::interfaces`.)

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::machines::{self, DiskRequest};

/// `nodes/{system_id}/blockdevices/`: list; create a physical disk (admin).
pub async fn blockdevices(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let m = machines::get_visible(&app, u, &system_id).await?;
            Ok(json(&m.related.disks))
        }
        (&Method::POST, None) => {
            let u = req.admin()?;
            let i = &req.input;
            let name = i
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?
                .to_string();
            if !machines::valid_device_name(&name) {
                return Err(Error::field(
                    "name",
                    format!("'{name}' is not a valid device name."),
                ));
            }
            let size = i
                .int("size")?
                .ok_or_else(|| Error::field("size", "This field is required."))?;
            if size < 4 * 1024 * 1024 {
                return Err(Error::field(
                    "size",
                    "Ensure this value is greater than or equal to 4194304.",
                ));
            }
            let block_size = i.int("block_size")?.unwrap_or(512);
            if !(512..=65536).contains(&block_size) {
                return Err(Error::field(
                    "block_size",
                    "Ensure this value is between 512 and 65536.",
                ));
            }
            let d = DiskRequest {
                name: name.clone(),
                size,
                block_size: block_size as i32,
                tags: i.list("tags"),
                model: i.get("model").unwrap_or("").to_string(),
                serial: i.get("serial").unwrap_or("").to_string(),
                id_path: i.get_nonempty("id_path").map(str::to_string),
            };
            machines::add_disk(&app, u, &system_id, d).await?;
            let full = machines::get(&app, &system_id).await?;
            let d = full.related.disks.iter().find(|x| x.name == name).cloned();
            Ok(json(&d))
        }
        _ => Err(req.unknown_op()),
    }
}
