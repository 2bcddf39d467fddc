//! Power commands that follow a committed lifecycle action (commission →
//! PXE once + on/cycle, release → off, …) and the probe when a machine gets
//! BMC parameters. They run in the background: the API answers once the
//! action is recorded; the result lands as an event and in `power_state`,
//! and a failure moves the machine to the matching failed status.

use maas_model::{NodeStatus, PowerAction};

use super::{PowerError, Send};
use crate::services::Ctx;
use crate::services::lifecycle;

/// What to do with a machine's power once an action has committed.
#[derive(Debug, Clone)]
pub struct PowerPlan {
    pub action: PowerAction,
    pub boot_pxe_once: bool,
    /// The status the machine is in while the command runs: a failure moves
    /// it to that status's failed status (if it is still there).
    pub during: Option<NodeStatus>,
    /// Where it goes on success (if it is still in `during`).
    pub then: Option<NodeStatus>,
}

impl PowerPlan {
    pub fn new(action: PowerAction) -> PowerPlan {
        PowerPlan {
            action,
            boot_pxe_once: false,
            during: None,
            then: None,
        }
    }

    /// Boot from the network once, then power on (or cycle when on).
    pub fn netboot(during: NodeStatus) -> PowerPlan {
        PowerPlan {
            action: PowerAction::Cycle,
            boot_pxe_once: true,
            during: Some(during),
            then: None,
        }
    }
}

fn verb(a: PowerAction) -> &'static str {
    match a {
        PowerAction::On | PowerAction::Cycle | PowerAction::Reset => "power on",
        PowerAction::Off | PowerAction::SoftOff => "power off",
        PowerAction::Query => "query the power of",
    }
}

/// Run `plan` for `system_id` in the background.
pub fn spawn(ctx: &Ctx, system_id: &str, plan: PowerPlan, who: Option<String>) {
    let ctx = ctx.clone();
    let system_id = system_id.to_string();
    tokio::spawn(async move {
        if let Err(e) = run(&ctx, &system_id, &plan, who.as_deref()).await {
            tracing::warn!(%system_id, error = %e, "cannot record a power result");
        }
    });
}

/// Run `plan` now and record its outcome.
pub async fn run(
    ctx: &Ctx,
    system_id: &str,
    plan: &PowerPlan,
    who: Option<&str>,
) -> crate::error::Result<()> {
    let r = super::send(
        ctx,
        system_id,
        Send::action(plan.action, plan.boot_pxe_once),
    )
    .await;
    super::record(ctx, system_id, &r).await?;
    let mut tx = crate::store::begin(&ctx.db).await?;
    let Some(mut m) = crate::store::machines::lock(&mut tx, system_id).await? else {
        return Ok(());
    };
    let still = plan.during.is_some_and(|d| d == m.status);
    match r {
        Ok(reply) => {
            let what = match plan.action {
                PowerAction::Off | PowerAction::SoftOff => "Powered off",
                _ => "Powered on",
            };
            let pxe = if plan.boot_pxe_once {
                " (network boot once)"
            } else {
                ""
            };
            let desc = format!("{what}{pxe}; the BMC reports {}.", reply.state);
            lifecycle::event(&mut tx, Some(&m), who, "INFO", what, &desc).await?;
            if let (true, Some(to)) = (still, plan.then) {
                lifecycle::transition(&mut tx, &mut m, to, who, what).await?;
            }
        }
        // No rack here yet: the request stays on record (the intent event
        // says it waits) and the status deadline decides.
        Err(e @ (PowerError::NoPowerType(_) | PowerError::NotFound(_) | PowerError::NoRack(_))) => {
            tracing::info!(%system_id, error = %e, "no power command sent");
        }
        Err(e) => {
            let msg = format!("Failed to {} {}: {e}", verb(plan.action), m.hostname);
            lifecycle::event(&mut tx, Some(&m), who, "ERROR", "Power failure", &msg).await?;
            if still && let Some(failed) = m.status.failure_status() {
                lifecycle::transition(&mut tx, &mut m, failed, who, &msg).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Check a machine's new BMC parameters once, in the background: the state
/// it reports, or plainly why it cannot be reached, as an event and in
/// `power_state` ("error").
pub fn probe(ctx: &Ctx, system_id: &str) {
    let ctx = ctx.clone();
    let system_id = system_id.to_string();
    tokio::spawn(async move {
        let r = super::send(&ctx, &system_id, Send::query()).await;
        let (level, desc) = match &r {
            Ok(r) => (
                "INFO",
                format!("Power parameters checked: the BMC reports {}.", r.state),
            ),
            Err(PowerError::NoRack(_)) => {
                // Nothing to say about the BMC yet; the poller checks later.
                return;
            }
            Err(e) => ("ERROR", format!("Power parameters check failed: {e}")),
        };
        let out = async {
            super::record(&ctx, &system_id, &r).await?;
            let mut tx = crate::store::begin(&ctx.db).await?;
            if let Some(m) = crate::store::machines::lock(&mut tx, &system_id).await? {
                lifecycle::event(&mut tx, Some(&m), None, level, "Power check", &desc).await?;
            }
            tx.commit().await.map_err(crate::error::Error::from)?;
            Ok::<_, PowerError>(())
        };
        if let Err(e) = out.await {
            tracing::warn!(%system_id, error = %e, "cannot record a power check");
        }
    });
}
