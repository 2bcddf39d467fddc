//! python-libmaas 0.6.8 (`maas.client.viscera.block_devices`, `partitions`)
//! drives the storage endpoints through `libmaas_storage.py`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn python() -> PathBuf {
    let p = std::env::var("MAAS_TEST_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/var/tmp/maas-venv/bin/python".to_string());
    let p = PathBuf::from(p);
    assert!(
        p.exists(),
        "python-libmaas interpreter {} does not exist (see tests/libmaas.rs)",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_storage_flow() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("lmstore", 2, 2048).await;
    disk(&r, &sid, "sda", 100 * GB).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/storage/libmaas_storage.py");
    let key = r.admin.key.clone().expect("admin key");
    let mut cmd = tokio::process::Command::new(python());
    cmd.arg(&script)
        .arg(r.url())
        .arg(&key)
        .arg(&sid)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("libmaas_storage.py finished within 120 s")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("LIBMAAS_STORAGE_OK"),
        "libmaas_storage.py failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // What the flow left: the flat layout on sda (sdb deleted).
    assert_eq!(storage_rows(&r).await, (1, 1, 1));
}
