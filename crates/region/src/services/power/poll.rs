//! Power polling: every machine driven by a BMC has its state refreshed on
//! an interval, through the racks connected to this region, with at most
//! `hub::POLL_PER_RACK` queries in flight per rack.

use std::time::Duration;

use super::Send;
use crate::services::Ctx;

/// One pass: query every BMC-driven machine. Returns (queried, failed).
pub async fn pass(ctx: &Ctx) -> crate::error::Result<(usize, usize)> {
    if ctx.power.connected().is_empty() {
        return Ok((0, 0));
    }
    let ids = crate::store::machines::power::driven(&ctx.db).await?;
    let width = super::hub::POLL_PER_RACK * ctx.power.connected().len().max(1);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(width));
    let mut tasks = tokio::task::JoinSet::new();
    for sid in ids {
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let o = Send {
                poll: true,
                ..Send::query()
            };
            let r = super::send(&ctx, &sid, o).await;
            if let Err(e) = super::record(&ctx, &sid, &r).await {
                tracing::warn!(system_id = %sid, error = %e, "cannot store a polled power state");
            }
            if let Err(e) = &r {
                tracing::debug!(system_id = %sid, error = %e, "power poll failed");
            }
            r.is_ok()
        });
    }
    let (mut n, mut failed) = (0, 0);
    while let Some(ok) = tasks.join_next().await {
        n += 1;
        if !matches!(ok, Ok(true)) {
            failed += 1;
        }
    }
    Ok((n, failed))
}

/// The polling loop (`maas-region serve --power-poll-interval`).
pub async fn run(ctx: Ctx, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pass(&ctx).await {
            Ok((0, _)) => {}
            Ok((n, failed)) => tracing::debug!(queried = n, failed, "power poll pass"),
            Err(e) => tracing::warn!(error = %e, "power poll pass failed"),
        }
    }
}
