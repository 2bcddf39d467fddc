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
use maas_model::storage::{MIN_BLOCK_DEVICE_SIZE, parse_bytes};

use crate::api::app::{App, Req, json, no_content};
use crate::api::machines::machine_response;
use crate::api::params::Input;
use crate::error::{Error, Result};
use crate::render::BlockDeviceJson;
use crate::services::machines::{self, DiskRequest};
use crate::services::storage::{self, Format, Mount, layout};
use crate::store::storage::DiskChange;

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
            // Networking is not reset here (interfaces stay as they are).
            let u = req.admin()?;
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
            if size < MIN_BLOCK_DEVICE_SIZE {
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

/// Parse `PUT …/blockdevices/{id}/` (MAAS's UpdatePhysicalBlockDeviceForm).
fn disk_change(i: &Input) -> Result<DiskChange> {
    let mut errs = maas_model::constraints::FieldErrors::new();
    let mut bad = |k: &str, m: String| errs.insert(k.to_string(), vec![m]);
    let name = i.get_nonempty("name").map(str::to_string);
    if let Some(n) = &name
        && !machines::valid_device_name(n)
    {
        bad("name", format!("'{n}' is not a valid device name."));
    }
    let id_path = i.get_nonempty("id_path").map(str::to_string);
    if let Some(p) = &id_path
        && !p.starts_with('/')
    {
        bad("id_path", "Enter a valid value.".into());
    }
    let size = match i.get_nonempty("size").map(|v| (v, parse_bytes(v))) {
        None => None,
        Some((_, Some(n))) if n >= MIN_BLOCK_DEVICE_SIZE => Some(n),
        Some((_, Some(_))) => {
            bad(
                "size",
                format!("Ensure this value is greater than or equal to {MIN_BLOCK_DEVICE_SIZE}."),
            );
            None
        }
        Some(_) => {
            bad("size", "Enter a valid value.".into());
            None
        }
    };
    let block_size = match i.get_nonempty("block_size").map(parse_bytes) {
        None => None,
        Some(Some(n)) if (512..=65536).contains(&n) => Some(n as i32),
        Some(_) => {
            bad(
                "block_size",
                "Ensure this value is between 512 and 65536.".into(),
            );
            None
        }
    };
    let table_type = i.get_nonempty("partition_table_type").map(str::to_string);
    if let Some(t) = &table_type
        && t != "GPT"
        && t != "MBR"
    {
        bad(
            "partition_table_type",
            format!("Select a valid choice. {t} is not one of the available choices."),
        );
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    Ok(DiskChange {
        table_type,
        name,
        model: text(i, "model"),
        serial: text(i, "serial"),
        id_path,
        size,
        block_size,
    })
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
            let change = disk_change(i)?;
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
