//! `maas-rack simulate`: many racks in one process, for benchmarks. Each
//! simulated rack enrolls, keeps its own session, state and event queue —
//! the same code paths as a real rack.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use maas_model::rack::{EventKind, Lease};
use serde_json::Value;

use crate::session::{self, Shared};
use crate::{Config, identity, queue, state};

pub struct SimRack {
    pub state: state::StateStore,
    pub shared: Arc<Shared>,
}

pub async fn start(
    regions: Vec<String>,
    secret: String,
    dir: PathBuf,
    count: usize,
) -> anyhow::Result<Vec<SimRack>> {
    let mut racks = Vec::with_capacity(count);
    for i in 0..count {
        let d = dir.join(format!("rack{i:04}"));
        std::fs::create_dir_all(&d)?;
        let cfg = Arc::new(Config {
            regions: regions.clone(),
            secret: secret.clone(),
            data_dir: d.clone(),
            hostname: format!("sim-rack-{i:04}"),
            http_listen: None,
        });
        let id = identity::load_or_enroll(&cfg)
            .await
            .context("enrolling a simulated rack")?;
        let st = state::StateStore::open(&d)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue::Queue::open(d.clone())?),
            events_ready: tokio::sync::Notify::new(),
            status: Mutex::new(Default::default()),
        });
        tokio::spawn(session::run(cfg, id, st.clone(), shared.clone()));
        racks.push(SimRack { state: st, shared });
    }
    Ok(racks)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn oauth(key: &str) -> String {
    let p: Vec<&str> = key.split(':').collect();
    format!(
        "OAuth oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature=\"&{}\", oauth_signature_method=\"PLAINTEXT\", oauth_timestamp=\"{}\", oauth_nonce=\"{}\", oauth_version=\"1.0\"",
        p.first().unwrap_or(&""),
        p.get(1).unwrap_or(&""),
        p.get(2).unwrap_or(&""),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        rand::random::<u64>()
    )
}

async fn wait_all<F: Fn(&SimRack) -> bool>(
    racks: &[SimRack],
    timeout: Duration,
    f: F,
) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    loop {
        if racks.iter().all(&f) {
            return Ok(t0.elapsed());
        }
        if t0.elapsed() > timeout {
            anyhow::bail!("timed out after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The benchmark: API change → every rack applied and acked; event ingestion.
pub async fn bench(
    racks: &[SimRack],
    api: &str,
    api_key: &str,
    changes: usize,
    events_per_rack: usize,
) -> anyhow::Result<Value> {
    wait_all(racks, Duration::from_secs(120), |r| {
        r.state.current().is_some()
    })
    .await?;
    let http = reqwest::Client::new();
    let mut times = Vec::new();
    for i in 0..changes {
        let value = format!("bench-{}-{i}", rand::random::<u32>());
        let t0 = Instant::now();
        let resp = http
            .post(format!(
                "{}/api/2.0/maas/?op=set_config",
                api.trim_end_matches('/')
            ))
            .header("Authorization", oauth(api_key))
            .form(&[("name", "kernel_opts"), ("value", value.as_str())])
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "set_config failed: {}",
            resp.status()
        );
        // A rack acks right after it has applied and stored the snapshot.
        wait_all(racks, Duration::from_secs(30), |r| {
            r.state
                .current()
                .is_some_and(|s| s.boot.kernel_opts == value)
        })
        .await?;
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    // Events: a burst of N per rack, timed until every rack has its acks.
    let t0 = Instant::now();
    for r in racks {
        let items = (0..events_per_rack)
            .map(|i| {
                EventKind::Lease(Lease {
                    action: "commit".into(),
                    mac: "52:54:00:00:00:01".into(),
                    ip: format!("10.0.{}.{}", i / 250 % 250, i % 250 + 1),
                    ..Default::default()
                })
            })
            .collect();
        r.shared
            .queue
            .lock()
            .expect("queue lock")
            .push_many(items)?;
        r.shared.events_ready.notify_one();
    }
    let enqueue = t0.elapsed();
    wait_all(racks, Duration::from_secs(600), |r| {
        r.shared.queue.lock().expect("queue lock").is_empty()
    })
    .await?;
    let total = t0.elapsed();
    let n = (racks.len() * events_per_rack) as f64;
    Ok(serde_json::json!({
        "racks": racks.len(),
        "changes": changes,
        "sync_p50_ms": percentile(&times, 0.5),
        "sync_p99_ms": percentile(&times, 0.99),
        "sync_max_ms": times.last().copied().unwrap_or(f64::NAN),
        "events": n,
        "events_enqueue_s": enqueue.as_secs_f64(),
        "events_total_s": total.as_secs_f64(),
        "events_per_s": n / total.as_secs_f64(),
    }))
}
