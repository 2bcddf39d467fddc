//! Reading the event log (`events/?op=query`): levels, paging and who may
//! see what.

use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::store::{self, Pool};

pub use crate::store::events::EventRow;

/// Levels, least severe first; a query names the least severe it wants.
pub const LEVELS: &[&str] = &["DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL"];

/// Events per page: 100 unless asked, at most 1000.
pub fn limit(asked: Option<i64>) -> Result<i64> {
    let limit = asked.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::field("limit", "limit must be between 1 and 1000."));
    }
    Ok(limit)
}

/// What a caller asks for (lists empty: any).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub limit: i64,
    pub before: Option<i64>,
    pub after: Option<i64>,
    /// The least severe level wanted (default INFO), any case.
    pub level: Option<String>,
    pub hostnames: Vec<String>,
    pub system_ids: Vec<String>,
    pub mac_addresses: Vec<String>,
    pub zones: Vec<String>,
    pub agent_names: Vec<String>,
    pub owners: Vec<String>,
}

/// Events matching `q` that `user` may see, newest first. Admins see every
/// event; others only events about machines that are unowned or theirs.
pub async fn query(db: &Pool, user: &User, q: Query) -> Result<Vec<EventRow>> {
    if q.before.is_some() && q.after.is_some() {
        return Err(Error::BadRequest(
            "There is no meaning in giving both 'before' and 'after'.".into(),
        ));
    }
    let level = q.level.as_deref().unwrap_or("INFO").to_ascii_uppercase();
    let min = LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
        Error::field(
            "level",
            format!("'{level}' is not a valid level: {}.", LEVELS.join(", ")),
        )
    })?;
    let sq = store::events::EventQuery {
        levels: LEVELS[min..].iter().map(|s| s.to_string()).collect(),
        visible_to: (!user.is_superuser).then_some(user.id),
        hostnames: q.hostnames,
        system_ids: q.system_ids,
        macs: q
            .mac_addresses
            .iter()
            .filter_map(|m| maas_model::ids::normalize_mac(m))
            .collect(),
        zones: q.zones,
        agent_names: q.agent_names,
        owners: q.owners,
        before: q.before,
        after: q.after,
        limit: q.limit,
    };
    let mut rows = store::events::query(db, &sq).await?;
    if sq.after.is_some() {
        // Read oldest first just after `after`; shown newest first.
        rows.reverse();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), 100);
        assert_eq!(limit(Some(1000)).unwrap(), 1000);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(1001)).is_err());
    }
}
