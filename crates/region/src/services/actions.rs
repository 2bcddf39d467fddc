//! Machine actions (`op=commission`, `deploy`, `release`, …) as typed
//! requests: who may run them, from which status, which status each leads
//! to, and which power request goes with it. Every status change goes
//! through `lifecycle::transition`.

use maas_model::{Action, NodeStatus, Perm, PowerAction, PowerType};

use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::lifecycle::{self, Core, power_intent, transition};
use crate::services::power::after::{self, PowerPlan};
use crate::services::{Ctx, allocate, config};
use crate::store::Conn;
use crate::store::machines::boot as db_boot;
pub use crate::store::machines::boot::CommissionOptions;
use crate::store::machines::write::{self as db, DeploySettings};

/// What a deployment asks for.
#[derive(Debug, Default, Clone)]
pub struct DeployRequest {
    pub osystem: Option<String>,
    pub distro_series: Option<String>,
    pub hwe_kernel: Option<String>,
    pub user_data: Option<Vec<u8>>,
    pub ephemeral: bool,
}

/// An action on one machine, with the options it takes.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub action: Action,
    pub comment: Option<String>,
    /// Allocate / deploy: the agent name to record ("" keeps it).
    pub agent_name: String,
    pub deploy: DeployRequest,
    /// Release: erase the disks first.
    pub erase: bool,
    /// Release with erasing: quickly (wipe the start and end) / securely
    /// (the disk's own secure erase), as the boot task tells the agent.
    pub quick_erase: bool,
    pub secure_erase: bool,
    /// Mark broken: why.
    pub reason: String,
    /// Power off: ask the OS to shut down (`stop_mode=soft`).
    pub soft_off: bool,
    /// Commission: its options; test: `enable_ssh` alone counts.
    pub commission: CommissionOptions,
}

impl ActionRequest {
    pub fn new(action: Action) -> ActionRequest {
        ActionRequest {
            action,
            comment: None,
            agent_name: String::new(),
            deploy: DeployRequest::default(),
            erase: false,
            quick_erase: false,
            secure_erase: false,
            reason: String::new(),
            soft_off: false,
            commission: CommissionOptions::default(),
        }
    }
}

fn verb(a: Action) -> String {
    a.op().replace('_', " ")
}

/// Run an action on `system_id` for `user`, in one transaction.
pub async fn run(ctx: &Ctx, user: &User, system_id: &str, r: &ActionRequest) -> Result<()> {
    let action = r.action;
    if action.perm() == Perm::Admin && !user.is_superuser {
        return Err(Error::Forbidden(format!(
            "You do not have permission to {} this machine (admin only).",
            verb(action)
        )));
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    let mut m = lifecycle::lock(&mut tx, system_id).await?;
    let unowned_deploy = matches!(action, Action::Deploy | Action::Allocate)
        && m.owner_id.is_none()
        && m.status == NodeStatus::Ready;
    if !user.can_edit(m.owner_id) && !unowned_deploy {
        return Err(Error::Forbidden(format!(
            "You do not have permission to {} this machine.",
            verb(action)
        )));
    }
    if m.locked && action != Action::Unlock {
        return Err(Error::Conflict(format!(
            "Cannot {} machine {}: it is locked.",
            verb(action),
            m.hostname
        )));
    }
    if !action.allowed_from(m.status) {
        return Err(Error::Conflict(action.refusal(m.status)));
    }
    let plan = apply(&mut tx, &mut m, user, r).await?;
    tx.commit().await?;
    if let Some(plan) = plan {
        after::spawn(ctx, system_id, plan, Some(user.username.clone()));
    }
    Ok(())
}

/// Record the power request; a machine with a BMC also gets the command to
/// run once the transaction has committed.
async fn power(
    tx: &mut Conn,
    m: &Core,
    who: Option<&str>,
    intent: PowerAction,
    plan: PowerPlan,
) -> Result<Option<PowerPlan>> {
    power_intent(tx, m, who, intent).await?;
    Ok((!PowerType::by_hand(m.power_type)).then_some(plan))
}

async fn apply(
    tx: &mut Conn,
    m: &mut Core,
    user: &User,
    r: &ActionRequest,
) -> Result<Option<PowerPlan>> {
    let who = Some(user.username.as_str());
    let desc = |d: &str| match &r.comment {
        Some(c) => format!("{d} ({c})"),
        None => d.to_string(),
    };
    let by_hand = PowerType::by_hand(m.power_type);
    let mut plan = None;
    match r.action {
        Action::Allocate => {
            allocate::claim(tx, m, user, &r.agent_name, &desc("Allocated")).await?;
        }
        Action::Deploy => {
            let def_os = config::get_str(&mut *tx, "default_osystem").await?;
            let def_series = config::get_str(&mut *tx, "default_distro_series").await?;
            let d = &r.deploy;
            let (os, series) = maas_model::action::os_series(
                d.osystem.as_deref(),
                d.distro_series.as_deref(),
                &def_os,
                &def_series,
            )
            .map_err(|e| Error::field("distro_series", e))?;
            // A missing image is refused before anything is written or powered.
            let arch = crate::store::machines::boot::architecture(&mut *tx, m.id).await?;
            let filetype =
                crate::services::images::select::check_deployable(tx, &os, &series, &arch).await?;
            // So is a layout the agent cannot lay out.
            if let Some(ft) = &filetype {
                crate::services::storage::deployable::check(tx, m, ft).await?;
            }
            if m.status == NodeStatus::Ready {
                allocate::claim(tx, m, user, &r.agent_name, "Allocated for deployment").await?;
            }
            let settings = DeploySettings {
                osystem: &os,
                distro_series: &series,
                hwe_kernel: d.hwe_kernel.as_deref(),
                user_data: d.user_data.clone(),
                ephemeral: d.ephemeral,
                agent_name: &r.agent_name,
            };
            db::set_deploy(tx, m.id, settings).await?;
            crate::services::interfaces::links::claim_auto_ips(tx, m.id).await?;
            let what = desc(&format!("Deploying {os}/{series}"));
            transition(tx, m, NodeStatus::Deploying, who, &what).await?;
            let p = PowerPlan::netboot(NodeStatus::Deploying);
            plan = power(tx, m, who, PowerAction::On, p).await?;
        }
        Action::Release => {
            crate::services::interfaces::links::release_auto_ips(tx, m.id).await?;
            let erase =
                r.erase || config::get_bool(&mut *tx, "enable_disk_erasing_on_release").await?;
            if erase {
                db_boot::set_erase(tx, m.id, r.quick_erase, r.secure_erase).await?;
                transition(tx, m, NodeStatus::DiskErasing, who, &desc("Erasing disks")).await?;
                let p = PowerPlan::netboot(NodeStatus::DiskErasing);
                plan = power(tx, m, who, PowerAction::On, p).await?;
            } else {
                transition(tx, m, NodeStatus::Releasing, who, &desc("Releasing")).await?;
                let mut p = PowerPlan::new(PowerAction::Off);
                let now = by_hand || m.power_state == "off";
                if !now {
                    // Ready once the BMC has powered it off.
                    p.during = Some(NodeStatus::Releasing);
                    p.then = Some(NodeStatus::Ready);
                }
                plan = power(tx, m, who, PowerAction::Off, p).await?;
                if now {
                    transition(tx, m, NodeStatus::Ready, who, "Released").await?;
                }
            }
        }
        Action::Commission => {
            let o = &r.commission;
            db_boot::set_commission_options(tx, m.id, o).await?;
            // The results bring the new configuration; what is kept is
            // what the options ask to keep.
            if !o.skip_networking {
                crate::store::interfaces::delete_machine_links(tx, m.id).await?;
            }
            transition(
                tx,
                m,
                NodeStatus::Commissioning,
                who,
                &desc("Commissioning"),
            )
            .await?;
            let p = PowerPlan::netboot(NodeStatus::Commissioning);
            plan = power(tx, m, who, PowerAction::On, p).await?;
        }
        Action::Test => {
            db_boot::set_enable_ssh(tx, m.id, r.commission.enable_ssh).await?;
            transition(tx, m, NodeStatus::Testing, who, &desc("Testing")).await?;
            let p = PowerPlan::netboot(NodeStatus::Testing);
            plan = power(tx, m, who, PowerAction::On, p).await?;
        }
        Action::Abort => {
            let to = match m.status {
                NodeStatus::Testing => m
                    .previous_status
                    .filter(|p| NodeStatus::Testing.can_transition_to(*p))
                    .unwrap_or(NodeStatus::Ready),
                s => r
                    .action
                    .first_target(s)
                    .ok_or_else(|| Error::Conflict(r.action.refusal(s)))?,
            };
            let what = format!("Aborted {}", m.status.label().to_lowercase());
            transition(tx, m, to, who, &desc(&what)).await?;
            let p = PowerPlan::new(PowerAction::Off);
            plan = power(tx, m, who, PowerAction::Off, p).await?;
        }
        Action::MarkBroken => {
            transition(tx, m, NodeStatus::Broken, who, &desc("Marked broken")).await?;
            db::set_error_description(tx, m.id, &r.reason).await?;
        }
        Action::MarkFixed => {
            let to = if m.previous_status == Some(NodeStatus::Deployed) {
                NodeStatus::Deployed
            } else {
                NodeStatus::Ready
            };
            transition(tx, m, to, who, &desc("Marked fixed")).await?;
            db::set_error_description(tx, m.id, "").await?;
        }
        Action::OverrideFailedTesting => {
            let to = m
                .previous_status
                .filter(|p| NodeStatus::FailedTesting.can_transition_to(*p))
                .unwrap_or(NodeStatus::Ready);
            transition(tx, m, to, who, &desc("Overrode failed testing")).await?;
        }
        Action::RescueMode => {
            let what = desc("Entering rescue mode");
            transition(tx, m, NodeStatus::EnteringRescueMode, who, &what).await?;
            let p = PowerPlan::netboot(NodeStatus::EnteringRescueMode);
            plan = power(tx, m, who, PowerAction::Cycle, p).await?;
        }
        Action::ExitRescueMode => {
            let what = desc("Exiting rescue mode");
            transition(tx, m, NodeStatus::ExitingRescueMode, who, &what).await?;
            let to = m
                .previous_status
                .filter(|p| NodeStatus::ExitingRescueMode.can_transition_to(*p))
                .unwrap_or(NodeStatus::Ready);
            let mut p = PowerPlan::new(PowerAction::Off);
            if !by_hand {
                p.during = Some(NodeStatus::ExitingRescueMode);
                p.then = Some(to);
            }
            plan = power(tx, m, who, PowerAction::Off, p).await?;
            if by_hand {
                transition(tx, m, to, who, "Exited rescue mode").await?;
            }
        }
        Action::Lock | Action::Unlock => {
            let lock = r.action == Action::Lock;
            if m.locked == lock {
                return Err(Error::Conflict(format!(
                    "Machine {} is {}locked.",
                    m.hostname,
                    if lock { "already " } else { "not " }
                )));
            }
            db::set_locked(tx, m.id, lock).await?;
            let what = if lock { "Locked" } else { "Unlocked" };
            lifecycle::event(tx, Some(m), who, "INFO", what, &desc(what)).await?;
        }
        Action::PowerOn => {
            if m.owner_id.is_none() {
                return Err(Error::Conflict(format!(
                    "Can't start machine {}: it hasn't been allocated.",
                    m.hostname
                )));
            }
            let p = PowerPlan::new(PowerAction::On);
            plan = power(tx, m, who, PowerAction::On, p).await?;
        }
        Action::PowerOff => {
            let a = if r.soft_off {
                PowerAction::SoftOff
            } else {
                PowerAction::Off
            };
            plan = power(tx, m, who, PowerAction::Off, PowerPlan::new(a)).await?;
        }
    }
    Ok(plan)
}

/// Refuse a collection operation naming machines that do not exist, as
/// MAAS does (400, `Unknown machine(s): …`), before acting on any.
pub async fn check_known(ctx: &Ctx, system_ids: &[String]) -> Result<()> {
    let mut c = crate::store::acquire(&ctx.db).await?;
    let known = crate::store::machines::existing(&mut c, system_ids).await?;
    let unknown: Vec<&str> = system_ids
        .iter()
        .filter(|s| !known.contains(s))
        .map(|s| s.as_str())
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "Unknown machine(s): {}.",
            unknown.join(", ")
        )))
    }
}

/// Accept enlisted (NEW) machines: they go to commissioning. Returns the
/// system ids accepted (others are skipped).
pub async fn accept(ctx: &Ctx, user: &User, system_ids: &[String]) -> Result<Vec<String>> {
    let mut accepted = Vec::new();
    for sid in system_ids {
        let mut tx = crate::store::begin(&ctx.db).await?;
        let mut m = lifecycle::lock(&mut tx, sid).await?;
        if m.status == NodeStatus::New {
            let who = Some(user.username.as_str());
            let defaults = CommissionOptions::default();
            db_boot::set_commission_options(&mut tx, m.id, &defaults).await?;
            let what = "Accepted; commissioning";
            transition(&mut tx, &mut m, NodeStatus::Commissioning, who, what).await?;
            let p = PowerPlan::netboot(NodeStatus::Commissioning);
            let plan = power(&mut tx, &m, who, PowerAction::On, p).await?;
            tx.commit().await?;
            if let Some(plan) = plan {
                after::spawn(ctx, sid, plan, Some(user.username.clone()));
            }
            accepted.push(sid.clone());
        }
    }
    Ok(accepted)
}
