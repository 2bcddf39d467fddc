//! What power commands read and write: a machine's power type and sealed
//! parameters, its power state, the machines the poller refreshes.

use crate::error::Result;
use crate::store::Pool;

/// A machine's power target: id, hostname, power type, sealed parameters.
pub type PowerTarget = (i64, String, String, Option<Vec<u8>>);

pub async fn target(db: &Pool, system_id: &str) -> Result<Option<PowerTarget>> {
    Ok(sqlx::query_as(
        "SELECT id, hostname, power_type, power_parameters FROM machines WHERE system_id = $1",
    )
    .bind(system_id)
    .fetch_optional(db)
    .await?)
}

/// Store the power state; the row (and its version) changes only when the
/// state does. Returns whether it changed.
pub async fn set_state(db: &Pool, system_id: &str, state: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE machines SET power_state = $2
          WHERE system_id = $1 AND power_state IS DISTINCT FROM $2",
    )
    .bind(system_id)
    .bind(state)
    .execute(db)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// System ids of the machines a BMC drives (not manual, not unset).
pub async fn driven(db: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT system_id FROM machines WHERE power_type NOT IN ('', 'manual') ORDER BY id",
    )
    .fetch_all(db)
    .await?)
}
