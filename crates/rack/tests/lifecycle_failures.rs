//! Failure paths of the lifecycle on real virtual machines (the lab of
//! `common::lab`: qemu machines powered by ipmi_sim BMCs, booting from our
//! rack): a machine whose network boot never reaches us times out of
//! commissioning; abort powers a booting machine off during commissioning,
//! testing, deploying and disk erasing; a disk that fails reads fails
//! hardware testing; a rack killed while it streams the image comes back and
//! the deploy finishes; an image the rack serves corrupted fails the deployment with
//! the agent's output kept in the API.

mod common;

use std::time::{Duration, Instant};

use common::lab::{Lab, images, lab_with_images, script_result, sha256_hex};
use maas_testkit::wait_for;
use serde_json::Value;

/// The machine's events (newest first).
async fn events(lab: &Lab, sid: &str) -> Vec<Value> {
    let (st, v) = lab
        .r
        .admin
        .get_op("events/", "query", &[("id", sid), ("limit", "100")])
        .await;
    assert_eq!(st, 200, "{v}");
    v["events"].as_array().unwrap().clone()
}

/// Whether the machine has an event saying `what` (printed when not).
async fn aborted(lab: &Lab, sid: &str, what: &str) -> bool {
    let ev = events(lab, sid).await;
    let found = ev
        .iter()
        .any(|e| e["description"].as_str().is_some_and(|d| d.contains(what)));
    if !found {
        eprintln!("no event '{what}' in {ev:?}");
    }
    found
}

fn console_len(lab: &Lab, n: usize) -> usize {
    lab.dc.machines[n].console().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_that_never_network_boots_fails_commissioning_at_its_deadline() {
    maas_lab::require_tools(&["qemu-system-x86_64", "ipmi_sim", "dnsmasq"]).unwrap();
    // The status monitor looks every second; the deadline is 1 minute
    // (node_timeout's smallest value) instead of 30.
    let mut lab = Lab::start_with("10.71.1", |o| {
        o.status_interval = Duration::from_secs(1);
    })
    .await;
    let (st, e) = lab
        .r
        .admin
        .op(
            "maas/",
            "set_config",
            &[("name", "node_timeout"), ("value", "1")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let n = lab.add_small_machine("lost1", "52:54:00:71:01:01");
    // Its NIC is left off the rack's bridge: its PXE requests reach no one.
    lab.dc
        .ns
        .ip(&["link", "set", &format!("tap{n}"), "nomaster"])
        .unwrap();
    let t0 = Instant::now();
    let sid = lab.create_with_bmc(n, true).await;
    assert_eq!(lab.machine(&sid).await["status_name"], "Commissioning");
    wait_for(
        "the BMC to power the machine on",
        Duration::from_secs(60),
        || {
            let on = lab.dc.machines[n].running();
            async move { on }
        },
    )
    .await;
    lab.wait_status(n, &sid, "Failed commissioning", Duration::from_secs(180))
        .await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(55),
        "failed after {waited:?}, before its 1-minute deadline"
    );
    let m = lab.machine(&sid).await;
    let msg = m["status_message"].as_str().unwrap_or("");
    assert!(msg.contains("timed out during commissioning"), "{m}");
    let ev = events(&lab, &sid).await;
    assert!(
        ev.iter().any(|e| e["type"] == "Failed commissioning"
            && e["level"] == "ERROR"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains("timed out"))),
        "{ev:?}"
    );
    // It really never booted anything of ours.
    let console = lab.dc.machines[n].console();
    assert!(!console.contains("MAAS-INIT"), "{console}");
    lab.dc.machines.clear();
    lab.r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_powers_the_machine_off_and_a_rack_restart_does_not_stop_a_deploy() {
    let (eph, tiny) = images();
    let mut lab = lab_with_images("10.71.2", &eph, &tiny).await;
    let n = lab.add_small_machine("abort1", "52:54:00:71:02:01");
    let sid = lab.create_with_bmc(n, true).await;

    // Commissioning: abort once the ephemeral environment boots.
    lab.wait_console(n, 0, "MAAS-INIT: start", Duration::from_secs(180))
        .await;
    lab.act(&sid, "abort", &[]).await;
    let m = lab.machine(&sid).await;
    assert_eq!(m["status_name"], "New", "{m}");
    lab.wait_powered_off(n, Duration::from_secs(30)).await;
    assert!(aborted(&lab, &sid, "Aborted commissioning").await);

    // A later commissioning still works.
    lab.act(&sid, "commission", &[]).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(300))
        .await;
    assert_eq!(lab.machine(&sid).await["cpu_count"], 1);
    lab.wait_powered_off(n, Duration::from_secs(60)).await;

    // Testing: abort once the agent starts the tests; back to Ready, off.
    let mark = console_len(&lab, n);
    lab.act(&sid, "test", &[]).await;
    let started = "MAAS-AGENT: start purpose=testing";
    lab.wait_console(n, mark, started, Duration::from_secs(180))
        .await;
    lab.act(&sid, "abort", &[]).await;
    assert_eq!(lab.machine(&sid).await["status_name"], "Ready");
    lab.wait_powered_off(n, Duration::from_secs(30)).await;
    assert!(aborted(&lab, &sid, "Aborted testing").await);

    // A failing hardware test: the disk answers reads of sector 4096 (at
    // 2 MiB) with EIO (qemu's blkdebug). The tests run to the end, the
    // machine is Failed testing and off, the disk's read result failed
    // with where and why; mended and overridden, it is Ready again.
    lab.dc.machines[n].fail_disk_reads_at(Some(4096)).unwrap();
    lab.act(&sid, "test", &[]).await;
    lab.wait_status(n, &sid, "Failed testing", Duration::from_secs(240))
        .await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;
    let (res, out) = script_result(&lab, &sid, "testing", "disk-read-vda").await;
    assert_eq!(res["status_name"], "Failed", "{res}");
    assert!(
        out.contains("read error at byte 2097152") && out.contains("Input/output error"),
        "{out}"
    );
    let (_, summary) = script_result(&lab, &sid, "testing", "maas-tests.json").await;
    assert!(summary.contains("\"memory\""), "{summary}");
    lab.dc.machines[n].fail_disk_reads_at(None).unwrap();
    lab.act(&sid, "override_failed_testing", &[]).await;
    assert_eq!(lab.machine(&sid).await["status_name"], "Ready");

    // Deploying: abort once the agent starts the deployment.
    let (st, a) = lab
        .r
        .admin
        .op("machines/", "allocate", &[("system_id", &sid)])
        .await;
    assert_eq!(st, 200, "{a}");
    let deploy = [("osystem", "custom"), ("distro_series", "tiny")];
    let mark = console_len(&lab, n);
    lab.act(&sid, "deploy", &deploy).await;
    lab.wait_console(
        n,
        mark,
        "MAAS-AGENT: start purpose=deploying",
        Duration::from_secs(180),
    )
    .await;
    lab.act(&sid, "abort", &[]).await;
    let m = lab.machine(&sid).await;
    assert_eq!(
        (m["status_name"].as_str(), m["owner"].as_str()),
        (Some("Allocated"), Some("admin")),
        "{m}"
    );
    lab.wait_powered_off(n, Duration::from_secs(30)).await;

    // Deploy again; the rack is killed (SIGKILL) while it streams the image
    // and started again on the same data dir. The machine reaches the
    // region only through the rack: every later signal, the image's second
    // download and the deployed OS's metadata reads go through the new one.
    let mark = console_len(&lab, n);
    lab.act(&sid, "deploy", &deploy).await;
    lab.wait_console(
        n,
        mark,
        "MAAS-AGENT: deploying Deploying: image",
        Duration::from_secs(180),
    )
    .await;
    lab.restart_rack();
    lab.wait_status(n, &sid, "Deployed", Duration::from_secs(300))
        .await;
    let console = lab.dc.machines[n].console();
    assert!(
        console[mark..].contains("image download cut off"),
        "the kill did not cut the image's download:\n{}",
        lab.report(n)
    );
    assert!(
        lab.rack.log_text().contains("iPXE script served"),
        "the machine's reboot did not reach the new rack:\n{}",
        lab.report(n)
    );
    lab.wait_console(
        n,
        mark,
        "MAAS-DEPLOYED: hostname=abort1",
        Duration::from_secs(60),
    )
    .await;

    // Erasing (a full erase, on release): abort once the agent starts it;
    // Failed disk erasing, as MAAS's, and off.
    let mark = console_len(&lab, n);
    lab.act(&sid, "release", &[("erase", "true")]).await;
    let started = "MAAS-AGENT: start purpose=erasing";
    lab.wait_console(n, mark, started, Duration::from_secs(180))
        .await;
    lab.act(&sid, "abort", &[]).await;
    let m = lab.machine(&sid).await;
    assert_eq!(m["status_name"], "Failed disk erasing", "{m}");
    lab.wait_powered_off(n, Duration::from_secs(30)).await;
    assert!(aborted(&lab, &sid, "Aborted disk erasing").await);
    lab.dc.machines.clear();
    lab.r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_corrupted_on_the_rack_fails_the_deployment_with_the_agents_output() {
    let (eph, tiny) = images();
    let mut lab = lab_with_images("10.71.3", &eph, &tiny).await;
    let n = lab.add_small_machine("rot1", "52:54:00:71:03:01");
    let sid = lab.create_with_bmc(n, true).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(300))
        .await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;

    // Bit rot on the rack's copy of the image: one byte of the gzip
    // header's mtime, so the stream still decompresses and only its sha256
    // tells.
    let sha = sha256_hex(&std::fs::read(tiny.join("root-dd.raw.gz")).unwrap());
    let file = lab.rack_dir().join("images/by-sha256").join(&sha);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[4] ^= 0x5a;
    std::fs::write(&file, &bytes).unwrap();

    let (st, a) = lab
        .r
        .admin
        .op("machines/", "allocate", &[("system_id", &sid)])
        .await;
    assert_eq!(st, 200, "{a}");
    lab.act(
        &sid,
        "deploy",
        &[("osystem", "custom"), ("distro_series", "tiny")],
    )
    .await;
    lab.wait_status(n, &sid, "Failed deployment", Duration::from_secs(300))
        .await;
    let m = lab.machine(&sid).await;
    let msg = m["status_message"].as_str().unwrap_or("");
    assert!(msg.contains("image sha256 mismatch"), "{m}");
    assert!(msg.contains(&sha), "{m}");
    // The agent powers off after signalling.
    lab.wait_powered_off(n, Duration::from_secs(60)).await;

    // The agent's output is kept as a failed installation result.
    let (res, out) = script_result(&lab, &sid, "installation", "maas-deploying.log").await;
    assert_eq!(res["status_name"], "Failed", "{res}");
    assert!(
        out.contains("MAAS-AGENT: deploying FAILED") && out.contains("sha256 mismatch"),
        "{out}"
    );
    // And as the failure's event.
    let ev = events(&lab, &sid).await;
    assert!(
        ev.iter().any(|e| e["type"] == "Failed deployment"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains("sha256 mismatch"))),
        "{ev:?}"
    );
    lab.dc.machines.clear();
    lab.r.stop().await;
}
