//! The single writer of machine status: every change goes through the
//! transition table in `maas-model`, sets or clears the deadline, and is
//! recorded as an event, in the caller's transaction.

use maas_model::{NodeStatus, PowerAction, PowerType};

use crate::error::{Error, Result};
use crate::services::config;
use crate::store::events::{self, EventMachine};
use crate::store::machines::{self as db, write::StatusChange};
use crate::store::{Conn, Pool};

pub use crate::store::machines::Core;

/// Lock a machine row for this transaction. 404 if it does not exist.
pub async fn lock(tx: &mut Conn, system_id: &str) -> Result<Core> {
    db::lock(tx, system_id)
        .await?
        .ok_or_else(|| not_found(system_id))
}

pub fn not_found(system_id: &str) -> Error {
    Error::NotFound(format!("No Machine matches the given query ({system_id})."))
}

/// Record an event (about `m` when given).
pub async fn event(
    tx: &mut Conn,
    m: Option<&Core>,
    username: Option<&str>,
    level: &str,
    type_: &str,
    description: &str,
) -> Result<()> {
    let m = m.map(|m| EventMachine {
        id: m.id,
        system_id: &m.system_id,
        hostname: &m.hostname,
    });
    events::insert(tx, m, username, level, type_, description).await
}

/// Whether moving from `from` to `to` should remember `from` as the status to
/// return to (after rescue mode, testing, broken). In-progress and rescue
/// statuses are passed through so the status before them is kept; a failed
/// status is remembered only when entering rescue mode or broken.
fn remembers(from: NodeStatus, to: NodeStatus) -> bool {
    if from.deadline_minutes(1).is_some() || from == NodeStatus::RescueMode {
        return false;
    }
    !from.is_failed() || matches!(to, NodeStatus::EnteringRescueMode | NodeStatus::Broken)
}

/// Move a machine to `to`, checked against the transition table.
pub async fn transition(
    tx: &mut Conn,
    m: &mut Core,
    to: NodeStatus,
    actor: Option<&str>,
    description: &str,
) -> Result<()> {
    let from = m.status;
    maas_model::status::check_transition(from, to).map_err(|e| {
        Error::Conflict(format!("Cannot change the status of {}: {e}.", m.hostname))
    })?;
    let timeout = config::get_i64(&mut *tx, "node_timeout").await?;
    let previous = if remembers(from, to) {
        Some(from)
    } else {
        m.previous_status
    };
    let change = StatusChange {
        to,
        previous,
        deadline_minutes: to.deadline_minutes(timeout),
        message: description,
        to_ready: to == NodeStatus::Ready,
        failed: to.is_failed(),
    };
    db::write::set_status(tx, m.id, &change).await?;
    let level = if change.failed { "ERROR" } else { "INFO" };
    m.status = to;
    m.previous_status = previous;
    if change.to_ready {
        m.owner_id = None;
        m.locked = false;
    }
    event(tx, Some(m), actor, level, to.label(), description).await
}

/// Record a power request. A manual machine is done (the operator acts by
/// hand); a BMC's command goes to a rack once the transaction has committed
/// (`power::after`), and waits for one while no rack is connected.
pub async fn power_intent(
    tx: &mut Conn,
    m: &Core,
    who: Option<&str>,
    action: PowerAction,
) -> Result<()> {
    let state = action.as_str();
    let desc = match m.power_type.filter(|t| *t != PowerType::Manual) {
        None => format!("Power {state} (manual power type: change the power by hand)."),
        Some(t) => format!(
            "Power {state} requested; waiting for a rack controller to drive the {} BMC.",
            t.as_str()
        ),
    };
    event(tx, Some(m), who, "INFO", &format!("Power {state}"), &desc).await
}

/// Fail every machine whose in-progress deadline has passed. Returns how many.
pub async fn expire_overdue(db: &Pool) -> Result<usize> {
    let mut tx = crate::store::begin(db).await?;
    if !db::write::try_monitor_lock(&mut tx).await? {
        return Ok(0);
    }
    let mut n = 0;
    for sid in db::write::overdue(&mut tx).await? {
        let mut m = lock(&mut tx, &sid).await?;
        if let Some(failed) = m.status.failure_status() {
            let msg = format!(
                "Machine timed out during {}.",
                m.status.label().to_lowercase()
            );
            transition(&mut tx, &mut m, failed, None, &msg).await?;
            n += 1;
        } else {
            db::write::clear_deadline(&mut tx, m.id).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// The status monitor loop.
pub async fn run_status_monitor(db: Pool, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match expire_overdue(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "failed machines past their deadline"),
            Err(e) => tracing::warn!(error = %e, "status monitor pass failed"),
        }
    }
}
