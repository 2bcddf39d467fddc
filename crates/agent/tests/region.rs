//! The agent's commissioning, testing and erasing steps against a real
//! in-process region, with the `qemu-vm` fixture tree as the machine and
//! temp files as its disks.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use maas_agent::Env;
use maas_agent::cmdline::{Cmdline, Creds, Purpose};
use maas_agent::run::{After, run};
use maas_testkit::{TestRegion, tempdir};
use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qemu-vm")
}

/// A machine with the fixture's boot NIC, named `eth0` at enlistment.
async fn machine(r: &TestRegion, hostname: &str) -> String {
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64/generic"),
                ("mac_addresses", "52:54:00:12:34:56"),
                ("hostname", hostname),
                ("power_type", "manual"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    m["system_id"].as_str().unwrap().to_string()
}

async fn creds(r: &TestRegion, sid: &str) -> Creds {
    let (st, t) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "get_token", &[])
        .await;
    assert_eq!(st, 200, "{t}");
    Creds {
        consumer_key: t["consumer_key"].as_str().unwrap().into(),
        token_key: t["token_key"].as_str().unwrap().into(),
        token_secret: t["token_secret"].as_str().unwrap().into(),
    }
}

/// Disks as temp files (4 MiB of 0xFF each), named as the fixture's.
fn disks(dir: &tempdir::Dir) -> PathBuf {
    let dev = dir.0.join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    for d in ["sda", "vda"] {
        std::fs::write(dev.join(d), vec![0xFFu8; 4 << 20]).unwrap();
    }
    dev
}

/// Run the agent as the booted machine would, on a blocking thread.
async fn boot(r: &TestRegion, sid: &str, purpose: Purpose, dev: PathBuf) -> After {
    let cmd = Cmdline {
        maas_url: Some(format!("{}/metadata/", r.url())),
        purpose: Some(purpose),
        system_id: Some(sid.to_string()),
        creds: Some(creds(r, sid).await),
        ..Cmdline::default()
    };
    let env = Env {
        root: fixture(),
        dev,
        console: None,
        patience: Duration::from_secs(5),
        tools: false,
        memtest_mib: 4,
        transcript: Default::default(),
    };
    tokio::task::spawn_blocking(move || run(&env, &cmd))
        .await
        .unwrap()
        .expect("the agent runs")
}

async fn machine_json(r: &TestRegion, sid: &str) -> Value {
    let (st, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(st, 200, "{m}");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commissioning_uploads_the_inventory_and_the_machine_is_ready() {
    let r = TestRegion::start().await;
    let sid = machine(&r, "agent1").await;
    let (st, b) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(r.status_of(&sid).await, 1);
    let dir = tempdir::Dir::new();
    let after = boot(&r, &sid, Purpose::Commissioning, disks(&dir)).await;
    assert_eq!(after, After::PowerOff);

    let m = machine_json(&r, &sid).await;
    assert_eq!(m["status_name"], "Ready", "{m}");
    assert_eq!(m["cpu_count"], 2);
    assert_eq!(m["memory"], 768);
    assert_eq!(m["cpu_speed"], 2995);
    // The fixture's DMI strings under MAAS's names; what it lacks is Unknown.
    let hw = &m["hardware_info"];
    assert_eq!(hw["system_vendor"], "QEMU", "{hw}");
    assert_eq!(hw["system_product"], "Standard PC (i440FX + PIIX, 1996)");
    assert_eq!(hw["mainboard_serial"], "Unknown");
    assert_ne!(hw["cpu_model"], "Unknown", "{hw}");
    let disks = m["blockdevice_set"].as_array().unwrap();
    let vda = disks.iter().find(|d| d["name"] == "vda").expect("vda");
    assert_eq!(vda["size"], 1u64 << 30);
    assert_eq!(vda["serial"], "disk-serial-1");
    assert_eq!(vda["id_path"], "/dev/disk/by-id/virtio-disk-serial-1");
    assert_eq!(vda["tags"][0], "ssd");
    let sda = disks.iter().find(|d| d["name"] == "sda").expect("sda");
    assert_eq!(sda["tags"][0], "rotary");
    assert_eq!(sda["model"], "QEMU HARDDISK");

    // The enlisted NIC is renamed and updated by MAC; the second is added.
    let ifaces = m["interface_set"].as_array().unwrap();
    assert_eq!(ifaces.len(), 2, "{ifaces:?}");
    let ens3 = ifaces
        .iter()
        .find(|i| i["mac_address"] == "52:54:00:12:34:56")
        .unwrap();
    assert_eq!(ens3["name"], "ens3");
    assert_eq!(ens3["link_connected"], true);
    let ens4 = ifaces
        .iter()
        .find(|i| i["mac_address"] == "52:54:00:ab:cd:ef")
        .expect("the second NIC appears");
    assert_eq!(ens4["name"], "ens4");
    assert_eq!(ens4["link_connected"], false);
    assert_eq!(ens4["interface_speed"], 1000);
    assert_eq!(ens4["type"], "physical");

    let names: Vec<String> = sqlx::query_scalar(
        "SELECT s.name FROM script_results s JOIN machines m ON m.id = s.machine_id
          WHERE m.system_id = $1 AND s.status = 2 ORDER BY s.name",
    )
    .bind(&sid)
    .fetch_all(r.db())
    .await
    .unwrap();
    assert_eq!(names, ["hardware.json", "maas-lldp"]);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_zeroes_every_disk_and_the_machine_is_ready() {
    let r = TestRegion::start().await;
    let sid = machine(&r, "agent2").await;
    r.force_status(&sid, 14).await; // Disk erasing
    let dir = tempdir::Dir::new();
    let dev = disks(&dir);
    let after = boot(&r, &sid, Purpose::Erasing, dev.clone()).await;
    assert_eq!(after, After::PowerOff);
    for d in ["sda", "vda"] {
        let data = std::fs::read(dev.join(d)).unwrap();
        assert_eq!(data.len(), 4 << 20);
        assert!(data.iter().all(|b| *b == 0), "{d} is zeroed");
    }
    assert_eq!(r.status_of(&sid).await, 4);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_signals_failed_with_its_error() {
    let r = TestRegion::start().await;
    let sid = machine(&r, "agent3").await;
    r.force_status(&sid, 14).await;
    let dir = tempdir::Dir::new();
    let dev = disks(&dir);
    std::fs::remove_file(dev.join("vda")).unwrap();
    let after = boot(&r, &sid, Purpose::Erasing, dev).await;
    assert_eq!(after, After::PowerOff);
    let m = machine_json(&r, &sid).await;
    assert_eq!(m["status_name"], "Failed disk erasing", "{m}");
    let msg = m["error_description"].as_str().unwrap();
    assert!(msg.contains("vda"), "{msg}");
    // The step's output is kept as a failed result (type Release).
    let (st, sets) = r
        .admin
        .get(
            &format!("nodes/{sid}/results/"),
            &[("include_output", "true"), ("type", "release")],
        )
        .await;
    assert_eq!(st, 200, "{sets}");
    let res = &sets[0]["results"][0];
    assert_eq!(
        (res["name"].as_str(), res["status_name"].as_str()),
        (Some("maas-erasing.log"), Some("Failed")),
        "{sets}"
    );
    let out = base64::engine::general_purpose::STANDARD
        .decode(res["output"].as_str().unwrap())
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("MAAS-AGENT: erasing FAILED") && out.contains("vda"),
        "{out}"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_skips_disks_without_smart_and_checks_memory() {
    let r = TestRegion::start().await;
    let sid = machine(&r, "agent4").await;
    r.force_status(&sid, 21).await; // Testing
    let dir = tempdir::Dir::new();
    let after = boot(&r, &sid, Purpose::Testing, disks(&dir)).await;
    assert_eq!(after, After::PowerOff);
    assert_eq!(r.status_of(&sid).await, 4);
    let out: Vec<u8> = sqlx::query_scalar(
        "SELECT s.output FROM script_results s JOIN machines m ON m.id = s.machine_id
          WHERE m.system_id = $1 AND s.name = 'maas-tests.json'",
    )
    .bind(&sid)
    .fetch_one(r.db())
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["disks"][0]["status"], "skipped");
    assert_eq!(v["disks"][0]["read"], "passed");
    assert_eq!(v["memory"]["status"], "passed");
    // Each test is its own result, passed (2) — a skipped SMART check too.
    let results: Vec<(String, i16)> = sqlx::query_as(
        "SELECT s.name, s.status FROM script_results s JOIN machines m ON m.id = s.machine_id
          WHERE m.system_id = $1 AND s.result_type = 2 ORDER BY s.name",
    )
    .bind(&sid)
    .fetch_all(r.db())
    .await
    .unwrap();
    let want = [
        "disk-read-sda",
        "disk-read-vda",
        "maas-tests.json",
        "memtest",
        "smartctl-sda",
        "smartctl-vda",
    ];
    assert_eq!(
        results,
        want.iter().map(|n| (n.to_string(), 2)).collect::<Vec<_>>()
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enlistment_creates_the_machine_with_every_physical_mac() {
    let r = TestRegion::start().await;
    let cmd = Cmdline {
        maas_url: Some(format!("{}/metadata/", r.url())),
        purpose: Some(Purpose::Enlist),
        ..Cmdline::default()
    };
    let dir = tempdir::Dir::new();
    let env = Env {
        root: fixture(),
        dev: disks(&dir),
        console: None,
        patience: Duration::from_secs(5),
        tools: false,
        memtest_mib: 4,
        transcript: Default::default(),
    };
    let out = tokio::task::spawn_blocking(move || run(&env, &cmd))
        .await
        .unwrap();
    let (st, list) = r.admin.get("machines/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let m = &list[0];
    assert_eq!(m["architecture"], "amd64/generic");
    let mut macs: Vec<&str> = m["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mac_address"].as_str().unwrap())
        .collect();
    macs.sort();
    assert_eq!(macs, ["52:54:00:12:34:56", "52:54:00:ab:cd:ef"]);
    // Without credentials for the boot the machine powers off; with them
    // (a region with get_preseed) it commissions in the same boot.
    assert_eq!(out.unwrap(), After::PowerOff);
    if m["status_name"] == "Ready" {
        let (_, full) = r
            .admin
            .get(
                &format!("machines/{}/", m["system_id"].as_str().unwrap()),
                &[],
            )
            .await;
        assert_eq!(full["cpu_count"], 2, "{full}");
    }
    r.stop().await;
}

/// The links on the machine's interfaces, as `(interface, mode)`.
async fn links(r: &TestRegion, sid: &str) -> Vec<(String, String)> {
    let m = machine_json(r, sid).await;
    let mut out = Vec::new();
    for i in m["interface_set"].as_array().unwrap() {
        for l in i["links"].as_array().unwrap() {
            out.push((
                i["name"].as_str().unwrap().to_string(),
                l["mode"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

async fn partitions_of_vda(r: &TestRegion, sid: &str) -> usize {
    let m = machine_json(r, sid).await;
    let disks = m["blockdevice_set"].as_array().unwrap();
    let vda = disks.iter().find(|d| d["name"] == "vda").expect("vda");
    vda["partitions"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commission_options_keep_storage_and_links_and_keep_the_machine_up_for_ssh() {
    let r = TestRegion::start().await;
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBI3kIEC2SSHk86JbdIfkuREKpMsWsL/MFyfHgFaqFhS admin@desk";
    let (st, b) = r
        .admin
        .post("account/prefs/sshkeys/", &[("key", key)])
        .await;
    assert_eq!(st, 200, "{b}");
    let sid = machine(&r, "options").await;
    let dir = tempdir::Dir::new();
    let path = format!("machines/{sid}/");
    assert_eq!(r.admin.op(&path, "commission", &[]).await.0, 200);
    assert_eq!(
        boot(&r, &sid, Purpose::Commissioning, disks(&dir)).await,
        After::PowerOff
    );

    // Configure what a recommission could take away: a partition on vda
    // and a link on ens3.
    let m = machine_json(&r, &sid).await;
    let vda = m["blockdevice_set"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "vda")
        .unwrap()["id"]
        .clone();
    let (st, p) = r
        .admin
        .post(
            &format!("nodes/{sid}/blockdevices/{vda}/partitions/"),
            &[("size", "100000000")],
        )
        .await;
    assert_eq!(st, 200, "{p}");
    let (st, s) = r.admin.post("subnets/", &[("cidr", "10.9.0.0/24")]).await;
    assert_eq!(st, 200, "{s}");
    let ens3 = m["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "ens3")
        .unwrap()["id"]
        .clone();
    let (st, i) = r
        .admin
        .put(
            &format!("nodes/{sid}/interfaces/{ens3}/"),
            &[("vlan", &s["vlan"]["id"].to_string())],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    let (st, l) = r
        .admin
        .op(
            &format!("nodes/{sid}/interfaces/{ens3}/"),
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &s["id"].to_string()),
                ("ip_address", "10.9.0.5"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    let kept = vec![("ens3".to_string(), "static".to_string())];
    assert_eq!(links(&r, &sid).await, kept);
    assert_eq!(partitions_of_vda(&r, &sid).await, 1);

    // Skipping both keeps both; enable_ssh gives the requester's keys to
    // the environment and keeps it up once commissioning is done.
    let (st, b) = r
        .admin
        .op(
            &path,
            "commission",
            &[
                ("enable_ssh", "1"),
                ("skip_storage", "1"),
                ("skip_networking", "1"),
                ("skip_bmc_config", "1"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let node = maas_testkit::node_api(&r, &sid).await;
    let (st, task) = node.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(st, 200, "{task}");
    assert_eq!(
        (task["enable_ssh"].clone(), task["skip_bmc_config"].clone()),
        (true.into(), true.into())
    );
    let (_, keys) = node
        .get("/MAAS/metadata/latest/meta-data/public-keys", &[])
        .await;
    assert_eq!(keys, key);
    assert_eq!(
        boot(&r, &sid, Purpose::Commissioning, disks(&dir)).await,
        After::Stay
    );
    assert_eq!(r.status_of(&sid).await, 4);
    assert_eq!(links(&r, &sid).await, kept);
    assert_eq!(partitions_of_vda(&r, &sid).await, 1);

    // Without options: the links go when commissioning starts (the
    // environment gets no keys), the disks are replaced with the inventory's.
    assert_eq!(r.admin.op(&path, "commission", &[]).await.0, 200);
    assert!(links(&r, &sid).await.is_empty());
    let (_, task) = node.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(task["enable_ssh"], false);
    let (_, keys) = node
        .get("/MAAS/metadata/latest/meta-data/public-keys", &[])
        .await;
    assert_eq!(keys, "");
    assert_eq!(
        boot(&r, &sid, Purpose::Commissioning, disks(&dir)).await,
        After::PowerOff
    );
    assert_eq!(r.status_of(&sid).await, 4);
    assert_eq!(partitions_of_vda(&r, &sid).await, 0);

    // Testing takes enable_ssh too.
    let (st, b) = r.admin.op(&path, "test", &[("enable_ssh", "true")]).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        boot(&r, &sid, Purpose::Testing, disks(&dir)).await,
        After::Stay
    );
    r.stop().await;
}
