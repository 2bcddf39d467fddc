//! Boot images: uploads stored by content on the region's disk
//! (`store::blobs`), the images racks cache (newest complete set of each
//! resource), the image a deployment uses, and the machine's boot task.
//! See docs/images.md.

pub mod netplan;
pub mod select;
pub mod task;
pub mod upload;

pub use upload::UploadLocks;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::services::Ctx;

/// Each rack's image sync state, by hostname: what its last `images`
/// health event said (`status`: running = in sync, degraded = syncing or
/// failing; `info`: the rack's JSON report, e.g. `{"state": "synced",
/// "images": 2, "done": 2, "bytes": …}`).
pub async fn rack_sync(ctx: &Ctx) -> Result<Map<String, Value>> {
    let mut c = ctx.db.acquire().await?;
    let racks = crate::store::racks::list(&mut c, None).await?;
    let mut out = Map::new();
    for r in racks {
        let h = r.services.get("images");
        let info = h
            .and_then(|h| h.get("info"))
            .and_then(Value::as_str)
            .map(|s| serde_json::from_str(s).unwrap_or_else(|_| json!(s)))
            .unwrap_or(Value::Null);
        let status = h
            .and_then(|h| h.get("status"))
            .cloned()
            .unwrap_or(json!("unknown"));
        out.insert(
            r.hostname,
            json!({"system_id": r.system_id, "status": status, "sync": info}),
        );
    }
    Ok(out)
}

/// Where the bytes of `sha256` are on this region's disk, if they are.
pub async fn stored_file(ctx: &Ctx, sha256: &str) -> Option<std::path::PathBuf> {
    if !maas_model::desired::Image::valid_sha256(sha256) {
        return None;
    }
    let p = ctx.blobs.path(sha256);
    tokio::fs::metadata(&p)
        .await
        .ok()
        .filter(|m| m.is_file())
        .map(|_| p)
}
