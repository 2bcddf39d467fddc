//! The boot task (`GET /MAAS/metadata/<v>/maas-task`): what the agent in the
//! ephemeral environment should do for this machine, from its status —
//! commissioning's `enable_ssh` and `skip_bmc_config`, erase options, and for a deployment the image, boot disk, network
//! (netplan v2 shaped) and the datasource credentials. See
//! /work/tasks/contract.md ("Task for the boot") and docs/images.md.

use maas_model::NodeStatus;
use serde_json::{Value, json};

use super::select;
use crate::error::Result;
use crate::render::{BlockDeviceJson, FsJson, FullMachine};
use crate::services::storage::deployable;
use crate::services::{Ctx, machines};

/// The purpose the agent acts on, from the machine's status.
pub fn purpose(s: NodeStatus) -> &'static str {
    use NodeStatus::*;
    match s {
        Commissioning => "commissioning",
        Testing => "testing",
        Deploying => "deploying",
        DiskErasing => "erasing",
        EnteringRescueMode | RescueMode => "rescue",
        _ => "none",
    }
}

/// The task for machine `system_id`; `metadata_url` is the URL the machine
/// reached the metadata API by.
pub async fn task(ctx: &Ctx, system_id: &str, metadata_url: &str) -> Result<Value> {
    let m = machines::get(ctx, system_id).await?;
    let rendered: Value =
        serde_json::from_slice(&crate::render::machine_to_json(&m)).unwrap_or(Value::Null);
    let domain = rendered["domain"]["name"].as_str().unwrap_or("maas");
    let purpose = purpose(m.row.status);
    let mut t = json!({
        "purpose": purpose,
        "system_id": m.row.system_id,
        "hostname": m.row.hostname,
        "domain": domain,
    });
    match purpose {
        "commissioning" | "testing" => {
            let o = crate::store::machines::boot::commission_options(&ctx.db, m.row.id).await?;
            t["enable_ssh"] = json!(o.enable_ssh);
            if purpose == "commissioning" {
                t["skip_bmc_config"] = json!(o.skip_bmc_config);
            }
        }
        "erasing" => {
            let (quick, secure) =
                crate::store::machines::boot::erase_options(&ctx.db, m.row.id).await?;
            t["erase"] = json!({"quick": quick, "secure": secure});
        }
        "deploying" => {
            let (ck, tk, ts) = machines::token_of(ctx, system_id).await?;
            let mut c = ctx.db.acquire().await?;
            let images = select::images(&mut *c).await?;
            drop(c);
            let (os, series, arch) = (&m.row.osystem, &m.row.distro_series, &m.row.architecture);
            let image = select::deploy_image(&images, os, series, arch).map(|i| {
                json!({
                    "url": format!("/images/{}", i.sha256),
                    "filetype": i.filetype,
                    "sha256": i.sha256,
                    "size": i.size,
                })
            });
            t["deploy"] = json!({
                "osystem": os,
                "distro_series": series,
                "image": image,
                "disk": boot_disk(&m),
                "storage": storage(&m),
                "network": super::netplan::network(&m.related.interfaces),
                "datasource": {
                    "metadata_url": metadata_url,
                    "consumer_key": ck,
                    "token_key": tk,
                    "token_secret": ts,
                },
            });
        }
        _ => {}
    }
    Ok(t)
}

/// The boot disk: the one marked boot, else the first.
fn the_boot_disk(m: &FullMachine) -> Option<&BlockDeviceJson> {
    deployable::boot_disk(&m.related.disks)
}

/// The boot disk as the task names it.
fn boot_disk(m: &FullMachine) -> Value {
    match the_boot_disk(m) {
        Some(d) => json!({
            "id": d.id, "name": d.name, "serial": d.serial,
            "id_path": d.id_path, "size": d.size,
        }),
        None => Value::Null,
    }
}

/// A filesystem as the agent makes it.
fn fs_json(f: &FsJson) -> Value {
    json!({
        "fstype": f.fstype,
        "label": f.label,
        "mount_point": f.mount_point,
        "mount_options": f.mount_options,
    })
}

/// A disk's partitions in order: size and filesystem.
fn partitions_json(d: &BlockDeviceJson) -> Vec<Value> {
    d.partitions
        .iter()
        .map(|p| {
            let mut v = p.filesystem.as_ref().map_or_else(|| json!({}), fs_json);
            v["size"] = json!(p.size);
            v
        })
        .collect()
}

/// The layout for a root tarball: the boot disk's partitions in order
/// (size, filesystem, label, mount point and options), and every other
/// disk the layout uses, found by serial, id_path or name, with its
/// partitions or its whole-disk filesystem. Null when no disk is used
/// (the agent then lays out MAAS's flat layout itself); a layout without
/// a root on the boot disk is refused at deploy (`storage::deployable`).
fn storage(m: &FullMachine) -> Value {
    let Some(boot) = the_boot_disk(m) else {
        return Value::Null;
    };
    let disks = &m.related.disks;
    if !disks.iter().any(deployable::in_use) {
        return Value::Null;
    }
    let others: Vec<Value> = disks
        .iter()
        .filter(|d| d.id != boot.id && deployable::in_use(d))
        .map(|d| {
            json!({
                "id": d.id, "name": d.name, "serial": d.serial,
                "id_path": d.id_path, "size": d.size,
                "partition_table_type": d.partition_table_type,
                "filesystem": d.filesystem.as_ref().map(fs_json),
                "partitions": partitions_json(d),
            })
        })
        .collect();
    json!({
        "partition_table_type": boot.partition_table_type,
        "partitions": partitions_json(boot),
        "disks": others,
    })
}
