//! python-libmaas 0.6.8 `boot_resources.create`: sha256 + size, then 1 MiB
//! PUT chunks with progress; the region ends with the file complete.

use std::path::{Path, PathBuf};
use std::time::Duration;

use maas_testkit::TestRegion;
use serde_json::Value;

use crate::stored;

fn python() -> PathBuf {
    let p = std::env::var_os("MAAS_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/maas-venv/bin/python"));
    assert!(
        p.exists(),
        "{} does not exist: run .ci/run (it makes the venv with python-libmaas)",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_uploads_in_chunks() {
    let py = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libmaas_images.py");
    let r = TestRegion::start().await;
    let key = r.admin.key.clone().unwrap();
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script)
        .arg(r.url())
        .arg(&key)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("libmaas_images.py finished in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "libmaas_images.py failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let res: Value = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("LIBMAAS_RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("no result line\n{stdout}"));
    assert_eq!(res["complete"], true, "{res}");
    let f = &res["files"]["root-dd"];
    assert_eq!(f["sha256"], res["sha256"], "{res}");
    assert_eq!(
        (f["size"].clone(), f["complete"].clone()),
        (res["size"].clone(), Value::Bool(true))
    );
    // Progress went up to 1.0 over the six chunks.
    let p: Vec<f64> = res["progress"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(p.len(), 6, "{res}");
    assert!((p[5] - 1.0).abs() < 1e-9, "{res}");
    assert_eq!(res["listed"], serde_json::json!(["custom/libmaas"]));
    assert_eq!(
        stored(&r, "by-sha256"),
        vec![res["sha256"].as_str().unwrap().to_string()]
    );
}
