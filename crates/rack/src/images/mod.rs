//! Image sync: the rack holds every image file its snapshot names, under
//! `<image-dir>/by-sha256/<sha256>`, downloaded from the region (two at a
//! time, resumed and retried), deletes the ones no longer named, links the
//! ephemeral environment into `ephemeral/<arch>/`, and reports its progress
//! as `images` health events (`info` is JSON: state, images, done, bytes,
//! total, error) the region shows per rack.

pub mod fetch;
pub mod link;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use maas_model::desired::{Image, Snapshot};
use maas_model::rack::{EventKind, ServiceHealth};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::session::Shared;
use crate::state::StateStore;

/// Downloads at once.
pub const CONCURRENT: usize = 2;
/// Progress reports while downloading, at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Where images come from: the region's HTTP URL (the snapshot's
/// `maas_url`), then the same port on the host the rack enrolled with (a
/// rack may reach the region only that way).
pub fn sources(maas_url: &str, enrolled: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let u = maas_url.trim().trim_end_matches('/');
    let base = u.strip_suffix("/MAAS").unwrap_or(u).to_string();
    let (mut scheme, mut port) = ("http", None);
    if let Some((sch, rest)) = base.split_once("://")
        && (sch == "http" || sch == "https")
    {
        out.push(base.clone());
        scheme = sch;
        port = rest
            .rsplit_once(':')
            .map(|x| x.1)
            .filter(|p| p.parse::<u16>().is_ok());
    }
    for r in enrolled {
        if let Ok((host, _)) = crate::parse_region(r) {
            let alt = format!("{scheme}://{host}:{}", port.unwrap_or("5240"));
            if !out.contains(&alt) {
                out.push(alt);
            }
        }
    }
    out
}

/// Follow the applied snapshots until the process ends.
pub async fn run(dir: PathBuf, state: StateStore, shared: Arc<Shared>, enrolled: Vec<String>) {
    for d in ["by-sha256", ".partial", "ephemeral"] {
        if let Err(e) = std::fs::create_dir_all(dir.join(d)) {
            tracing::error!(dir = %dir.display(), error = %e, "cannot create the image dir");
        }
    }
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for image sync");
            return;
        }
    };
    let mut rx = state.subscribe();
    let mut retry = Duration::from_secs(2);
    let mut last_report = String::new();
    loop {
        let snap: Arc<Snapshot> = rx.borrow_and_update().clone().unwrap_or_default();
        let ok = sync_once(&client, &dir, &snap, &shared, &enrolled, &mut last_report).await;
        let wait = if ok {
            retry = Duration::from_secs(2);
            None
        } else {
            let w = retry;
            retry = (retry * 2).min(Duration::from_secs(60));
            Some(w)
        };
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            _ = sleep_opt(wait) => {}
        }
    }
}

async fn sleep_opt(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

fn report(shared: &Shared, last: &mut String, status: &str, info: serde_json::Value) {
    let info = info.to_string();
    let key = format!("{status} {info}");
    if *last == key {
        return;
    }
    *last = key;
    tracing::info!(status, info = %info, "image sync");
    crate::services::report(
        shared,
        vec![EventKind::Health(ServiceHealth {
            service: "images".into(),
            status: status.into(),
            info,
        })],
    );
}

/// One pass; whether everything is in place.
async fn sync_once(
    client: &reqwest::Client,
    dir: &std::path::Path,
    snap: &Snapshot,
    shared: &Arc<Shared>,
    enrolled: &[String],
    last: &mut String,
) -> bool {
    let mut seen = HashSet::new();
    let wanted: Vec<&Image> = snap
        .images
        .iter()
        .filter(|i| seen.insert(i.sha256.as_str()))
        .collect();
    let names: HashSet<&str> = wanted.iter().map(|i| i.sha256.as_str()).collect();
    for gone in link::prune(dir, &names) {
        tracing::info!(sha256 = %gone, "image file no longer wanted; deleted");
    }
    let present = |i: &Image| {
        std::fs::metadata(dir.join("by-sha256").join(&i.sha256))
            .is_ok_and(|m| m.is_file() && m.len() == i.size)
    };
    let missing: Vec<Image> = wanted
        .iter()
        .filter(|i| !present(i))
        .map(|i| (*i).clone())
        .collect();
    let total: u64 = wanted.iter().map(|i| i.size).sum();
    let have: u64 = wanted.iter().filter(|i| present(i)).map(|i| i.size).sum();
    let mut error = None;
    if !missing.is_empty() {
        let bases = sources(&snap.boot.maas_url, enrolled);
        report(
            shared,
            last,
            "degraded",
            json!({"state": "syncing", "images": wanted.len(),
            "done": wanted.len() - missing.len(), "bytes": have, "total": total}),
        );
        let got = Arc::new(AtomicU64::new(0));
        let sem = Arc::new(Semaphore::new(CONCURRENT));
        let mut tasks = tokio::task::JoinSet::new();
        for img in missing.clone() {
            let (client, bases, dir, got, sem) = (
                client.clone(),
                bases.clone(),
                dir.to_path_buf(),
                got.clone(),
                sem.clone(),
            );
            tasks.spawn(async move {
                let _permit = sem.acquire_owned().await;
                fetch::fetch(&client, &bases, &dir, &img, got).await
            });
        }
        let mut done = wanted.len() - missing.len();
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                r = tasks.join_next() => match r {
                    None => break,
                    Some(Ok(Ok(()))) => done += 1,
                    Some(Ok(Err(e))) => error = Some(format!("{e:#}")),
                    Some(Err(e)) => error = Some(e.to_string()),
                },
                _ = tick.tick() => {}
            }
            let bytes = (have + got.load(Ordering::Relaxed)).min(total);
            report(
                shared,
                last,
                "degraded",
                json!({"state": "syncing", "images": wanted.len(),
                "done": done, "bytes": bytes, "total": total}),
            );
        }
    }
    if let Err(e) = link::link_ephemeral(dir, &snap.images) {
        error.get_or_insert(format!("linking the ephemeral environment: {e}"));
    }
    match error {
        Some(e) => {
            report(
                shared,
                last,
                "degraded",
                json!({"state": "failed", "images": wanted.len(),
                "error": e, "total": total}),
            );
            false
        }
        // A rack that never had images says nothing about them.
        None if wanted.is_empty() && last.is_empty() => true,
        None => {
            report(
                shared,
                last,
                "running",
                json!({"state": "synced", "images": wanted.len(),
                "done": wanted.len(), "bytes": total, "total": total}),
            );
            true
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sources_add_the_enrolled_host() {
        let enrolled = vec!["https://10.0.0.9:5250".to_string()];
        assert_eq!(
            super::sources("http://region.example:5240/MAAS/", &enrolled),
            vec!["http://region.example:5240", "http://10.0.0.9:5240"]
        );
        assert_eq!(
            super::sources("http://10.0.0.9:5240/MAAS", &enrolled),
            vec!["http://10.0.0.9:5240"]
        );
        assert_eq!(super::sources("", &enrolled), vec!["http://10.0.0.9:5240"]);
    }
}
