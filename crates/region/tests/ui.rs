//! The web UI in a real browser: Debian's Chromium driven by Playwright
//! (`tests/ui/run.mjs`) against a region started here. The runner asks for
//! what only a machine can do (`NEED ready <sid>`: commissioning signals
//! through the metadata API; `NEED userdata <sid>`: the deployed OS fetching
//! its user data) or the API (`NEED subnet <cidr>`: a subnet to edit;
//! `NEED editable <cidr>`: a Ready machine with a disk on such a subnet) and
//! this side answers. Skipped only when node, Chromium or
//! tests/ui/node_modules are missing and `CI` is unset.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use maas_testkit as common;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use common::{TestRegion, node_api, signal};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What is missing to run the browser tests, if anything.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} (apt-get install chromium)"));
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("node (apt-get install nodejs)".into());
    }
    if !repo()
        .join("tests/ui/node_modules/playwright-core")
        .exists()
    {
        return Some("tests/ui/node_modules (cd tests/ui && npm ci)".into());
    }
    None
}

async fn answer(r: &TestRegion, what: &str, sid: &str) -> String {
    match what {
        "ready" => {
            let node = node_api(r, sid).await;
            assert_eq!(signal(&node, &[("status", "WORKING")], None).await.0, 200);
            let inv = br#"{"cpu_count": 8, "memory": 16384, "disks": [{"name": "sda", "size": 256000000000}]}"#;
            let (st, b) = signal(
                &node,
                &[("status", "OK")],
                Some(("hardware.json", inv.to_vec())),
            )
            .await;
            assert_eq!(st, 200, "{b}");
            "done".into()
        }
        "userdata" => {
            let node = node_api(r, sid).await;
            let (st, body) = node.get("/MAAS/metadata/latest/user-data", &[]).await;
            assert_eq!(st, 200, "{body}");
            let text = body.as_str().unwrap_or_default().to_string();
            base64::engine::general_purpose::STANDARD.encode(text)
        }
        "subnet" => {
            // `sid` is a CIDR here: answer "<subnet id> <vlan id>".
            let (st, s) = r.admin.post("subnets/", &[("cidr", sid)]).await;
            assert_eq!(st, 200, "{s}");
            format!("{} {}", s["id"], s["vlan"]["id"])
        }
        "editable" => {
            // `sid` is a CIDR here: a Ready machine with a 50 GB disk and
            // its eth0 on that subnet's VLAN; "<system id> <subnet id> <disk id>".
            let (st, s) = r.admin.post("subnets/", &[("cidr", sid)]).await;
            assert_eq!(st, 200, "{s}");
            let m = r.ready_machine("uiedit", 2, 2048).await;
            let (st, d) = r
                .admin
                .post(
                    &format!("nodes/{m}/blockdevices/"),
                    &[("name", "sda"), ("size", "50000000000")],
                )
                .await;
            assert_eq!(st, 200, "{d}");
            let (_, l) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
            let eth0 = &l[0]["id"];
            let vlan = s["vlan"]["id"].to_string();
            let path = format!("nodes/{m}/interfaces/{eth0}/");
            let (st, i) = r
                .admin
                .put(&path, &[("name", "eth0"), ("vlan", &vlan)])
                .await;
            assert_eq!(st, 200, "{i}");
            format!("{m} {} {}", s["id"], d["id"])
        }
        other => panic!("the runner asked for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_flows() {
    if let Some(m) = missing() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser tests cannot run: missing {m}");
        }
        eprintln!("skipping the browser tests: missing {m}");
        return;
    }
    let r = TestRegion::start().await;
    // The admin's first sign-in would open the first-run page (ui_more_http tests it).
    let done = "INSERT INTO config (name, value) VALUES ('completed_intro', 'true')";
    sqlx::query(done).execute(r.db()).await.unwrap();
    let mut child = tokio::process::Command::new("node")
        .arg(repo().join("tests/ui/run.mjs"))
        .args([&r.url(), "admin", "pw", "alice", "pw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = String::new();
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            println!("{line}");
            log.push_str(&line);
            log.push('\n');
            if let Some(rest) = line.strip_prefix("NEED ") {
                let mut p = rest.split_whitespace();
                let (what, sid) = (p.next().unwrap_or(""), p.next().unwrap_or(""));
                let a = answer(&r, what, sid).await;
                stdin.write_all(format!("{a}\n").as_bytes()).await.unwrap();
                stdin.flush().await.unwrap();
            }
        }
        child.wait().await.unwrap()
    };
    let status = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser tests finish within 4 minutes");
    assert!(status.success(), "browser tests failed ({status}):\n{log}");
    assert!(log.contains("0 failed"), "{log}");
}
