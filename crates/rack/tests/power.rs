//! Power end to end: an in-process region, a real `maas-rack` process and
//! OpenIPMI's `ipmi_sim` (its chassis program keeps the power and the boot
//! device in files this test reads). Commands go API → region → rack session
//! stream → our IPMI client → simulator, and the results come back into the
//! machine (`power_state`, status, events).

#[path = "../../bmc/tests/common/mod.rs"]
mod sims;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use maas_testkit::proc::Proc;
use maas_testkit::{TestRegion, wait_for};
use serde_json::Value;

const IP_JSON: &str = r#"[
  {"ifname":"eth0","link_type":"ether","address":"52:54:00:0b:00:01",
   "addr_info":[{"family":"inet","local":"10.202.1.1","prefixlen":24,"scope":"global"}]}
]"#;

fn start_rack(region: &str, secret: &str, dir: &Path, hostname: &str) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    let ip_json = dir.join("ip.json");
    std::fs::write(&ip_json, IP_JSON).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_maas-rack"));
    c.args([
        "serve",
        "--region",
        region,
        "--secret",
        secret,
        "--hostname",
        hostname,
    ])
    .arg("--data-dir")
    .arg(dir)
    .args(["--http-listen", "127.0.0.1:0"])
    .env("MAAS_RACK_IP_JSON", &ip_json);
    let p = Proc::spawn(c, "rack local endpoint listening");
    assert!(!p.addr.is_empty(), "rack did not start: {}", p.log_text());
    p
}

async fn region(poll: Duration) -> (TestRegion, String, String) {
    TestRegion::with_racks(|o| o.power_poll_interval = poll).await
}

async fn ipmi_machine(r: &TestRegion, sim: &sims::Sim, pass: &str) -> String {
    let addr = sim.address();
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64/generic"),
                ("mac_addresses", &maas_testkit::random_mac()),
                ("power_type", "ipmi"),
                ("power_parameters_power_address", &addr),
                ("power_parameters_power_user", "admin"),
                ("power_parameters_power_pass", pass),
                ("power_parameters_privilege_level", "ADMIN"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    m["system_id"].as_str().unwrap().to_string()
}

async fn machine(r: &TestRegion, sid: &str) -> Value {
    r.admin.get(&format!("machines/{sid}/"), &[]).await.1
}

async fn events(r: &TestRegion, sid: &str) -> Vec<String> {
    let (_, ev) = r.admin.get_op("events/", "query", &[("id", sid)]).await;
    ev["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| format!("{}: {}", e["type"], e["description"]))
                .collect()
        })
        .unwrap_or_default()
}

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipmi_power_through_a_rack_end_to_end() {
    let sim = sims::ipmi_sim();
    let (r, secret, url) = region(Duration::from_secs(3600)).await;
    let tmp = maas_testkit::tempdir::Dir::new();
    let sid = ipmi_machine(&r, &sim, "secret").await;
    let q = format!("machines/{sid}/");

    // No rack yet: a clear error, not a guess.
    let (st, body) = r.admin.get_op(&q, "query_power_state", &[]).await;
    assert_eq!(st, 503, "{body}");
    assert!(body.to_string().contains("No rack controller"), "{body}");

    let rack = start_rack(&url, &secret, &tmp.0.join("rack1"), "rack1");
    wait_for("the rack's session", T, || async {
        r.admin.get_op(&q, "query_power_state", &[]).await.0 == 200
    })
    .await;

    // query_power_state reads the simulator.
    let (_, s) = r.admin.get_op(&q, "query_power_state", &[]).await;
    assert_eq!(s["state"], "off", "{s}");
    sim.write("power", "1");
    let (_, s) = r.admin.get_op(&q, "query_power_state", &[]).await;
    assert_eq!(s["state"], "on", "{s}");
    assert_eq!(machine(&r, &sid).await["power_state"], "on");
    sim.write("power", "0");

    // power_on (allocated machine) changes the simulator's state.
    r.force_status(&sid, 4).await;
    let (st, m) = r
        .admin
        .op("machines/", "allocate", &[("system_id", &sid)])
        .await;
    assert_eq!(st, 200, "{m}");
    let (st, m) = r.admin.op(&q, "power_on", &[]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], sid.as_str(), "answers with the machine");
    wait_for("power on", T, || async { sim.read("power") == "1" }).await;
    wait_for("power_state on", T, || async {
        machine(&r, &sid).await["power_state"] == "on"
    })
    .await;
    let (st, _) = r.admin.op(&q, "power_off", &[("stop_mode", "hard")]).await;
    assert_eq!(st, 200);
    wait_for("power off", T, || async { sim.read("power") == "0" }).await;

    // Release: off at the BMC, then Ready.
    r.admin.op(&q, "release", &[]).await;
    wait_for("released to Ready", T, || async {
        machine(&r, &sid).await["status_name"] == "Ready"
    })
    .await;

    // Commission: PXE once, then power on.
    sim.write("boot", "default");
    let (st, m) = r.admin.op(&q, "commission", &[]).await;
    assert_eq!(st, 200, "{m}");
    wait_for("commission powers on", T, || async {
        sim.read("power") == "1"
    })
    .await;
    assert_eq!(sim.read("boot"), "pxe", "PXE boot set before power on");
    let m = machine(&r, &sid).await;
    assert_eq!(m["status_name"], "Commissioning", "{m}");
    wait_for("the power event", T, || async {
        events(&r, &sid)
            .await
            .iter()
            .any(|e| e.contains("network boot once"))
    })
    .await;

    // Abort: power off.
    let (st, m) = r.admin.op(&q, "abort", &[]).await;
    assert_eq!(st, 200, "{m}");
    wait_for("abort powers off", T, || async { sim.read("power") == "0" }).await;

    // A wrong password: the probe on add says so, and commissioning fails
    // with the BMC's error.
    let bad = ipmi_machine(&r, &sim, "wrong").await;
    wait_for("the probe's verdict", T, || async {
        machine(&r, &bad).await["power_state"] == "error"
    })
    .await;
    let ev = events(&r, &bad).await;
    assert!(
        ev.iter()
            .any(|e| e.contains("Power parameters check failed")),
        "{ev:?}"
    );
    r.force_status(&bad, 4).await;
    let (st, m) = r
        .admin
        .op(&format!("machines/{bad}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{m}");
    wait_for("failed commissioning", T, || async {
        machine(&r, &bad).await["status_name"] == "Failed commissioning"
    })
    .await;
    let m = machine(&r, &bad).await;
    let msg = m["status_message"].as_str().unwrap_or("").to_lowercase();
    let err = m["error_description"].as_str().unwrap_or("").to_lowercase();
    assert!(
        msg.contains("failed to power on") && (msg.contains("auth") || msg.contains("password")),
        "status_message names the BMC's refusal: {m}"
    );
    assert_eq!(msg, err);
    assert_eq!(
        sim.read("power"),
        "0",
        "nothing powered with a wrong password"
    );

    // Credentials travel in the command only: nothing the rack writes holds them.
    let (st, m) = r
        .admin
        .put(
            &q,
            &[
                ("power_parameters_power_user", "oper"),
                ("power_parameters_power_pass", "opsecret"),
                ("power_parameters_privilege_level", "OPERATOR"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let (st, s) = r.admin.get_op(&q, "query_power_state", &[]).await;
    assert_eq!((st, s["state"].as_str()), (200, Some("off")), "{s}");
    let mut files = vec![tmp.0.join("rack1")];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        } else {
            // The rack renames temp files into place while it runs: a file
            // gone between listing and reading held nothing we need to check.
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            assert!(
                !text.contains("opsecret"),
                "{} holds a BMC password",
                p.display()
            );
        }
    }
    drop(rack);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_refreshes_states_and_another_rack_takes_over() {
    let sim = sims::ipmi_sim();
    let (r, secret, url) = region(Duration::from_secs(1)).await;
    let tmp = maas_testkit::tempdir::Dir::new();
    let sid = ipmi_machine(&r, &sim, "secret").await;
    let q = format!("machines/{sid}/");
    let rack1 = start_rack(&url, &secret, &tmp.0.join("rack1"), "rack1");
    let rack2 = start_rack(&url, &secret, &tmp.0.join("rack2"), "rack2");
    wait_for("both racks connected", T, || async {
        let (_, l) = r.admin.get("rackcontrollers/", &[]).await;
        l.as_array().is_some_and(|a| a.len() == 2)
            && r.admin.get_op(&q, "query_power_state", &[]).await.0 == 200
    })
    .await;
    // Polling: the state changes at the BMC and the region notices alone.
    sim.write("power", "1");
    wait_for("the poller sees on", T, || async {
        machine(&r, &sid).await["power_state"] == "on"
    })
    .await;
    sim.write("power", "0");
    wait_for("the poller sees off", T, || async {
        machine(&r, &sid).await["power_state"] == "off"
    })
    .await;
    // One rack gone: the other answers.
    drop(rack1);
    for _ in 0..3 {
        let (st, s) = r.admin.get_op(&q, "query_power_state", &[]).await;
        assert_eq!((st, s["state"].as_str()), (200, Some("off")), "{s}");
    }
    drop(rack2);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_powers_on_and_queries_through_the_rack() {
    let sim = sims::ipmi_sim();
    let (r, secret, url) = region(Duration::from_secs(3600)).await;
    let tmp = maas_testkit::tempdir::Dir::new();
    let sid = ipmi_machine(&r, &sim, "secret").await;
    let _rack = start_rack(&url, &secret, &tmp.0.join("rack1"), "rack1");
    let q = format!("machines/{sid}/");
    wait_for("the rack's session", T, || async {
        r.admin.get_op(&q, "query_power_state", &[]).await.0 == 200
    })
    .await;
    r.force_status(&sid, 4).await;
    r.admin
        .op("machines/", "allocate", &[("system_id", &sid)])
        .await;
    let maas = maas_testkit::proc::sibling_bin("maas");
    let cfg = tmp.0.join("profiles.json");
    let run = |args: Vec<String>| {
        let out = Command::new(&maas)
            .args(&args)
            .env("MAAS_CLI_CONFIG", &cfg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let key = r.admin.key.clone().unwrap();
    run(vec!["login".into(), "lab".into(), r.url(), key]);
    let s = |v: &str| v.to_string();
    let out = run(vec![
        s("lab"),
        s("machine"),
        s("query-power-state"),
        sid.clone(),
    ]);
    assert!(out.contains("\"off\""), "{out}");
    run(vec![s("lab"), s("machine"), s("power-on"), sid.clone()]);
    wait_for("power on", T, || async { sim.read("power") == "1" }).await;
    let out = run(vec![
        s("lab"),
        s("machine"),
        s("query-power-state"),
        sid.clone(),
    ]);
    assert!(out.contains("\"on\""), "{out}");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redfish_power_through_a_rack_against_sushy() {
    let sim = sims::sushy();
    let (r, secret, url) = region(Duration::from_secs(3600)).await;
    let tmp = maas_testkit::tempdir::Dir::new();
    let base = format!("http://127.0.0.1:{}", sim.port);
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64/generic"),
                ("mac_addresses", &maas_testkit::random_mac()),
                ("power_type", "redfish"),
                ("power_parameters_power_address", &base),
                ("power_parameters_power_user", "admin"),
                ("power_parameters_power_pass", "secret"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sid = m["system_id"].as_str().unwrap().to_string();
    let q = format!("machines/{sid}/");
    let _rack = start_rack(&url, &secret, &tmp.0.join("rack1"), "rack1");
    wait_for("the rack's session", T, || async {
        r.admin.get_op(&q, "query_power_state", &[]).await.0 == 200
    })
    .await;
    let (_, s) = r.admin.get_op(&q, "query_power_state", &[]).await;
    assert_eq!(s["state"], "off", "{s}");
    // Commission: one-time PXE override, then on (sushy's fake driver
    // applies power changes after a random 1–11 s).
    r.force_status(&sid, 4).await;
    let (st, m) = r.admin.op(&q, "commission", &[]).await;
    assert_eq!(st, 200, "{m}");
    wait_for("the BMC reports on", T, || async {
        r.admin.get_op(&q, "query_power_state", &[]).await.1["state"] == "on"
    })
    .await;
    let sys: Value = reqwest::Client::new()
        .get(format!(
            "{base}/redfish/v1/Systems/5e6c0c2a-0000-4000-8000-000000000002"
        ))
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Pxe", "{sys}");
    // (sushy's fake driver keeps no "Once": it reports Continuous whatever
    // is sent; the PATCH body is checked in crates/bmc's tests.)
    assert_eq!(machine(&r, &sid).await["status_name"], "Commissioning");
    r.stop().await;
}
