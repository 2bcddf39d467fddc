//! Interop: python-libmaas 0.6.8 (the client MAAS operators script with)
//! drives an in-process region through `tests/libmaas_flow.py`, then the
//! database state it should have left is checked from here.
//!
//! Needs a venv with python-libmaas: `.ci/run` makes it at
//! /var/tmp/maas-venv; `MAAS_TEST_PYTHON` points at another interpreter.

use maas_testkit as common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::TestRegion;
use serde_json::Value;

const DEFAULT_PYTHON: &str = "/var/tmp/maas-venv/bin/python";

fn python() -> PathBuf {
    let p = std::env::var("MAAS_TEST_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_PYTHON.to_string());
    let p = PathBuf::from(p);
    assert!(
        p.exists(),
        "python-libmaas interpreter {} does not exist. Run `.ci/run` (it installs the test \
         dependencies), or create the venv by hand:\n  python3 -m venv /var/tmp/maas-venv && \
         /var/tmp/maas-venv/bin/pip install python-libmaas==0.6.8\n(or set MAAS_TEST_PYTHON to \
         a python that has python-libmaas 0.6.8)",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_flow() {
    let py = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libmaas_flow.py");
    let r = TestRegion::start().await;
    let key = r.admin.key.clone().expect("admin has an API key");

    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script)
        .arg(r.url())
        .arg(&key)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("libmaas_flow.py finished within 180 s")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "libmaas_flow.py failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    println!("{stdout}");
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("LIBMAAS_RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("no LIBMAAS_RESULT line\n--- stdout\n{stdout}"));

    // What the script reported must be what the database holds.
    let tag = result["tag"].as_str().unwrap();
    let allocated = result["allocated"].as_str().unwrap();
    let ms = result["machines"].as_object().unwrap();
    assert_eq!(ms.len(), 3, "{result}");
    assert_eq!(r.count("SELECT count(*) FROM machines").await, 3);

    let (st, list) = r.admin.get("machines/", &[]).await;
    assert_eq!(st, 200, "{list}");
    let list = list.as_array().expect("machine list");
    assert_eq!(list.len(), 3);
    for (hostname, want) in ms {
        let sid = want["system_id"].as_str().unwrap();
        let m = list
            .iter()
            .find(|m| m["system_id"] == sid)
            .unwrap_or_else(|| panic!("{hostname} ({sid}) missing from {list:?}"));
        assert_eq!(m["hostname"], hostname.as_str());
        assert_eq!(m["status"], 4, "{hostname} Ready: {m}");
        assert_eq!(m["status_name"], "Ready");
        assert!(m["owner"].is_null(), "{hostname} released: {m}");
        assert_eq!(m["cpu_count"], want["cpu_count"], "{hostname}: {m}");
        assert_eq!(m["memory"], want["memory"], "{hostname}: {m}");
        let tags: Vec<&str> = m["tag_names"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            tags.contains(&tag),
            !hostname.starts_with("lm-small-"),
            "{hostname} tags {tags:?}"
        );
        // Commissioning ran through the metadata API with the machine's own token.
        let node_tokens: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tokens t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1",
        )
        .bind(sid)
        .fetch_one(r.db())
        .await
        .unwrap();
        assert_eq!(node_tokens, 1, "{hostname}: one node token");
        let results: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM script_results s JOIN machines m ON m.id = s.machine_id
              WHERE m.system_id = $1 AND s.name = 'hardware.json' AND s.status = 2",
        )
        .bind(sid)
        .fetch_one(r.db())
        .await
        .unwrap();
        assert_eq!(
            results, 1,
            "{hostname}: hardware.json stored as a passed result"
        );
    }
    assert!(
        ms.values().any(|m| m["system_id"] == allocated),
        "allocated {allocated} is one of ours"
    );

    // Exactly one allocation happened (the impossible one made none), by admin,
    // of the machine the script saw, and it was released.
    let allocs: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT system_id, username FROM events WHERE type = 'Allocated' ORDER BY id",
    )
    .fetch_all(r.db())
    .await
    .unwrap();
    assert_eq!(
        allocs,
        vec![(allocated.to_string(), Some("admin".to_string()))]
    );
    let (st, evs) = r
        .admin
        .get(
            "events/",
            &[("op", "query"), ("id", allocated), ("level", "DEBUG")],
        )
        .await;
    assert_eq!(st, 200, "{evs}");
    let types: Vec<String> = evs["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["type"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        types.iter().any(|t| t == "Allocated"),
        "events for {allocated}: {types:?}"
    );
    let (st, tagged) = r
        .admin
        .get_op(&format!("tags/{tag}/"), "machines", &[])
        .await;
    assert_eq!(st, 200, "{tagged}");
    assert_eq!(tagged.as_array().map(Vec::len), Some(2), "{tagged}");

    r.stop().await;
}
