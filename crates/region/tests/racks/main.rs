//! Region ↔ rack over the real mutual-TLS gRPC path: enrollment (and the
//! network model it creates), refusals, snapshots and acks, API changes
//! reaching racks, events exactly once across kills, failover between
//! regions, and a rack working alone.

use maas_testkit as common;

mod harness;
mod leases;

use harness::*;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::proc::Proc;
use maas_region::services::racks::FAIL_LIMIT;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrollment_snapshot_and_visibility() {
    let (r, secret, url) = rpc_region().await;
    let dir = common::tempdir::Dir::new();
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("rack"),
        "rack-a",
    );
    wait_for(
        "rack connected with state",
        Duration::from_secs(20),
        || async {
            let s = rack.status().await;
            s["connected_region"].is_string() && s["generation"].as_u64().unwrap_or(0) > 0
        },
    )
    .await;
    let s = rack.status().await;
    let generation = s["generation"].as_i64().unwrap();
    // The rack acks right after applying; the region records it.
    wait_for("ack recorded", Duration::from_secs(5), || async {
        scalar(r.db(), "SELECT applied_generation FROM racks").await == generation
    })
    .await;
    // The key never left the rack; the region holds only the certificate.
    assert!(dir.0.join("rack/rack.key").exists());
    let (sid, applied, fp): (String, i64, String) =
        sqlx::query_as("SELECT system_id, applied_generation, cert_fingerprint FROM racks")
            .fetch_one(r.db())
            .await
            .unwrap();
    assert_eq!(s["system_id"], sid.as_str());
    assert_eq!(applied, generation, "the region recorded the ack");
    let cert = std::fs::read(dir.0.join("rack/rack.crt")).unwrap();
    assert_eq!(maas_rpc::tls::fingerprint(&cert), fp);
    // The network model came from the rack's interfaces.
    let (_, subnets) = r.admin.get("subnets/", &[]).await;
    let cidrs: Vec<&str> = subnets
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cidr"].as_str().unwrap())
        .collect();
    assert!(
        cidrs.contains(&"10.201.1.0/24") && cidrs.contains(&"fd00:100::/64"),
        "{cidrs:?}"
    );
    let v6 = subnets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["cidr"] == "fd00:100::/64")
        .unwrap();
    assert_eq!(v6["vlan"]["vid"], 100);
    // The snapshot holds them; the rack serves it locally.
    let (st, state) = rack.get("/state").await;
    assert_eq!(st, 200);
    assert_eq!(state["generation"], generation);
    assert_eq!(state["subnets"].as_array().unwrap().len(), 2);
    assert_eq!(state["boot"]["default_distro_series"], "jammy");
    // API visibility.
    let (st, racks) = r.admin.get("rackcontrollers/", &[]).await;
    assert_eq!(st, 200);
    let rc = &racks[0];
    assert_eq!(rc["hostname"], "rack-a");
    assert_eq!(rc["node_type"], 2);
    assert!(rc["connected_region"].is_string() && rc["last_seen"].is_string());
    assert_eq!(rc["applied_generation"], generation);
    assert_eq!(rc["interface_set"].as_array().unwrap().len(), 2);
    wait_for("rackd health reported", Duration::from_secs(10), || async {
        let (_, rc) = r.admin.get(&format!("rackcontrollers/{sid}/"), &[]).await;
        rc["service_set"].as_array().is_some_and(|s| {
            s.iter()
                .any(|x| x["name"] == "rackd" && x["status"] == "running")
        })
    })
    .await;
    // A restart with unchanged state is not resent.
    let mut rack = rack;
    rack.proc.term();
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("rack"),
        "rack-a",
    );
    wait_for("reconnected", Duration::from_secs(20), || async {
        rack.status().await["connected_region"].is_string()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rack.status().await["generation"], generation);
    assert!(
        rack.proc.log_text().contains("state unchanged"),
        "{}",
        rack.proc.log_text()
    );
    assert_eq!(
        scalar(r.db(), "SELECT count(*) FROM racks").await,
        1,
        "no re-enrollment"
    );
    // Interfaces changing are reported and modelled.
    let mut ip: Value = serde_json::from_str(IP_JSON).unwrap();
    ip[0]["addr_info"]
        .as_array_mut()
        .unwrap()
        .push(json!({"family":"inet","local":"10.202.0.1","prefixlen":16,"scope":"global"}));
    std::fs::write(dir.0.join("rack/ip.json"), ip.to_string()).unwrap();
    wait_for(
        "new subnet from changed interfaces",
        Duration::from_secs(15),
        || async {
            scalar(
                r.db(),
                "SELECT count(*) FROM subnets WHERE cidr = '10.202.0.0/16'",
            )
            .await
                == 1
        },
    )
    .await;
    wait_for(
        "rack got the new subnet",
        Duration::from_secs(5),
        || async {
            rack.get("/state").await.1["subnets"]
                .as_array()
                .is_some_and(|s| s.len() == 3)
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_changes_reach_the_rack_promptly() {
    let (r, secret, url) = rpc_region().await;
    let dir = common::tempdir::Dir::new();
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("rack"),
        "rack-b",
    );
    wait_for("connected", Duration::from_secs(20), || async {
        rack.status().await["generation"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let g0 = rack.status().await["generation"].as_u64().unwrap();
    let (st, e) = r
        .admin
        .op(
            "maas/",
            "set_config",
            &[("name", "kernel_opts"), ("value", "console=ttyS0")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let took = wait_for(
        "kernel_opts on the rack",
        Duration::from_secs(5),
        || async { rack.get("/state").await.1["boot"]["kernel_opts"] == "console=ttyS0" },
    )
    .await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    let s = rack.status().await;
    assert_eq!(s["generation"].as_u64().unwrap(), g0 + 1);
    wait_for("ack recorded", Duration::from_secs(5), || async {
        scalar(r.db(), "SELECT applied_generation FROM racks").await == (g0 + 1) as i64
    })
    .await;
    // A change that does not touch this rack's state pushes nothing.
    r.admin
        .op(
            "maas/",
            "set_config",
            &[("name", "kernel_opts"), ("value", "console=ttyS0")],
        )
        .await;
    r.admin.post("zones/", &[("name", "unrelated")]).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(rack.status().await["generation"].as_u64().unwrap(), g0 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals() {
    let (r, secret, url) = rpc_region().await;
    let dir = common::tempdir::Dir::new();
    // Wrong secret: a clear error, every time (the rate limit that follows
    // is in `a_rate_limited_rack_backs_off_and_enrolls`).
    wrong_secrets(&url, &dir.0, "bad", FAIL_LIMIT);
    assert_eq!(scalar(r.db(), "SELECT count(*) FROM racks").await, 0);
    // A good rack.
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("good"),
        "good",
    );
    wait_for("connected", Duration::from_secs(20), || async {
        rack.status().await["connected_region"].is_string()
    })
    .await;
    let sid = rack.status().await["system_id"]
        .as_str()
        .unwrap()
        .to_string();

    let rpc = r.running.as_ref().unwrap().rpc_addr.unwrap();
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{rpc}")).unwrap();
    let hello = || {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(maas_rpc::pb::RackMessage {
            msg: Some(maas_rpc::pb::rack_message::Msg::Hello(
                maas_rpc::pb::Hello {
                    hostname: "x".into(),
                    ..Default::default()
                },
            )),
        })
        .unwrap();
        (tx, tokio_stream::wrappers::ReceiverStream::new(rx))
    };
    // No certificate: refused.
    let (cfg, _) = maas_rpc::tls::enrollment_client_config().unwrap();
    let ch = endpoint
        .connect_with_connector(maas_rpc::tls::Connector { config: cfg })
        .await
        .unwrap();
    let (_tx, stream) = hello();
    let err = maas_rpc::pb::rack_session_client::RackSessionClient::new(ch)
        .session(stream)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err}");
    // A certificate from another CA: the handshake itself is refused.
    let (ca_pem, key_pem) = maas_rpc::tls::generate_ca().unwrap();
    let other = maas_rpc::tls::Ca::from_pem(&ca_pem, &key_pem).unwrap();
    let (key, csr) = maas_rpc::tls::rack_key_and_csr("evil").unwrap();
    let (cert, _) = other.sign_rack_csr(&csr, &sid).unwrap();
    let real_ca = std::fs::read(dir.0.join("good/ca.crt")).unwrap();
    let cfg = maas_rpc::tls::client_config(&real_ca, &cert, &key).unwrap();
    let refused = match endpoint
        .connect_with_connector(maas_rpc::tls::Connector { config: cfg })
        .await
    {
        Err(_) => true,
        Ok(ch) => {
            let (_tx, stream) = hello();
            maas_rpc::pb::rack_session_client::RackSessionClient::new(ch)
                .session(stream)
                .await
                .is_err()
        }
    };
    assert!(refused, "a foreign certificate must not open a session");
    // Deleting the rack closes its open stream at once and revokes it.
    let (st, _) = r.admin.delete(&format!("rackcontrollers/{sid}/")).await;
    assert_eq!(st, 204);
    let took = wait_for(
        "rack told it is refused",
        Duration::from_secs(5),
        || async {
            let s = rack.status().await;
            s["refused"].is_string() && s["connected_region"].is_null()
        },
    )
    .await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(
        rack.status().await["refused"]
            .as_str()
            .unwrap()
            .contains("deleted")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        rack.status().await["connected_region"].is_null(),
        "still refused on reconnect"
    );
    assert_eq!(
        scalar(r.db(), "SELECT count(*) FROM revoked_certs").await,
        1
    );
    assert_eq!(r.alice.delete("rackcontrollers/xxxxxx/").await.0, 403);
    assert_eq!(r.admin.delete("rackcontrollers/xxxxxx/").await.0, 404);
}

/// `n` racks with a wrong secret claiming `hostname` (each in its own data
/// dir under `dir`): each stops at once with the clear refusal.
fn wrong_secrets(url: &str, dir: &Path, hostname: &str, n: u32) {
    for i in 0..n {
        let t0 = Instant::now();
        let out = rack_cmd(
            &[url.to_string()],
            "not-the-secret",
            &dir.join(format!("{hostname}-wrong{i}")),
            hostname,
        )
        .output()
        .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("enrollment refused") && err.contains("secret"),
            "{err}"
        );
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noisy_neighbour_does_not_lock_out_another_hostname() {
    // A long window: nothing here may wait for it.
    let (r, secret, url) = rpc_region_with_window(Duration::from_secs(60)).await;
    let dir = common::tempdir::Dir::new();
    // Wrong secrets from 127.0.0.1 under "noisy" reach the limit.
    wrong_secrets(&url, &dir.0, "noisy", FAIL_LIMIT);
    // An honest rack on the same address, with another hostname, enrolls at once.
    let t0 = Instant::now();
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("honest"),
        "honest",
    );
    wait_for("honest rack connected", Duration::from_secs(10), || async {
        rack.status().await["connected_region"].is_string()
    })
    .await;
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let log = rack.proc.log_text();
    assert!(!log.contains("too many failed"), "{log}");
    let hosts: Vec<String> = sqlx::query_scalar("SELECT hostname FROM racks")
        .fetch_all(r.db())
        .await
        .unwrap();
    assert_eq!(hosts, ["honest"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_rack_backs_off_and_enrolls() {
    let window = Duration::from_secs(5);
    let (r, secret, url) = rpc_region_with_window(window).await;
    let dir = common::tempdir::Dir::new();
    let t0 = Instant::now();
    // Someone claiming this rack's hostname gets it limited…
    wrong_secrets(&url, &dir.0, "victim", FAIL_LIMIT);
    // …so the rack, with the right secret, is refused for now: it logs why
    // (with the region's hint) and keeps running instead of exiting.
    let mut rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("victim"),
        "victim",
    );
    let log_has = |p: &Proc, s: &str| p.log_text().contains(s);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log_has(&rack.proc, "retry in") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = rack.proc.log_text();
    assert!(
        log.contains("too many failed enrollment attempts")
            && log.contains("retry in")
            && log.contains("rate limited"),
        "{log}"
    );
    assert!(
        rack.proc.child.try_wait().unwrap().is_none(),
        "the rack exited: {log}"
    );
    // Once the window has passed it enrolls. (Its local endpoint answers
    // only once it is enrolled: read the log until then.)
    wait_for(
        "the limited rack enrolled",
        Duration::from_secs(15),
        || async { log_has(&rack.proc, "session established") },
    )
    .await;
    assert!(rack.status().await["connected_region"].is_string());
    assert!(t0.elapsed() >= window, "{:?}", t0.elapsed());
    let log = rack.proc.log_text();
    assert!(log.contains("backing off"), "{log}");
    assert!(log.contains("enrolled"), "{log}");
    assert_eq!(scalar(r.db(), "SELECT count(*) FROM racks").await, 1);
    // A wrong secret is still final.
    wrong_secrets(&url, &dir.0, "other", 1);
    rack.proc.term();
}

/// Start `maas-region serve` against `db_url` with a fixed RPC port.
fn region_proc(db_url: &str, dir: &Path, rpc_port: u16, name: &str) -> Proc {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maas-region"));
    c.arg("serve")
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rpc-listen",
            &format!("127.0.0.1:{rpc_port}"),
        ])
        .args(["--database-url", db_url, "--region-name", name])
        .arg("--data-dir")
        .arg(dir)
        .arg("--secret-key-file")
        .arg(dir.join("secret.key"));
    let p = Proc::spawn(c, "rack RPC listening");
    assert!(!p.addr.is_empty(), "region did not start: {}", p.log_text());
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn lease_counts(db: &sqlx::PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(DISTINCT (rack_id, seq)) FROM rack_events WHERE kind = 'lease'",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_exactly_once_across_rack_kill() {
    let (r, secret, url) = rpc_region().await;
    let dir = common::tempdir::Dir::new();
    let mut rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("rack"),
        "rack-k",
    );
    wait_for("connected", Duration::from_secs(20), || async {
        rack.status().await["connected_region"].is_string()
    })
    .await;
    rack.inject(30000, "k").await;
    wait_for("some events stored", Duration::from_secs(30), || async {
        lease_counts(r.db()).await.0 > 0
    })
    .await;
    rack.proc.kill9();
    let stored_at_kill = lease_counts(r.db()).await.0;
    let rack = Rack::start(std::slice::from_ref(&url), &secret, &rack.dir, "rack-k");
    wait_for("all events stored", Duration::from_secs(60), || async {
        lease_counts(r.db()).await.0 == 30000
    })
    .await;
    wait_for("queue drained", Duration::from_secs(10), || async {
        rack.status().await["events_queued"] == 0
    })
    .await;
    let (n, distinct) = lease_counts(r.db()).await;
    assert_eq!((n, distinct), (30000, 30000));
    eprintln!("stored {stored_at_kill} of 30000 before the kill");
    // Every injected event arrived with its data.
    let names: i64 = scalar(
        r.db(),
        "SELECT count(DISTINCT payload->>'hostname') FROM rack_events WHERE kind = 'lease'",
    )
    .await;
    assert_eq!(names, 30000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_when_a_region_is_killed_mid_batch() {
    let (db_url, db_name) = common::fresh_database().await;
    let dir = common::tempdir::Dir::new();
    let (pa, pb) = (free_port(), free_port());
    let mut ra = region_proc(&db_url, &dir.0, pa, "region-a");
    let mut rb = region_proc(&db_url, &dir.0, pb, "region-b");
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let secret = maas_region::services::racks::enrollment_secret(&pool)
        .await
        .unwrap();
    let urls = vec![
        format!("https://127.0.0.1:{pa}"),
        format!("https://127.0.0.1:{pb}"),
    ];
    let rack = Rack::start(&urls, &secret, &dir.0.join("rack"), "rack-f");
    wait_for("connected", Duration::from_secs(20), || async {
        rack.status().await["connected_region"].is_string()
    })
    .await;
    let first = rack.status().await["connected_region"]
        .as_str()
        .unwrap()
        .to_string();
    rack.inject(30000, "f").await;
    wait_for("some events stored", Duration::from_secs(30), || async {
        lease_counts(&pool).await.0 > 0
    })
    .await;
    let t0 = Instant::now();
    if first == "region-a" {
        ra.kill9()
    } else {
        rb.kill9()
    }
    let other = if first == "region-a" {
        "region-b"
    } else {
        "region-a"
    };
    wait_for(
        "rack on the other region",
        Duration::from_secs(10),
        || async { rack.status().await["connected_region"] == other },
    )
    .await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(5), "failover took {took:?}");
    rack.inject(1000, "g").await;
    wait_for("all events stored", Duration::from_secs(60), || async {
        lease_counts(&pool).await.0 == 31000
    })
    .await;
    let (n, distinct) = lease_counts(&pool).await;
    assert_eq!((n, distinct), (31000, 31000), "no event lost or doubled");
    let row: (String,) = sqlx::query_as("SELECT connected_region FROM racks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(row.0, other);
    eprintln!("failover in {took:?}");
    drop((ra, rb, rack));
    pool.close().await;
    common::drop_database(&db_name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rack_works_alone_and_catches_up() {
    let (db_url, db_name) = common::fresh_database().await;
    let dir = common::tempdir::Dir::new();
    let port = free_port();
    let mut region = region_proc(&db_url, &dir.0, port, "solo");
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let secret = maas_region::services::racks::enrollment_secret(&pool)
        .await
        .unwrap();
    let urls = vec![format!("https://127.0.0.1:{port}")];
    let mut rack = Rack::start(&urls, &secret, &dir.0.join("rack"), "rack-s");
    wait_for("state applied", Duration::from_secs(20), || async {
        rack.status().await["generation"].as_u64().unwrap_or(0) > 0
    })
    .await;
    wait_for(
        "start-up events stored",
        Duration::from_secs(10),
        || async { rack.status().await["events_queued"] == 0 },
    )
    .await;
    let (_, state_before) = rack.get("/state").await;
    region.term();
    rack.proc.term();
    // Restarted with no region: still has and serves its state.
    let rack = Rack::start(&urls, &secret, &dir.0.join("rack"), "rack-s");
    let (st, state) = rack.get("/state").await;
    assert_eq!(st, 200);
    assert_eq!(state, state_before);
    assert!(rack.status().await["connected_region"].is_null());
    rack.inject(500, "offline").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rack.status().await["events_queued"].as_u64().unwrap(),
        504,
        "queued on disk (+4 health: rackd running; dhcpd, dns, boot off)"
    );
    assert_eq!(lease_counts(&pool).await.0, 0);
    // Region back: the queued events arrive, once.
    let _region = region_proc(&db_url, &dir.0, port, "solo");
    wait_for("queued events arrived", Duration::from_secs(30), || async {
        lease_counts(&pool).await.0 == 500
    })
    .await;
    wait_for("queue drained", Duration::from_secs(10), || async {
        rack.status().await["events_queued"] == 0
    })
    .await;
    assert_eq!(lease_counts(&pool).await, (500, 500));
    drop(rack);
    pool.close().await;
    common::drop_database(&db_name);
}
