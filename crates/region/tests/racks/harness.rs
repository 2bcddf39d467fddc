//! A rack process against an in-process region over the real gRPC path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use maas_testkit::TestRegion;
use maas_testkit::proc::{Proc, sibling_bin};
pub use maas_testkit::wait_for;
use serde_json::{Value, json};

pub const IP_JSON: &str = r#"[
  {"ifname":"br0","link_type":"ether","address":"52:54:00:0a:00:01","linkinfo":{"info_kind":"bridge"},
   "addr_info":[{"family":"inet","local":"10.201.1.1","prefixlen":24,"scope":"global"}]},
  {"ifname":"br0.100","link":"br0","link_type":"ether","address":"52:54:00:0a:00:01","linkinfo":{"info_kind":"vlan","info_data":{"id":100}},
   "addr_info":[{"family":"inet6","local":"fd00:100::1","prefixlen":64,"scope":"global"}]}
]"#;

pub struct Rack {
    pub proc: Proc,
    pub dir: PathBuf,
    pub http: reqwest::Client,
}

pub fn rack_cmd(regions: &[String], secret: &str, dir: &Path, hostname: &str) -> Command {
    maas_testkit::install_crypto();
    let ip_json = dir.join("ip.json");
    if !ip_json.exists() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&ip_json, IP_JSON).unwrap();
    }
    let mut c = Command::new(sibling_bin("maas-rack"));
    c.args([
        "serve",
        "--region",
        &regions.join(","),
        "--secret",
        secret,
        "--hostname",
        hostname,
    ])
    .arg("--data-dir")
    .arg(dir)
    .args(["--http-listen", "127.0.0.1:0"])
    // The network services run in the namespace tests (crates/rack/tests).
    .args(["--services", "none"])
    .env("MAAS_RACK_IP_JSON", &ip_json);
    c
}

impl Rack {
    pub fn start(regions: &[String], secret: &str, dir: &Path, hostname: &str) -> Rack {
        let proc = Proc::spawn(
            rack_cmd(regions, secret, dir, hostname),
            "rack local endpoint listening",
        );
        assert!(
            !proc.addr.is_empty(),
            "rack did not start: {}",
            proc.log_text()
        );
        Rack {
            proc,
            dir: dir.to_path_buf(),
            http: maas_testkit::http_client(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = match self
            .http
            .get(format!("http://{}{path}", self.proc.addr))
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => panic!(
                "rack endpoint failed: {e}\nrack log:\n{}",
                self.proc.log_text()
            ),
        };
        let st = r.status().as_u16();
        (st, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn status(&self) -> Value {
        self.get("/status").await.1
    }

    pub async fn inject(&self, n: usize, tag: &str) {
        let mut left = n;
        let mut i = 0;
        while left > 0 {
            let k = left.min(5000);
            let batch: Vec<Value> = (0..k)
                .map(|j| json!({"kind": "lease", "action": "commit", "mac": "52:54:00:00:00:01", "ip": format!("10.201.1.{}", (i + j) % 250 + 2), "hostname": format!("{tag}-{}", i + j)}))
                .collect();
            let r = self
                .http
                .post(format!("http://{}/events", self.proc.addr))
                .json(&batch)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            left -= k;
            i += k;
        }
    }
}

pub async fn rpc_region() -> (TestRegion, String, String) {
    rpc_region_with_window(Duration::from_secs(3)).await
}

/// A region serving racks whose enrollment failure window is `window`.
pub async fn rpc_region_with_window(window: Duration) -> (TestRegion, String, String) {
    TestRegion::with_racks(|o| o.enroll_fail_window = window).await
}

pub async fn scalar(db: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}
