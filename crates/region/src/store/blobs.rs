//! Boot image bytes on the region's disk, by content: `<image_dir>/by-sha256/<sha256>`.
//! A file arrives under `tmp/` (written, hashed, fsync'ed), and is renamed
//! into place only once its sha256 and size are the expected ones, so a
//! file under `by-sha256/` is always whole and right. Chunked uploads grow
//! `uploads/<file id>.part` until complete.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// The region's image directory.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::Internal(anyhow::anyhow!("{what} {}: {e}", p.display()))
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Blobs {
        Blobs { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Create the directories (at start: a region that cannot write there
    /// does not start).
    pub fn prepare(&self) -> std::io::Result<()> {
        for d in ["by-sha256", "tmp", "uploads"] {
            std::fs::create_dir_all(self.dir.join(d))?;
        }
        // Temp files a killed region left behind.
        if let Ok(rd) = std::fs::read_dir(self.dir.join("tmp")) {
            for e in rd.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    /// Where a file with this digest lives (`sha256` must be 64 hex digits).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join("by-sha256").join(sha256)
    }

    /// Whether a whole file with this digest is stored.
    pub async fn has(&self, sha256: &str, size: i64) -> bool {
        match tokio::fs::metadata(self.path(sha256)).await {
            Ok(m) => m.is_file() && m.len() as i64 == size,
            Err(_) => false,
        }
    }

    /// The partial file of a chunked upload.
    pub fn part_path(&self, file_id: i64) -> PathBuf {
        self.dir.join("uploads").join(format!("{file_id}.part"))
    }

    /// Bytes received so far for a chunked upload.
    pub async fn part_len(&self, file_id: i64) -> u64 {
        tokio::fs::metadata(self.part_path(file_id))
            .await
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// A new temp file to stream into.
    pub async fn writer(&self) -> Result<BlobWriter> {
        let name = format!("{:016x}", rand::random::<u64>());
        let path = self.dir.join("tmp").join(name);
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| io("creating", &path, e))?;
        Ok(BlobWriter {
            file: Some(file),
            path,
            hasher: Sha256::new(),
            len: 0,
        })
    }

    /// A finished chunked upload: hash it, fsync it, and move it into place
    /// when it is `sha256`; otherwise it is deleted and the digest found is
    /// the error.
    pub async fn commit_part(&self, file_id: i64, sha256: &str) -> Result<()> {
        let part = self.part_path(file_id);
        let p = part.clone();
        let found = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut f = std::fs::File::open(&p)?;
            let mut h = Sha256::new();
            std::io::copy(&mut f, &mut h)?;
            f.sync_all()?;
            Ok(hex::encode(h.finalize()))
        })
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| io("hashing", &part, e))?;
        if found != sha256 {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(Error::BadRequest(format!(
                "Saved content does not match given SHA256 value: expected {sha256}, got {found}. The upload was discarded."
            )));
        }
        self.install(&part, sha256).await
    }

    /// Rename a verified file into `by-sha256/` and fsync the directory.
    async fn install(&self, from: &Path, sha256: &str) -> Result<()> {
        let to = self.path(sha256);
        tokio::fs::rename(from, &to)
            .await
            .map_err(|e| io("renaming into", &to, e))?;
        let dir = self.dir.join("by-sha256");
        let _ = tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all()).await;
        Ok(())
    }

    /// Delete a stored file and any partial upload of it.
    pub async fn remove(&self, sha256: &str) {
        match tokio::fs::remove_file(self.path(sha256)).await {
            Ok(()) => tracing::info!(sha256, "image file deleted"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(sha256, error = %e, "cannot delete image file"),
        }
    }

    pub async fn remove_part(&self, file_id: i64) {
        let _ = tokio::fs::remove_file(self.part_path(file_id)).await;
    }
}

/// A file being streamed in: hashed as it is written.
pub struct BlobWriter {
    file: Option<tokio::fs::File>,
    path: PathBuf,
    hasher: Sha256,
    len: u64,
}

impl BlobWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        f.write_all(chunk)
            .await
            .map_err(|e| io("writing", &self.path, e))?;
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Finish writing: fsync, and the (sha256, size) written. The file stays
    /// in `tmp/` until [`BlobWriter::install`] (dropping the writer deletes it).
    pub async fn finish(&mut self) -> Result<(String, u64)> {
        if let Some(mut f) = self.file.take() {
            f.flush().await.map_err(|e| io("writing", &self.path, e))?;
            f.sync_all()
                .await
                .map_err(|e| io("syncing", &self.path, e))?;
        }
        let h = std::mem::take(&mut self.hasher);
        Ok((hex::encode(h.finalize()), self.len))
    }

    /// Move the finished file into place as `sha256`.
    pub async fn install(mut self, blobs: &Blobs, sha256: &str) -> Result<()> {
        let path = std::mem::take(&mut self.path);
        blobs.install(&path, sha256).await
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
