//! One image file from the region: `GET <region>/MAAS/images/<sha256>` into
//! `.partial/<sha256>` (resumed with a Range request when a previous try
//! left bytes), then checked — size and sha256 — and renamed into
//! `by-sha256/<sha256>`. A file that does not check is deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use maas_model::desired::Image;

/// Fetch `img` from the first of `bases` that serves it; `done` counts the
/// bytes received (for progress).
pub async fn fetch(
    client: &reqwest::Client,
    bases: &[String],
    dir: &Path,
    img: &Image,
    done: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let mut last = None;
    for base in bases {
        match fetch_from(client, base, dir, img, &done).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(sha256 = %img.sha256, region = %base, error = %format!("{e:#}"),
                    "image download failed");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no region URL to download images from")))
}

pub fn partial_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(".partial").join(sha256)
}

async fn fetch_from(
    client: &reqwest::Client,
    base: &str,
    dir: &Path,
    img: &Image,
    done: &AtomicU64,
) -> anyhow::Result<()> {
    let part = partial_path(dir, &img.sha256);
    let mut have = tokio::fs::metadata(&part)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if have > img.size {
        let _ = tokio::fs::remove_file(&part).await;
        have = 0;
    }
    if have < img.size {
        let url = format!("{}/MAAS/images/{}", base.trim_end_matches('/'), img.sha256);
        let mut rq = client.get(&url);
        if have > 0 {
            rq = rq.header("Range", format!("bytes={have}-"));
        }
        let mut resp = rq.send().await.with_context(|| format!("GET {url}"))?;
        let status = resp.status().as_u16();
        let mut out = tokio::fs::OpenOptions::new();
        match status {
            206 => {
                out.append(true);
            }
            200 => {
                // The whole file again (no Range support, or none asked).
                out.write(true).truncate(true);
                have = 0;
            }
            _ => bail!("GET {url}: HTTP {status}"),
        }
        let mut f = out
            .create(true)
            .open(&part)
            .await
            .with_context(|| format!("opening {}", part.display()))?;
        done.fetch_add(have, Ordering::Relaxed);
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("reading {url}"))?
        {
            have += chunk.len() as u64;
            if have > img.size {
                drop(f);
                let _ = tokio::fs::remove_file(&part).await;
                bail!("{url} sent more than the {} bytes expected", img.size);
            }
            f.write_all(&chunk).await?;
            done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        f.flush().await?;
        if have < img.size {
            bail!("{url} ended after {have} of {} bytes", img.size);
        }
    }
    verify_and_install(dir, &part, img).await
}

/// Hash the whole partial file; install it when it is `img`, else delete it.
async fn verify_and_install(dir: &Path, part: &Path, img: &Image) -> anyhow::Result<()> {
    let p = part.to_path_buf();
    let (sha, len) = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let mut f = std::fs::File::open(&p)?;
        let mut h = Sha256::new();
        let n = std::io::copy(&mut f, &mut h)?;
        f.sync_all()?;
        Ok((hex::encode(h.finalize()), n))
    })
    .await??;
    if sha != img.sha256 || len != img.size {
        let _ = tokio::fs::remove_file(part).await;
        bail!(
            "downloaded {} is {len} bytes with sha256 {sha}, expected {} bytes {}; discarded",
            img.name,
            img.size,
            img.sha256
        );
    }
    let to = dir.join("by-sha256").join(&img.sha256);
    tokio::fs::rename(part, &to).await?;
    let d = dir.join("by-sha256");
    let _ = tokio::task::spawn_blocking(move || std::fs::File::open(d)?.sync_all()).await;
    tracing::info!(sha256 = %img.sha256, name = %img.name, size = img.size, "image file synced");
    Ok(())
}
