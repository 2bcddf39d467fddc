//! A boot service on loopback, random ports, with a scratch root.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use maas_boot::{BootConfig, BootFiles, BootService, ConfigHandle, Loaders, Metrics, TftpSettings};
use maas_model::rack::BootRequest;

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub svc: BootService,
    pub config: ConfigHandle,
    pub metrics: Arc<Metrics>,
    pub dir: PathBuf,
    pub events: tokio::sync::mpsc::Receiver<BootRequest>,
}

static N: AtomicU64 = AtomicU64::new(0);

pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "maas-boot-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl Env {
    pub fn start(tag: &str, config: BootConfig) -> Env {
        let dir = scratch(tag);
        for d in ["tftp", "img/ephemeral/amd64", "outside"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let loaders = Loaders::discover(&[PathBuf::from("/usr/lib/ipxe")])
            .expect("iPXE loaders (Debian package ipxe) must be installed for these tests");
        let config = ConfigHandle::new(config);
        let metrics = Arc::new(Metrics::default());
        let (tx, events) = tokio::sync::mpsc::channel(10_000);
        let files = Arc::new(BootFiles::new(
            loaders,
            Some(dir.join("tftp")),
            Some(dir.join("img")),
            config.clone(),
            metrics.clone(),
            Some(tx),
        ));
        let lo: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let svc = rt
            .block_on(BootService::start(
                files,
                &[lo],
                Some(lo),
                TftpSettings::default(),
            ))
            .expect("start boot services");
        Env {
            rt,
            svc,
            config,
            metrics,
            dir,
            events,
        }
    }

    pub fn tftp(&self) -> SocketAddr {
        self.svc.tftp_addrs[0]
    }

    pub fn http(&self) -> String {
        format!("http://{}", self.svc.http_addr.expect("http"))
    }

    pub fn put(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, data).expect("write");
        p
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.join("out").join(name)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Run a command, failing the test with its output when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn same_file(a: &Path, b: &Path) {
    let x = std::fs::read(a).unwrap_or_else(|e| panic!("read {}: {e}", a.display()));
    let y = std::fs::read(b).unwrap_or_else(|e| panic!("read {}: {e}", b.display()));
    assert!(
        x == y,
        "{} ({} bytes) differs from {} ({} bytes)",
        a.display(),
        x.len(),
        b.display(),
        y.len()
    );
}
