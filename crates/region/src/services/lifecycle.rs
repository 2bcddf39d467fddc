//! The single writer of machine status: every change goes through the
//! transition table in `maas-model`, sets or clears the deadline, and is
//! recorded as an event, in the caller's transaction.

use maas_model::NodeStatus;
use sqlx::{PgConnection, PgPool, Row};

use crate::error::{Error, Result};
use crate::services::config;

/// The columns lifecycle decisions need, read under a row lock.
#[derive(Debug, Clone)]
pub struct Core {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub status: NodeStatus,
    pub previous_status: Option<NodeStatus>,
    pub owner_id: Option<i64>,
    pub locked: bool,
    pub power_type: String,
    pub power_state: String,
}

/// Lock a machine row for this transaction. 404 if it does not exist.
pub async fn lock(tx: &mut PgConnection, system_id: &str) -> Result<Core> {
    let r = sqlx::query(
        "SELECT id, system_id, hostname, status, previous_status, owner_id, locked, power_type,
                power_state
           FROM machines WHERE system_id = $1 FOR UPDATE",
    )
    .bind(system_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| not_found(system_id))?;
    Ok(Core {
        id: r.get("id"),
        system_id: r.get("system_id"),
        hostname: r.get("hostname"),
        status: NodeStatus::from_i16(r.get("status")).unwrap_or(NodeStatus::Broken),
        previous_status: r
            .get::<Option<i16>, _>("previous_status")
            .and_then(NodeStatus::from_i16),
        owner_id: r.get("owner_id"),
        locked: r.get("locked"),
        power_type: r.get("power_type"),
        power_state: r.get("power_state"),
    })
}

pub fn not_found(system_id: &str) -> Error {
    Error::NotFound(format!("No Machine matches the given query ({system_id})."))
}

/// Record an event.
pub async fn event(
    tx: &mut PgConnection,
    m: Option<&Core>,
    username: Option<&str>,
    level: &str,
    type_: &str,
    description: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (machine_id, system_id, hostname, username, level, type, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.map(|m| m.id))
    .bind(m.map(|m| m.system_id.as_str()))
    .bind(m.map(|m| m.hostname.as_str()).unwrap_or(""))
    .bind(username)
    .bind(level)
    .bind(type_)
    .bind(description)
    .execute(&mut *tx)
    .await?;
    Ok(())
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
    tx: &mut PgConnection,
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
    let deadline = to.deadline_minutes(timeout);
    let previous = if remembers(from, to) {
        Some(from)
    } else {
        m.previous_status
    };
    let to_ready = to == NodeStatus::Ready;
    let failed = to.is_failed();
    sqlx::query(
        "UPDATE machines SET
            status = $2,
            previous_status = $3,
            status_expires = CASE WHEN $4::bigint IS NULL THEN NULL
                                  ELSE now() + make_interval(mins => $4::int) END,
            status_message = $5,
            error_description = CASE WHEN $7 THEN $5 WHEN $6 THEN '' ELSE error_description END,
            owner_id = CASE WHEN $6 THEN NULL ELSE owner_id END,
            agent_name = CASE WHEN $6 THEN '' ELSE agent_name END,
            osystem = CASE WHEN $6 THEN '' ELSE osystem END,
            distro_series = CASE WHEN $6 THEN '' ELSE distro_series END,
            hwe_kernel = CASE WHEN $6 THEN NULL ELSE hwe_kernel END,
            user_data = CASE WHEN $6 THEN NULL ELSE user_data END,
            locked = CASE WHEN $6 THEN false ELSE locked END,
            netboot = CASE WHEN $6 THEN true ELSE netboot END,
            owner_data = CASE WHEN $6 THEN '{}'::jsonb ELSE owner_data END,
            updated = now()
          WHERE id = $1",
    )
    .bind(m.id)
    .bind(to.as_i16())
    .bind(previous.map(|s| s.as_i16()))
    .bind(deadline)
    .bind(description)
    .bind(to_ready)
    .bind(failed)
    .execute(&mut *tx)
    .await?;
    let level = if failed { "ERROR" } else { "INFO" };
    m.status = to;
    m.previous_status = previous;
    if to_ready {
        m.owner_id = None;
        m.locked = false;
    }
    event(tx, Some(m), actor, level, to.label(), description).await
}

/// Advisory lock id for the status monitor (one region runs it at a time).
const STATUS_MONITOR_LOCK: i64 = 0x6d61_6173_0002;

/// Fail every machine whose in-progress deadline has passed. Returns how many.
pub async fn expire_overdue(db: &PgPool) -> Result<usize> {
    let mut tx = db.begin().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(STATUS_MONITOR_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !got {
        return Ok(0);
    }
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT system_id FROM machines WHERE status_expires < now()
          ORDER BY status_expires LIMIT 1000 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut n = 0;
    for sid in ids {
        let mut m = lock(&mut tx, &sid).await?;
        if let Some(failed) = m.status.failure_status() {
            let msg = format!(
                "Machine timed out during {}.",
                m.status.label().to_lowercase()
            );
            transition(&mut tx, &mut m, failed, None, &msg).await?;
            n += 1;
        } else {
            sqlx::query("UPDATE machines SET status_expires = NULL WHERE id = $1")
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// The status monitor loop.
pub async fn run_status_monitor(db: PgPool, every: std::time::Duration) {
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
