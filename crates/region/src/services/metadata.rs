//! What booting machines tell the region through the metadata API: `signal`
//! completes commissioning, testing, deployment, disk erasing and rescue
//! mode (with script results, inventory and power settings); reading
//! `user-data` in the deployed OS marks a deploying machine deployed; status
//! reports can fail a machine.

use maas_model::NodeStatus;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::services::lifecycle::{self, Core};
use crate::services::{Ctx, config, preseed};
use crate::store::Conn;
use crate::store::machines::boot::{self as db, InventoryDisk, MetaView, ScriptResult};

/// The system id of the machine behind a node token.
pub async fn system_id_of(ctx: &Ctx, machine_id: i64) -> Result<String> {
    db::system_id(&ctx.db, machine_id).await
}

pub async fn set_netboot(ctx: &Ctx, system_id: &str, on: bool) -> Result<()> {
    db::set_netboot(&ctx.db, system_id, on).await
}

pub async fn view(ctx: &Ctx, system_id: &str) -> Result<MetaView> {
    db::meta_view(&ctx.db, system_id).await
}

/// The keys of the machine's owner (cloud-init's `public-keys`).
pub async fn public_keys(ctx: &Ctx, owner: Option<i64>) -> Result<Vec<String>> {
    db::ssh_keys(&ctx.db, owner).await
}

/// The deployed OS read its user data: a deploying machine is deployed.
pub async fn user_data_read(ctx: &Ctx, system_id: &str, status: i16) -> Result<()> {
    if NodeStatus::from_i16(status) != Some(NodeStatus::Deploying) {
        return Ok(());
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    let mut m = lifecycle::lock(&mut tx, system_id).await?;
    if m.status == NodeStatus::Deploying {
        lifecycle::transition(&mut tx, &mut m, NodeStatus::Deployed, None, "Deployed").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Where a signal in a given status leads (OK, FAILED).
fn signal_targets(m: &Core) -> Option<(NodeStatus, NodeStatus)> {
    use NodeStatus::*;
    Some(match m.status {
        Commissioning => (Ready, FailedCommissioning),
        Testing => (
            m.previous_status
                .filter(|p| Testing.can_transition_to(*p) && *p != Commissioning)
                .unwrap_or(Ready),
            FailedTesting,
        ),
        Deploying => (Deployed, FailedDeployment),
        DiskErasing => (Ready, FailedDiskErasing),
        EnteringRescueMode => (RescueMode, FailedEnteringRescueMode),
        Releasing => (Ready, FailedReleasing),
        _ => return None,
    })
}

fn result_type(s: NodeStatus) -> i16 {
    match s {
        NodeStatus::Testing => 2,
        NodeStatus::Releasing | NodeStatus::DiskErasing => 3,
        NodeStatus::Deploying => 4,
        _ => 0,
    }
}

/// A hardware inventory (`hardware.json`, the boot agent's format), checked.
pub struct Inventory<'a> {
    pub cpu_count: Option<i32>,
    pub memory: Option<i64>,
    pub cpu_speed: Option<i32>,
    /// `None`: the inventory says nothing about disks (keep them).
    pub disks: Option<Vec<InventoryDisk<'a>>>,
}

/// A text field of a disk entry ("" when absent); NUL is refused.
fn disk_text<'a>(d: &'a Value, k: &str) -> Result<&'a str> {
    let t = d.get(k).and_then(Value::as_str).unwrap_or("");
    if t.contains('\0') {
        return Err(Error::field(
            &format!("disks.{k}"),
            "Text may not contain NUL characters.",
        ));
    }
    Ok(t)
}

/// Check an inventory as strictly as the REST API checks the same fields:
/// wrong types, out-of-range numbers, bad device names and text PostgreSQL
/// cannot store are refused (400), never clamped or passed on.
pub fn parse_inventory(inv: &Value) -> Result<Inventory<'_>> {
    let bad = |f: &str| Error::field(f, format!("Inventory field '{f}' has the wrong type."));
    let int = |k: &str| -> Result<Option<i64>> {
        match inv.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(k)),
        }
    };
    let within = |k: &str, max: i64| -> Result<Option<i64>> {
        match int(k)? {
            Some(v) if !(0..=max).contains(&v) => Err(Error::field(
                k,
                format!("Inventory field '{k}' is out of range (0 to {max})."),
            )),
            v => Ok(v),
        }
    };

    let mut out = Inventory {
        cpu_count: within("cpu_count", 100_000)?.map(|v| v as i32),
        memory: within("memory", 1 << 40)?,
        cpu_speed: within("cpu_speed", 1_000_000)?.map(|v| v as i32),
        disks: None,
    };
    if let Some(disks) = inv.get("disks") {
        let disks = disks.as_array().ok_or_else(|| bad("disks"))?;
        let mut list = Vec::with_capacity(disks.len());
        for d in disks {
            let name = d
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("disks.name"))?;
            if !crate::services::machines::valid_device_name(name) {
                return Err(Error::field(
                    "disks.name",
                    format!("'{name}' is not a valid device name."),
                ));
            }
            let size = d
                .get("size")
                .and_then(Value::as_i64)
                .filter(|s| *s >= 0)
                .ok_or_else(|| bad("disks.size"))?;
            let mut tags = Vec::new();
            for t in d
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(t) = t.as_str() {
                    if t.contains('\0') {
                        return Err(Error::field(
                            "disks.tags",
                            "Text may not contain NUL characters.",
                        ));
                    }
                    tags.push(t.to_string());
                }
            }
            list.push(InventoryDisk {
                name,
                size,
                tags,
                model: disk_text(d, "model")?,
                serial: disk_text(d, "serial")?,
            });
        }
        out.disks = Some(list);
    }
    Ok(out)
}

/// Apply a checked inventory.
async fn apply_inventory(tx: &mut Conn, m: &Core, inv: &Inventory<'_>) -> Result<()> {
    db::set_hardware(tx, m.id, inv.cpu_count, inv.memory, inv.cpu_speed).await?;
    if let Some(disks) = &inv.disks {
        db::replace_disks(tx, m.id, disks).await?;
    }
    Ok(())
}

/// A signal from a booting machine.
pub struct Signal<'a> {
    /// Upper case: OK, FAILED, WORKING, TIMEDOUT, or a progress status.
    pub status: &'a str,
    pub exit_status: Option<i64>,
    pub runtime: Option<&'a str>,
    pub error: &'a str,
    /// Uploaded files: (field name, file name, content).
    pub files: Vec<(&'a str, &'a str, &'a [u8])>,
    /// A power type and its parameters (a JSON object), as the machine found
    /// its BMC.
    pub power: Option<(&'a str, Option<&'a str>)>,
}

pub async fn signal(ctx: &Ctx, system_id: &str, s: Signal<'_>) -> Result<()> {
    let status = s.status;
    let mut tx = crate::store::begin(&ctx.db).await?;
    let mut m = lifecycle::lock(&mut tx, system_id).await?;
    preseed::start_commissioning(&mut tx, &mut m, status).await?;
    let (ok_to, fail_to) = signal_targets(&m).ok_or_else(|| {
        Error::Conflict(format!(
            "Machine {} is not in a status that takes signals (status: {}).",
            m.hostname,
            m.status.label()
        ))
    })?;
    // Results first: a failed script fails the whole run.
    let mut script_failed = false;
    for (name, fname, data) in &s.files {
        let failed = s.exit_status.is_some_and(|e| e != 0) || status == "FAILED";
        script_failed |= failed;
        let r = ScriptResult {
            result_type: result_type(m.status),
            name: if fname.is_empty() { name } else { fname },
            status: if failed { 3 } else { 2 },
            exit_status: s.exit_status.map(|e| e as i32),
            runtime: s.runtime,
            output: data,
        };
        db::insert_script_result(&mut tx, m.id, &r).await?;
        if (*name == "hardware.json" || *fname == "hardware.json") && !failed {
            let inv: Value = serde_json::from_slice(data)
                .map_err(|_| Error::field("hardware.json", "The inventory is not valid JSON."))?;
            apply_inventory(&mut tx, &m, &parse_inventory(&inv)?).await?;
        }
    }
    if let Some((pt, params)) = s.power {
        if !maas_model::power::is_known_power_type(pt) {
            return Err(Error::field(
                "power_type",
                format!("'{pt}' is not a valid power type."),
            ));
        }
        let params: Map<String, Value> = match params {
            Some(p) => serde_json::from_str(p)
                .map_err(|_| Error::field("power_parameters", "Must be a JSON object."))?,
            None => Map::new(),
        };
        let sealed = ctx
            .secrets
            .seal(Value::Object(params).to_string().as_bytes());
        db::set_power(&mut tx, m.id, pt, sealed).await?;
    }
    let error = s.error;
    match status {
        "OK" if !script_failed => {
            let ok_to = preseed::commissioned_to(&mut tx, &m, ok_to).await?;
            let label = m.status.label().to_lowercase();
            let what = format!("Finished {label}");
            lifecycle::transition(&mut tx, &mut m, ok_to, None, &what).await?;
        }
        "OK" | "FAILED" | "TIMEDOUT" => {
            let msg = if error.is_empty() {
                format!("{} failed.", m.status.label())
            } else {
                error.to_string()
            };
            lifecycle::transition(&mut tx, &mut m, fail_to, None, &msg).await?;
        }
        _ => {
            // WORKING and progress statuses: a heartbeat that extends the deadline.
            let timeout = config::get_i64(&mut *tx, "node_timeout").await?;
            let mins = m.status.deadline_minutes(timeout).unwrap_or(timeout);
            let message = if error.is_empty() { status } else { error };
            db::heartbeat(&mut tx, m.id, message, mins).await?;
            let text = format!("{status} {error}");
            lifecycle::event(&mut tx, Some(&m), None, "DEBUG", "Progress", &text).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A cloud-init/curtin status report; a failed `finish` fails the machine.
pub async fn report(
    ctx: &Ctx,
    system_id: &str,
    event_type: &str,
    name: &str,
    result: &str,
    desc: &str,
) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let mut m = lifecycle::lock(&mut tx, system_id).await?;
    let level = if result == "FAILURE" {
        "ERROR"
    } else {
        "DEBUG"
    };
    let what = format!("{event_type} {name}");
    lifecycle::event(&mut tx, Some(&m), None, level, &what, desc).await?;
    if event_type == "finish"
        && result == "FAILURE"
        && let Some(failed) = m.status.failure_status()
    {
        let msg = format!("{name} failed: {desc}");
        lifecycle::transition(&mut tx, &mut m, failed, None, &msg).await?;
    }
    tx.commit().await?;
    Ok(())
}
