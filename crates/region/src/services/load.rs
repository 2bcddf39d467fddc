//! Reading machines to render them: rows completed with the names and
//! related sets they refer to (from the render caches when they hold the
//! rows' versions), listings that read ids and versions first and render only
//! what changed, and the background pass that fills the caches.

use std::collections::HashMap;
use std::sync::Arc;

use maas_model::filter::{MachineFilter, Visibility};

use crate::error::{Error, Result};
use crate::render::related::{Related, SharedNames, assemble};
use crate::render::{FullMachine, MachineRow, render_each};
use crate::services::Ctx;
use crate::store::machines::{self as db, filter::VersionKey, related};

/// Complete machine rows for rendering: the names they refer to and their
/// interfaces and disks, from the caches where they hold the rows'
/// versions, else read (one statement for all the related sets).
pub async fn complete(ctx: &Ctx, rows: Vec<MachineRow>) -> Result<Vec<FullMachine>> {
    let shared = shared_names(ctx, &rows).await?;
    let mut found: Vec<Option<Arc<Related>>> = rows
        .iter()
        .map(|r| ctx.render.related(r.id, r.hw_version, r.epoch))
        .collect();
    let missing: Vec<i64> = rows
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| r.id)
        .collect();
    if !missing.is_empty() {
        let mut loaded = load_related(ctx, &missing).await?;
        for (r, f) in rows.iter().zip(found.iter_mut()) {
            if f.is_none() {
                // A machine deleted meanwhile renders with no hardware.
                *f = Some(loaded.remove(&r.id).unwrap_or_default());
            }
        }
    }
    Ok(rows
        .into_iter()
        .zip(found)
        .map(|(row, related)| FullMachine {
            row,
            related: related.unwrap_or_default(),
            shared: shared.clone(),
            constraints_by_type: None,
        })
        .collect())
}

/// One machine with everything it renders (one round trip when its related
/// set is cached); `None` if there is no such machine.
pub async fn machine(ctx: &Ctx, system_id: &str) -> Result<Option<FullMachine>> {
    match db::row_by_system_id(&ctx.hot, system_id).await? {
        Some(row) => Ok(complete(ctx, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// A shared-names snapshot for `rows`: the cached one if it covers them all,
/// else a fresh read (one at a time; concurrent callers reuse it).
async fn shared_names(ctx: &Ctx, rows: &[MachineRow]) -> Result<Arc<SharedNames>> {
    let covered = |s: &SharedNames| {
        rows.iter()
            .all(|r| s.covers(r.epoch, r.domain_id, r.zone_id, r.pool_id, r.owner_id))
    };
    let s = ctx.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let _one = ctx.render.shared_reload.lock().await;
    let s = ctx.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let s = Arc::new(related::shared_names(&ctx.hot).await?);
    ctx.render.put_shared(s.clone());
    Ok(s)
}

/// Read machines' related sets and cache each under the versions it was
/// read at.
async fn load_related(ctx: &Ctx, ids: &[i64]) -> Result<HashMap<i64, Arc<Related>>> {
    let got: Vec<(i64, i64, i64, Arc<Related>)> = related::related_rows(&ctx.hot, ids)
        .await?
        .into_iter()
        .map(|r| {
            let rel = assemble(&r.system_id, r.interfaces, r.links, r.disks, r.special);
            (r.id, r.hw_version, r.epoch, Arc::new(rel))
        })
        .collect();
    let out = got
        .iter()
        .map(|(id, _, _, rel)| (*id, rel.clone()))
        .collect();
    ctx.render.put_related(got);
    Ok(out)
}

/// Whether `m` was completed exactly as of its row's versions: names of
/// the row's epoch and the related set its hardware version names (either
/// can be newer when something changed between the reads). Only such a
/// rendering may be cached under the row's versions.
fn cacheable(ctx: &Ctx, m: &FullMachine) -> bool {
    m.shared.epoch == m.row.epoch
        && ctx
            .render
            .related(m.row.id, m.row.hw_version, m.row.epoch)
            .is_some_and(|r| Arc::ptr_eq(&r, &m.related))
}

/// A rendered listing: the JSON array, and the cursor of a further page.
pub struct Listing {
    pub body: Vec<u8>,
    pub next_cursor: Option<String>,
}

/// The machines `filter` selects, by id, rendered: one cheap read of ids and
/// versions, then only machines whose current rendering is not cached are
/// read whole and rendered. With `limit`, a further page is announced by
/// `next_cursor`.
pub async fn list(ctx: &Ctx, filter: &MachineFilter, limit: Option<i64>) -> Result<Listing> {
    let mut keys = db::filter::versions(&ctx.hot, filter, limit.map(|l| l + 1)).await?;
    let mut next_cursor: Option<String> = None;
    if let Some(l) = limit
        && keys.len() as i64 > l
    {
        keys.truncate(l as usize);
        next_cursor = keys.last().map(|k| format!("c{:x}", k.0));
    }
    let pieces = rendered_for(ctx, Some(filter.visibility), &keys).await?;
    let total: usize = pieces.iter().flatten().map(|p| p.len() + 1).sum();
    let mut body = Vec::with_capacity(total + 2);
    body.push(b'[');
    for p in pieces.iter().flatten() {
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(p);
    }
    body.push(b']');
    Ok(Listing { body, next_cursor })
}

/// The rendered object of each key, in order: cached ones as they are, the
/// rest read, rendered and cached. `None` for a machine deleted since the
/// keys were read, or (with a `viewer`) no longer visible to them.
pub(crate) async fn rendered_for(
    ctx: &Ctx,
    viewer: Option<Visibility>,
    keys: &[VersionKey],
) -> Result<Vec<Option<Arc<[u8]>>>> {
    let wanted: Vec<(i64, i64, i64)> = keys.iter().map(|k| (k.0, k.1, k.3)).collect();
    let mut pieces = ctx.render.rendered(&wanted);
    let missing: Vec<&VersionKey> = keys
        .iter()
        .zip(&pieces)
        .filter(|(_, p)| p.is_none())
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        // Rows, and the related sets not cached at the versions just read,
        // at once.
        let ids: Vec<i64> = missing.iter().map(|k| k.0).collect();
        let unrelated: Vec<i64> = missing
            .iter()
            .filter(|k| ctx.render.related(k.0, k.2, k.3).is_none())
            .map(|k| k.0)
            .collect();
        let (mut rows, _) = tokio::try_join!(db::rows_by_ids(&ctx.hot, &ids), async {
            if unrelated.is_empty() {
                return Ok(HashMap::new());
            }
            load_related(ctx, &unrelated).await
        })?;
        // A machine changed since the first read may no longer be the
        // viewer's to see (allocated to someone else meanwhile).
        if let Some(v) = viewer {
            rows.retain(|r| v.allows(r.owner_id));
        }
        // Related sets come from the cache at each row's own versions; a
        // machine whose hardware changed between the reads is read again.
        let machines = complete(ctx, rows).await?;
        let (machines, rendered) = tokio::task::spawn_blocking(move || {
            let r = render_each(&machines);
            (machines, r)
        })
        .await
        .map_err(|e| Error::Internal(e.into()))?;
        let mut by_id: HashMap<i64, Arc<[u8]>> = HashMap::with_capacity(machines.len());
        let mut fresh = Vec::with_capacity(machines.len());
        for (m, json) in machines.iter().zip(rendered) {
            if cacheable(ctx, m) {
                fresh.push((m.row.id, m.row.version, m.row.epoch, json.clone()));
            }
            by_id.insert(m.row.id, json);
        }
        ctx.render.put_rendered(fresh);
        for (k, p) in keys.iter().zip(pieces.iter_mut()) {
            if p.is_none() {
                // None: deleted since the first read; left out.
                *p = by_id.remove(&k.0);
            }
        }
    }
    Ok(pieces)
}

/// Read and render every machine once, in pages, so a region that just
/// started (or just dropped its caches) answers from warm caches. Runs in
/// the background; one pass at a time.
pub async fn preload(ctx: Ctx) {
    use std::sync::atomic::Ordering;
    if ctx.render.preloading.swap(true, Ordering::AcqRel) {
        return;
    }
    let t0 = std::time::Instant::now();
    let mut last = 0i64;
    let mut n = 0usize;
    let result: Result<()> = async {
        while n < ctx.render.max_entries() {
            let keys = db::filter::versions_page(&ctx.hot, last, 2000).await?;
            let Some(k) = keys.last() else { break };
            last = k.0;
            n += keys.len();
            rendered_for(&ctx, None, &keys).await?;
        }
        Ok(())
    }
    .await;
    ctx.render.preloading.store(false, Ordering::Release);
    match result {
        Ok(()) => tracing::info!(
            machines = n,
            ms = t0.elapsed().as_millis() as u64,
            "render caches loaded"
        ),
        Err(e) => tracing::warn!(error = %e, "render cache preload stopped"),
    }
}
