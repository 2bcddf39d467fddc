//! The `maas` CLI against a real region and PostgreSQL, in MAAS CLI's shape.

use maas_testkit as common;

use std::process::{Command, Output};

use common::TestRegion;
use serde_json::Value;

struct Cli {
    config: std::path::PathBuf,
}

impl Cli {
    async fn run(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let cfg = self.config.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_maas"))
                .args(&args)
                .env("MAAS_CLI_CONFIG", cfg)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    async fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maas_cli_scripts_work_against_the_region() {
    let r = TestRegion::start().await;
    let dir = common::tempdir::Dir::new();
    let cli = Cli {
        config: dir.0.join("profiles.json"),
    };
    let url = r.url();
    let key = r.admin.key.clone().unwrap();
    let out = cli.run(&["login", "lab", &url, &key]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mac = common::random_mac();
    let m = cli
        .json(&[
            "lab",
            "machines",
            "create",
            "architecture=amd64",
            &format!("mac_addresses={mac}"),
            "hostname=cli1",
            "power_type=manual",
            "cpu_count=4",
            "memory=4096",
            "commission=false",
        ])
        .await;
    let sid = m["system_id"].as_str().unwrap().to_string();
    assert_eq!(m["hostname"], "cli1");
    r.force_status(&sid, 4).await;
    let list = cli
        .json(&["lab", "machines", "read", "hostname=cli1"])
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let out = cli.run(&["lab", "machines", "list"]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("cli1") && table.contains(&sid) && table.contains("Ready"),
        "{table}"
    );
    let out = cli.run(&["lab", "machines", "list", "--json"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["system_id"], sid.as_str());

    let m = cli
        .json(&["lab", "machines", "allocate", "cpu_count=2", "mem=1024"])
        .await;
    assert_eq!(
        (m["system_id"].as_str(), m["owner"].as_str()),
        (Some(sid.as_str()), Some("admin"))
    );
    let m = cli
        .json(&["lab", "machine", "deploy", &sid, "distro_series=jammy"])
        .await;
    assert_eq!(m["status_name"], "Deploying");
    let st = cli
        .json(&["lab", "machine", "query-power-state", &sid])
        .await;
    assert_eq!(st["state"], "unknown");
    let m = cli
        .json(&["lab", "machine", "release", &sid, "comment=done"])
        .await;
    assert_eq!(m["status_name"], "Ready");

    // A rejected action: exit 2, the region's message on stderr, nothing changed.
    let out = cli
        .run(&["lab", "machines", "allocate", "cpu_count=99"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("409") && err.contains("No available machine"),
        "{err}"
    );
    let out = cli.run(&["lab", "machine", "mark-fixed", &sid]).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(r.status_of(&sid).await, 4);
    // Bad input is a 400 naming the field.
    let out = cli
        .run(&["lab", "machines", "allocate", "storage=root:huge"])
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("storage"));

    // Rack controllers show in a table and as JSON.
    sqlx::query("INSERT INTO racks (system_id, hostname, version, connected_region, last_seen) VALUES ('rck123', 'rack-one', '0.1.0', 'region-x', now())")
        .execute(r.db())
        .await
        .unwrap();
    let out = cli.run(&["lab", "rack-controllers", "list"]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("rack-one") && table.contains("region-x") && table.contains("rck123"),
        "{table}"
    );
    let rc = cli
        .json(&["lab", "rack-controller", "read", "rck123"])
        .await;
    assert_eq!(rc["connected_region"], "region-x");

    // A bad key is refused at login and nothing is stored.
    let out = cli.run(&["login", "bad", &url, "a:b:c"]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("key")
    );
    let out = cli.run(&["bad", "machines", "read"]).await;
    assert!(!out.status.success());
    // An unreachable region is named.
    let out = cli
        .run(&["login", "gone", "http://127.0.0.1:9/MAAS", &key])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:9"));
}
