//! Region processes as operators run them: two regions on one database under
//! concurrent allocation, and the private PostgreSQL cluster.

use maas_testkit as common;

use std::collections::{HashMap, HashSet};
use std::process::Command;

use common::Api;
use common::proc::Proc;

const BIN: &str = env!("CARGO_BIN_EXE_maas-region");

/// Start `maas-region serve` on free ports; it is stopped (SIGTERM, so it
/// stops its private PostgreSQL) when dropped.
fn serve(args: &[&str]) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0"])
        .args(args);
    let mut p = Proc::spawn(cmd, "region API listening");
    assert!(
        !p.addr.is_empty(),
        "region did not start:\n{}",
        p.log_text()
    );
    p.graceful = true;
    p
}

#[tokio::test]
async fn two_regions_300_allocations_100_machines() {
    let (db_url, db_name) = common::fresh_database().await;
    let dir = common::tempdir::Dir::new();
    let key = dir.0.join("secret.key");
    let key_s = key.to_str().unwrap();
    let a = serve(&[
        "--database-url",
        &db_url,
        "--secret-key-file",
        key_s,
        "--data-dir",
        dir.0.to_str().unwrap(),
        // 150 clients at once from one address: over the default bound.
        "--max-connections-per-peer",
        "400",
    ]);
    let b = serve(&[
        "--database-url",
        &db_url,
        "--secret-key-file",
        key_s,
        "--data-dir",
        dir.0.to_str().unwrap(),
        // 150 clients at once from one address: over the default bound.
        "--max-connections-per-peer",
        "400",
    ]);
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let mut users = Vec::new();
    for name in ["u1", "u2", "u3"] {
        users.push((name, common::make_user(&pool, name, false).await));
    }
    for i in 0..100 {
        sqlx::query(
            "INSERT INTO machines (system_id, hostname, status, architecture, cpu_count, memory, power_type)
             VALUES ($1, $2, 4, 'amd64/generic', $3, 4096, 'manual')",
        )
        .bind(maas_model::ids::new_system_id())
        .bind(format!("c{i}"))
        .bind(1 + i % 7)
        .execute(&pool)
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..300 {
        let addr = if i % 2 == 0 { &a.addr } else { &b.addr };
        let (name, key) = users[i % 3].clone();
        let api = Api::new(&format!("http://{addr}/MAAS"), Some(key));
        tasks.push(tokio::spawn(async move {
            let (st, m) = api.op("machines/", "allocate", &[]).await;
            (name, st, m)
        }));
    }
    let mut ok = 0;
    let mut conflict = 0;
    let mut got: HashMap<String, &str> = HashMap::new();
    for t in tasks {
        let (name, st, m) = t.await.unwrap();
        match st {
            200 => {
                ok += 1;
                assert_eq!(m["owner"], name);
                let sid = m["system_id"].as_str().unwrap().to_string();
                assert!(
                    got.insert(sid.clone(), name).is_none(),
                    "{sid} handed out twice"
                );
            }
            409 => conflict += 1,
            other => panic!("unexpected {other}: {m}"),
        }
    }
    assert_eq!((ok, conflict), (100, 200));
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.system_id, u.username FROM machines m JOIN users u ON u.id = m.owner_id WHERE m.status = 10",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 100);
    for (sid, owner) in &rows {
        assert_eq!(
            got.get(sid).copied(),
            Some(owner.as_str()),
            "owner in DB matches the caller"
        );
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE type = 'Allocated'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 100);
    let distinct: HashSet<&String> = got.keys().collect();
    assert_eq!(distinct.len(), 100);
    pool.close().await;
    drop((a, b));
    common::drop_database(&db_name);
}

#[tokio::test]
async fn private_cluster_quick_start() {
    let dir = common::tempdir::Dir::new();
    let d = dir.0.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .args(["--data-dir", &d])
            .env_remove("MAAS_DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "createadmin",
        "--username",
        "admin",
        "--password",
        "pw",
        "--email",
        "a@example.com",
    ]);
    let key = run(&["apikey", "--username", "admin"]).trim().to_string();
    assert_eq!(key.split(':').count(), 3);
    let secret = run(&["secret"]).trim().to_string();
    assert_eq!(secret.len(), 64);
    assert_eq!(run(&["secret"]).trim(), secret, "the secret is stable");
    assert!(dir.0.join("pg/data/PG_VERSION").exists());
    {
        let p = serve(&["--data-dir", &d]);
        let api = Api::new(&format!("http://{}/MAAS", p.addr), Some(key.clone()));
        let (st, me) = api.get_op("users/", "whoami", &[]).await;
        assert_eq!((st, me["username"].as_str()), (200, Some("admin")));
        // While the region runs, the operator commands reuse its cluster.
        let key2 = run(&["apikey", "--username", "admin"]);
        assert_eq!(key2.trim().split(':').count(), 3);
        let out = Command::new(BIN)
            .args(["apikey", "--username", "ghost", "--data-dir", &d])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
    }
    // SIGTERM stopped the region and its PostgreSQL.
    let ps = Command::new("pgrep")
        .args(["-f", &format!("postgres -D {d}")])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "postgres still running after the region stopped"
    );
    // A data dir the postgres user cannot reach is refused with advice.
    let private = common::tempdir::Dir::new();
    std::fs::set_permissions(
        &private.0,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "secret",
            "--data-dir",
            private.0.join("data").to_str().unwrap(),
        ])
        .env_remove("MAAS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot enter") && err.contains("/var/lib/maas-region"),
        "{err}"
    );
    // Without PostgreSQL binaries the region says what to install.
    let empty = common::tempdir::Dir::new();
    let other = common::tempdir::Dir::new();
    let out = Command::new(BIN)
        .args(["secret", "--data-dir", other.0.to_str().unwrap()])
        .env("MAAS_PG_ROOT", &empty.0)
        .env("RUST_BACKTRACE", "1")
        .env_remove("MAAS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install postgresql"), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
}

/// A region whose secret key differs from the one the database's regions
/// use refuses to start before it opens any port, with a message and no
/// backtrace (even with RUST_BACKTRACE set).
#[tokio::test]
async fn a_region_with_another_key_refuses_before_opening_a_port() {
    let (db_url, db_name) = common::fresh_database().await;
    let dir_a = common::tempdir::Dir::new();
    let a = serve(&[
        "--database-url",
        &db_url,
        "--data-dir",
        dir_a.0.to_str().unwrap(),
    ]);
    // A free port for B's API: B must never answer on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir_b = common::tempdir::Dir::new();
    let out = Command::new(BIN)
        .args(["serve", "--rpc-listen", "127.0.0.1:0"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &db_url])
        .args(["--data-dir", dir_b.0.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: ") && err.contains("secret key"),
        "{err}"
    );
    assert!(!err.contains("listening"), "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
    // A still serves, with its own key.
    let (st, _) = Api::new(&format!("http://{}/MAAS", a.addr), None)
        .get("version/", &[])
        .await;
    assert_eq!(st, 200);
    drop(a);
    common::drop_database(&db_name);
}
