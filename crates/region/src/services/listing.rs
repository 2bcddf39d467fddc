//! A page of machines for the web UI: the filter, order and window it asks
//! for, each machine as its MAAS JSON (from the render caches like any API
//! listing), the total and the counts per status.

use maas_model::NodeStatus;
use maas_model::filter::MachineFilter;
use serde_json::Value;

use crate::error::Result;
use crate::services::auth::User;
use crate::services::{Ctx, load};
use crate::store::machines::page::{self, PageOrder};

pub use crate::store::machines::page::{Order, PageOrder as Ordering};

/// Rows per page at most.
pub const MAX_PAGE: i64 = 500;

/// What a page shows.
pub struct Page {
    /// The machines on this page, as the API renders them.
    pub machines: Vec<Value>,
    /// Machines the filter selects, per status, in status order.
    pub counts: Vec<(NodeStatus, i64)>,
    pub total: i64,
}

/// The page of machines `user` may see that `filter` selects.
pub async fn page(
    ctx: &Ctx,
    user: &User,
    mut filter: MachineFilter,
    order: PageOrder,
    offset: i64,
    limit: i64,
) -> Result<Page> {
    filter.visibility = user.visibility();
    let limit = limit.clamp(1, MAX_PAGE);
    let offset = offset.max(0);
    let (keys, counts) = tokio::try_join!(
        page::versions(&ctx.hot, &filter, order, offset, limit),
        page::status_counts(&ctx.hot, &filter),
    )?;
    let rendered = load::rendered_for(ctx, Some(filter.visibility), &keys).await?;
    let machines = rendered
        .iter()
        .flatten()
        .filter_map(|b| serde_json::from_slice(b).ok())
        .collect();
    let counts: Vec<(NodeStatus, i64)> = counts
        .into_iter()
        .filter_map(|(s, n)| NodeStatus::from_i16(s).map(|s| (s, n)))
        .collect();
    let total = counts.iter().map(|c| c.1).sum();
    Ok(Page {
        machines,
        counts,
        total,
    })
}
