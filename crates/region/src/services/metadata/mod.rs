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
use crate::store::machines::boot::{self as db, MetaView, ScriptResult};

mod inventory;
mod inventory_devices;
mod inventory_numa;
pub use inventory::{Inventory, parse_inventory};

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

/// The keys of the machine's owner (cloud-init's `public-keys`). A machine
/// with no owner in rescue mode, or commissioning or testing with
/// `enable_ssh`, gets the keys of the user who asked for it (the user on
/// its latest event of that status), so they can log in to the ephemeral
/// environment.
pub async fn public_keys(ctx: &Ctx, system_id: &str, r: &MetaView) -> Result<Vec<String>> {
    use NodeStatus::*;
    let asked = match NodeStatus::from_i16(r.status) {
        Some(EnteringRescueMode | RescueMode) => Some(EnteringRescueMode),
        Some(s @ (Commissioning | Testing)) if r.enable_ssh => Some(s),
        _ => None,
    };
    if let (None, Some(s)) = (r.owner_id, asked) {
        return db::ssh_keys_of_requester(&ctx.db, system_id, s.label()).await;
    }
    db::ssh_keys(&ctx.db, r.owner_id).await
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
    // Commissioning's options decide what its results replace.
    let opts = if m.status == NodeStatus::Commissioning {
        db::commission_options(&mut *tx, m.id).await?
    } else {
        db::CommissionOptions::default()
    };
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
            let inv = parse_inventory(&inv)?;
            inventory::apply(&mut tx, m.id, &inv, opts.skip_storage).await?;
            // Commissioned disks get the default layout, as MAAS's do
            // (not an enlistment's: it commissions next).
            if inv.disks.is_some() && !opts.skip_storage && m.status == NodeStatus::Commissioning {
                (tx, m) = crate::services::storage::layout::apply_default(tx, m).await?;
            }
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
            if m.status == NodeStatus::Commissioning {
                // The interface it booted on gets an AUTO link to the
                // subnet it leased on, so a deployment configures it
                // (unless asked to keep the links it had).
                if !opts.skip_networking {
                    crate::store::interfaces::initial_auto_link(&mut tx, m.id).await?;
                }
                // Automatic tags read the lshw output just stored.
                crate::services::tags::evaluate_machine(&mut tx, m.id).await?;
            }
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
    // curtin says FAILURE, cloud-init FAIL (and WARN).
    let failed = matches!(result, "FAILURE" | "FAIL");
    let level = match result {
        _ if failed => "ERROR",
        "WARN" => "WARNING",
        _ => "DEBUG",
    };
    let what = format!("{event_type} {name}");
    lifecycle::event(&mut tx, Some(&m), None, level, &what, desc).await?;
    if event_type == "finish"
        && failed
        && let Some(failed) = m.status.failure_status()
    {
        let msg = format!("{name} failed: {desc}");
        lifecycle::transition(&mut tx, &mut m, failed, None, &msg).await?;
    }
    tx.commit().await?;
    Ok(())
}
