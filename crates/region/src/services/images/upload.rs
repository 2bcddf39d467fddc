//! Uploads: a resource registered with its bytes (`content`, streamed to a
//! temp file and checked), or with `sha256` + `size` and the bytes sent
//! afterwards in chunks (`PUT …/upload/{file_id}/`). Files are stored once
//! per content; a file whose content is already stored is complete at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;

use super::select::{self, EPHEMERAL, INITRD, KERNEL};
use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::misc::bootres::{UPLOADED, next_version, upload_filetype};
use crate::services::misc::{not_found, parse_id};
use crate::store::blobs::BlobWriter;
use crate::store::misc::bootres::{self as db, File};

/// An upload's metadata, checked by the edge.
pub struct NewResource {
    pub name: String,
    pub title: Option<String>,
    pub architecture: String,
    /// The upload type as the API takes it (`ddraw`, `tgz`, …, or our
    /// `boot-kernel` / `boot-initrd` for the ephemeral environment).
    pub filetype: String,
    pub sha256: String,
    pub size: i64,
    pub base_image: String,
}

/// (filetype as stored, file name) of an upload type, for a resource name.
pub fn filetype_for(name: &str, t: &str) -> Option<(&'static str, &'static str)> {
    if name == EPHEMERAL {
        return match t {
            KERNEL => Some((KERNEL, KERNEL)),
            INITRD => Some((INITRD, INITRD)),
            _ => None,
        };
    }
    upload_filetype(t)
}

/// A temp file to stream `content` into.
pub async fn content_writer(ctx: &Ctx) -> Result<BlobWriter> {
    ctx.blobs.writer().await
}

/// Register a resource (or a new set of an existing one); its id. With
/// `content` (finished, already checked against `r.sha256`/`r.size`), the
/// bytes are stored first and the file is complete.
pub async fn create(ctx: &Ctx, r: &NewResource, content: Option<BlobWriter>) -> Result<i64> {
    let (filetype, filename) = filetype_for(&r.name, &r.filetype).ok_or_else(|| {
        Error::field(
            "filetype",
            format!(
                "Select a valid choice. {} is not one of the available choices.",
                r.filetype
            ),
        )
    })?;
    let stored_before = ctx.blobs.has(&r.sha256, r.size).await;
    if let Some(w) = content
        && !stored_before
    {
        w.install(&ctx.blobs, &r.sha256).await?;
    }
    let stored = stored_before || ctx.blobs.has(&r.sha256, r.size).await;
    let res = insert(ctx, r, filetype, filename, stored).await;
    if res.is_err() && !stored_before && stored {
        gc(ctx, std::slice::from_ref(&r.sha256)).await;
    }
    let id = res?;
    tracing::info!(resource = id, name = %r.name, architecture = %r.architecture,
        sha256 = %r.sha256, size = r.size, complete = stored, "boot resource uploaded");
    Ok(id)
}

async fn insert(
    ctx: &Ctx,
    r: &NewResource,
    filetype: &str,
    filename: &str,
    stored: bool,
) -> Result<i64> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let subarch = r.architecture.split_once('/').map(|x| x.1).unwrap_or("");
    let mut extra = serde_json::json!({ "subarches": subarch });
    if let Some(t) = &r.title {
        extra["title"] = serde_json::Value::String(t.clone());
    }
    let id = match db::by_name(&mut tx, &r.name, &r.architecture).await? {
        Some(existing) => {
            let base = if existing.base_image.is_empty() {
                r.base_image.as_str()
            } else {
                existing.base_image.as_str()
            };
            db::update_extra(&mut tx, existing.id, &extra, base).await?;
            existing.id
        }
        None => {
            db::insert(
                &mut tx,
                UPLOADED,
                &r.name,
                &r.architecture,
                &extra,
                &r.base_image,
            )
            .await?
        }
    };
    // The ephemeral environment's kernel and initrd share a set: a file goes
    // into the newest set while that set lacks its type and is not complete.
    let mut set_id = None;
    if r.name == EPHEMERAL {
        let sets = db::sets(&mut *tx, id).await?;
        if let Some(newest) = sets.first()
            && !select::set_complete(&r.name, &newest.files)
            && !newest.files.iter().any(|f| f.filetype == filetype)
        {
            set_id = Some(newest.id);
        }
    }
    let set_id = match set_id {
        Some(s) => s,
        None => {
            let used = db::set_versions(&mut tx, id).await?;
            let version = next_version(&chrono::Utc::now().format("%Y%m%d").to_string(), &used);
            db::insert_set(&mut tx, id, &version, "uploaded").await?
        }
    };
    let file = File {
        id: 0,
        filename: filename.into(),
        filetype: filetype.into(),
        sha256: r.sha256.clone(),
        size: r.size,
        complete: stored,
    };
    db::insert_file(&mut tx, set_id, &file).await?;
    tx.commit().await?;
    Ok(id)
}

/// Delete a resource, then the stored files no set references any more.
pub async fn delete(ctx: &Ctx, id: &str) -> Result<()> {
    let id = parse_id(id, "BootResource")?;
    let files = db::digests_of(&ctx.db, id).await?;
    if !db::delete(&ctx.db, id).await? {
        return Err(not_found("BootResource"));
    }
    for (fid, _) in &files {
        ctx.blobs.remove_part(*fid).await;
    }
    let shas: Vec<String> = files.into_iter().map(|(_, s)| s).collect();
    gc(ctx, &shas).await;
    Ok(())
}

/// Remove the stored files among `shas` that no file row references.
async fn gc(ctx: &Ctx, shas: &[String]) {
    for sha in shas {
        match db::referenced(&ctx.db, sha).await {
            Ok(false) => ctx.blobs.remove(sha).await,
            Ok(true) => {}
            Err(e) => tracing::warn!(sha256 = %sha, error = %e, "cannot check image references"),
        }
    }
}

/// Chunked uploads running on this region: one writer per file at a time.
#[derive(Default, Clone)]
pub struct UploadLocks(Arc<Mutex<HashSet<i64>>>);

/// Held while a chunk is written.
pub struct UploadGuard {
    locks: UploadLocks,
    file_id: i64,
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if let Ok(mut s) = self.locks.0.lock() {
            s.remove(&self.file_id);
        }
    }
}

impl UploadLocks {
    fn take(&self, file_id: i64) -> Option<UploadGuard> {
        let mut s = self.0.lock().ok()?;
        s.insert(file_id).then(|| UploadGuard {
            locks: self.clone(),
            file_id,
        })
    }
}

/// One chunk being appended to a file's partial upload.
pub struct Chunk {
    file: File,
    out: tokio::fs::File,
    len: u64,
    _guard: UploadGuard,
}

/// Start receiving a chunk for `file_id` of resource `resource_id`.
pub async fn begin_chunk(ctx: &Ctx, resource_id: &str, file_id: &str) -> Result<Chunk> {
    let rid = parse_id(resource_id, "BootResource")?;
    let fid = parse_id(file_id, "BootResourceFile")?;
    let mut c = ctx.db.acquire().await?;
    let file = db::file_of(&mut c, rid, fid)
        .await?
        .ok_or_else(|| not_found("BootResourceFile"))?;
    drop(c);
    if file.complete {
        return Err(Error::BadRequest(
            "Cannot upload to a complete file.".into(),
        ));
    }
    let guard = ctx
        .uploads
        .take(fid)
        .ok_or_else(|| Error::Conflict("Another chunk of this file is being uploaded.".into()))?;
    let p = ctx.blobs.part_path(fid);
    let out = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("opening {}: {e}", p.display())))?;
    let len = out.metadata().await.map(|m| m.len()).unwrap_or(0);
    Ok(Chunk {
        file,
        out,
        len,
        _guard: guard,
    })
}

impl Chunk {
    /// Append bytes; more than the file's size discards the partial upload.
    pub async fn write(&mut self, ctx: &Ctx, bytes: &[u8]) -> Result<()> {
        if self.len + bytes.len() as u64 > self.file.size.max(0) as u64 {
            ctx.blobs.remove_part(self.file.id).await;
            return Err(Error::BadRequest(format!(
                "Too much content: the file's size is {} bytes. The upload was discarded.",
                self.file.size
            )));
        }
        self.out
            .write_all(bytes)
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing upload: {e}")))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The chunk is in: when the file is whole, check its sha256 and store it.
    pub async fn finish(mut self, ctx: &Ctx) -> Result<()> {
        self.out
            .flush()
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing upload: {e}")))?;
        if self.len < self.file.size.max(0) as u64 {
            return Ok(());
        }
        ctx.blobs
            .commit_part(self.file.id, &self.file.sha256)
            .await?;
        db::mark_complete(&ctx.db, &self.file.sha256).await?;
        tracing::info!(file = self.file.id, sha256 = %self.file.sha256, size = self.file.size,
            "boot resource file complete");
        Ok(())
    }
}
