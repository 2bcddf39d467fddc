//! Machine storage over HTTP: `nodes/{system_id}/blockdevices/` and their
//! partitions, the storage ops of `machines/{system_id}/`, and the storage
//! groups this region does not support yet (listed empty, writes refused).

mod partitions;
mod unsupported;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use maas_model::storage::parse_bytes;

use crate::api::app::{App, Req, json, no_content};
use crate::api::machines::machine_response;
use crate::api::params::Input;
use crate::error::{Error, Result};
use crate::render::BlockDeviceJson;
use crate::services::machines;
use crate::services::storage::{self, Format, Mount, disk_form, layout};

pub fn routes(api: &str) -> Router<App> {
    let n = format!("{api}/nodes/{{system_id}}");
    let r = Router::new()
        .route(&format!("{n}/blockdevices/"), any(blockdevices))
        .route(&format!("{n}/blockdevices/{{id}}/"), any(blockdevice))
        .route(
            &format!("{n}/blockdevices/{{device_id}}/partitions/"),
            any(partitions::collection),
        )
        .route(
            &format!("{n}/blockdevices/{{device_id}}/partition/{{id}}/"),
            any(partitions::item),
        );
    unsupported::routes(r, &n)
}

/// Machine ops handled here (`POST machines/{system_id}/?op=…`).
pub const MACHINE_OPS: &[&str] = &[
    "set_storage_layout",
    "restore_storage_configuration",
    "restore_default_configuration",
    "mount_special",
    "unmount_special",
];

/// A byte count parameter (`10G`, `4194304`) if present.
fn bytes(i: &Input, key: &str) -> Result<Option<i64>> {
    match i.get_nonempty(key) {
        None => Ok(None),
        Some(v) => parse_bytes(v)
            .map(Some)
            .ok_or_else(|| Error::field(key, "Enter a valid value.")),
    }
}

fn tag(i: &Input) -> Result<&str> {
    i.get("tag")
        .ok_or_else(|| Error::BadRequest("No provided tag!".into()))
}

fn text(i: &Input, key: &str) -> Option<String> {
    i.get(key).map(str::to_string)
}

/// A storage op on a machine.
pub async fn machine_op(app: &App, req: &Req, system_id: &str, op: &str) -> Result<Response> {
    let i = &req.input;
    match op {
        "set_storage_layout" => {
            let u = req.admin()?;
            let root = bytes(i, "root_size")?;
            layout::set_layout(app, u, system_id, i.get("storage_layout"), root).await?;
        }
        "restore_storage_configuration" => {
            let u = req.admin()?;
            layout::restore(app, u, system_id, "storage configuration").await?;
        }
        "restore_default_configuration" => {
            // As MAAS: the commissioned interfaces, then the default layout.
            let u = req.admin()?;
            crate::services::interfaces::restore_networking(app, u, system_id).await?;
            let what = "default networking and storage configuration";
            layout::restore(app, u, system_id, what).await?;
        }
        "mount_special" => {
            let u = req.user()?;
            let (t, mp, o) = (
                i.get("fstype"),
                i.get("mount_point"),
                i.get("mount_options"),
            );
            layout::mount_special(app, u, system_id, t, mp, o).await?;
        }
        "unmount_special" => {
            let u = req.user()?;
            layout::unmount_special(app, u, system_id, i.get("mount_point")).await?;
        }
        _ => return Err(req.unknown_op()),
    }
    Ok(machine_response(&machines::get(app, system_id).await?))
}

/// `nodes/{system_id}/blockdevices/`: list; create a physical disk (admin).
pub async fn blockdevices(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&storage::list(&app, u, &system_id).await?)),
        (&Method::POST, None) => {
            let u = req.admin()?;
            let i = &req.input;
            let d = disk_form::new_disk(|k| i.get(k).map(str::to_string), i.list("tags"))?;
            let name = d.name.clone();
            machines::add_disk(&app, u, &system_id, d).await?;
            let d = storage::get(&app, u, &system_id, &name).await?;
            Ok(json(&d))
        }
        _ => Err(req.unknown_op()),
    }
}

/// The device after a change, as the caller sees it now.
async fn device(app: &App, req: &Req, system_id: &str, id: i64) -> Result<Response> {
    let d: BlockDeviceJson = storage::get(app, req.user()?, system_id, &id.to_string()).await?;
    Ok(json(&d))
}

fn format_of(i: &Input) -> Format {
    Format {
        fstype: text(i, "fstype"),
        uuid: text(i, "uuid"),
        label: text(i, "label"),
    }
}

fn mount_of(i: &Input) -> Mount {
    Mount {
        mount_point: text(i, "mount_point"),
        mount_options: text(i, "mount_options"),
    }
}

/// `nodes/{system_id}/blockdevices/{id}/`.
pub async fn blockdevice(
    State(app): State<App>,
    Path((system_id, id)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    let sys = system_id.as_str();
    let changed = match (&req.method, req.op()) {
        (&Method::GET, None) => return Ok(json(&storage::get(&app, u, sys, &id).await?)),
        (&Method::DELETE, None) => {
            storage::delete_disk(&app, req.admin()?, sys, &id).await?;
            return Ok(no_content());
        }
        (&Method::PUT, None) => {
            let u = req.admin()?;
            let change = disk_form::change(|k| i.get(k).map(str::to_string))?;
            storage::update_disk(&app, u, sys, &id, change).await?
        }
        (&Method::POST, Some("add_tag")) => {
            let u = req.admin()?;
            storage::disk_tag(&app, u, sys, &id, tag(i)?, true).await?
        }
        (&Method::POST, Some("remove_tag")) => {
            let u = req.admin()?;
            storage::disk_tag(&app, u, sys, &id, tag(i)?, false).await?
        }
        (&Method::POST, Some("set_boot_disk")) => {
            storage::set_boot_disk(&app, req.admin()?, sys, &id).await?;
            return Ok((StatusCode::OK, "OK").into_response());
        }
        (&Method::POST, Some("format")) => {
            storage::format_disk(&app, u, sys, &id, format_of(i)).await?
        }
        (&Method::POST, Some("unformat")) => storage::unformat_disk(&app, u, sys, &id).await?,
        (&Method::POST, Some("mount")) => {
            storage::mount_disk(&app, u, sys, &id, mount_of(i)).await?
        }
        (&Method::POST, Some("unmount")) => storage::unmount_disk(&app, u, sys, &id).await?,
        _ => return Err(req.unknown_op()),
    };
    device(&app, &req, sys, changed).await
}
