//! One page of a machine listing in a chosen order, and counts per status:
//! what the web UI's machine list shows (100 rows at a time at any fleet
//! size; the counts label the status groups).

use maas_model::filter::MachineFilter;
use sqlx::{Postgres, QueryBuilder};

use crate::error::Result;
use crate::store::db::Hot;
use crate::store::machines::filter::{VersionKey, push};

/// The columns a listing can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Hostname,
    Power,
    Status,
    Owner,
    Pool,
    Zone,
    Cores,
    Memory,
}

impl Order {
    fn expr(self) -> &'static str {
        match self {
            Order::Hostname => "m.hostname",
            Order::Power => "m.power_state",
            Order::Status => "m.status",
            Order::Owner => "(SELECT username FROM users WHERE id = m.owner_id)",
            Order::Pool => "(SELECT name FROM resource_pools WHERE id = m.pool_id)",
            Order::Zone => "(SELECT name FROM zones WHERE id = m.zone_id)",
            Order::Cores => "m.cpu_count",
            Order::Memory => "m.memory",
        }
    }
}

/// How a page is ordered: by status first when grouping, then the column.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageOrder {
    pub by: Order,
    pub desc: bool,
    pub group_by_status: bool,
}

/// Ids and versions of the machines `f` selects, ordered, `limit` of them
/// from `offset`.
pub async fn versions(
    hot: &Hot,
    f: &MachineFilter,
    order: PageOrder,
    offset: i64,
    limit: i64,
) -> Result<Vec<VersionKey>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch) AS epoch
  FROM machines m WHERE true",
    );
    push(&mut q, f);
    let dir = if order.desc { "DESC" } else { "ASC" };
    q.push(" ORDER BY ");
    if order.group_by_status {
        q.push("m.status, ");
    }
    q.push(format!("{} {dir} NULLS LAST, m.id {dir}", order.by.expr()));
    q.push(" LIMIT ").push_bind(limit);
    q.push(" OFFSET ").push_bind(offset);
    let rows = hot
        .run(async |c| q.build_query_as::<VersionKey>().fetch_all(c).await)
        .await?;
    Ok(rows)
}

/// How many machines `f` selects, per status (MAAS's status numbers).
pub async fn status_counts(hot: &Hot, f: &MachineFilter) -> Result<Vec<(i16, i64)>> {
    let mut q =
        QueryBuilder::<Postgres>::new("SELECT m.status, count(*) FROM machines m WHERE true");
    push(&mut q, f);
    q.push(" GROUP BY m.status ORDER BY m.status");
    let rows = hot
        .run(async |c| q.build_query_as::<(i16, i64)>().fetch_all(c).await)
        .await?;
    Ok(rows)
}
