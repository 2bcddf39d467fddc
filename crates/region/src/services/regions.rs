//! Regions: each records itself at start (system id kept in its data dir,
//! hostname, version); `regioncontrollers/` lists them.

use std::path::Path;

use maas_model::SystemId;

use crate::error::Result;
use crate::store::Pool;
use crate::store::regions::{self as db, RegionRow};

/// The MAAS version regions report (as `version/` does).
pub const VERSION: &str = "3.5.0";

/// This region's system id: read from `data_dir/region.id`, drawn and kept
/// there the first time.
fn system_id(data_dir: &Path) -> String {
    let file = data_dir.join("region.id");
    if let Ok(s) = std::fs::read_to_string(&file) {
        let s = s.trim();
        if SystemId::parse(s).is_some() {
            return s.to_string();
        }
    }
    let id = SystemId::new_random().as_str().to_string();
    if let Err(e) = std::fs::write(&file, &id) {
        tracing::warn!(error = %e, file = %file.display(), "cannot keep the region's system id");
    }
    id
}

/// Record this region in `regions` (insert or refresh); its system id.
pub async fn register(db: &Pool, data_dir: &Path) -> Result<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "region".into());
    let sid = system_id(data_dir);
    db::upsert(db, &sid, &host, VERSION).await?;
    Ok(sid)
}

/// Keep this region's `last_seen` current (every minute) while it runs.
pub async fn heartbeat(db: Pool, system_id: String) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = db::seen(&db, &system_id).await {
            tracing::debug!(error = %e, "region heartbeat failed");
        }
    }
}

pub async fn list(db: &Pool, system_id: Option<&str>) -> Result<Vec<RegionRow>> {
    db::list(db, system_id).await
}
