//! python-libmaas builds a bond, a VLAN and links.

use super::*;

/// python-libmaas 0.6.8 (`tests/libmaas_interfaces.py`): bond of two
/// physical NICs, a VLAN on it, STATIC links with and without an address,
/// unlink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_builds_a_bond() {
    let py = std::env::var("MAAS_TEST_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/var/tmp/maas-venv/bin/python".to_string());
    assert!(
        std::path::Path::new(&py).exists(),
        "python-libmaas interpreter {py} missing (see tests/libmaas.rs)"
    );
    let r = TestRegion::start().await;
    let (sid, vlan, tagged) = network(&r).await;
    let m = r.ready_machine("py-net", 2, 2048).await;
    let (st, list) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    assert_eq!(st, 200);
    let eth0 = list[0]["id"].as_i64().unwrap();
    let (st, e) = r
        .admin
        .put(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            &[("vlan", &vlan.to_string())],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libmaas_interfaces.py");
    let key = r.admin.key.clone().expect("admin key");
    let out = tokio::process::Command::new(&py)
        .arg(&script)
        .arg(r.url())
        .arg(&key)
        .arg(&m)
        .arg(sid.to_string())
        .arg(vlan.to_string())
        .arg(tagged.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "libmaas_interfaces.py failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let last = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("LIBMAAS_RESULT "))
        .expect("result line");
    let res: Value = serde_json::from_str(last).unwrap();
    assert_eq!(res["ips"], serde_json::json!(["10.30.0.10"]));
    assert_eq!(
        r.count("SELECT count(*) FROM interface_parents").await,
        3,
        "bond0 ← eth0, eth1; bond0.20 ← bond0"
    );
    r.stop().await;
}
