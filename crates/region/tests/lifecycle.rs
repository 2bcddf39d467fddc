//! Lifecycle against a real PostgreSQL: every (from, to) status write through
//! the single writer, every action from every status through the API, the
//! deadline worker, and the metadata `signal` API.

use maas_testkit as common;

use common::{TestRegion, node_api, signal};
use maas_model::{Action, NodeStatus};
use maas_region::services::lifecycle;

#[tokio::test]
async fn every_transition_is_checked_and_recorded() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("t1", 2, 2048).await;
    for from in NodeStatus::ALL {
        for to in NodeStatus::ALL {
            r.force_status(&sid, from.as_i16()).await;
            let events_before = r.count("SELECT count(*) FROM events").await;
            let mut tx = r.db().begin().await.unwrap();
            let mut core = lifecycle::lock(&mut tx, &sid).await.unwrap();
            let res = lifecycle::transition(&mut tx, &mut core, *to, Some("admin"), "test").await;
            if from.can_transition_to(*to) {
                res.unwrap_or_else(|e| panic!("{from:?} -> {to:?} refused: {e}"));
                tx.commit().await.unwrap();
                assert_eq!(r.status_of(&sid).await, to.as_i16() as i64);
                assert_eq!(
                    r.count("SELECT count(*) FROM events").await,
                    events_before + 1
                );
                let expires: Option<chrono::DateTime<chrono::Utc>> =
                    sqlx::query_scalar("SELECT status_expires FROM machines WHERE system_id = $1")
                        .bind(&sid)
                        .fetch_one(r.db())
                        .await
                        .unwrap();
                assert_eq!(
                    expires.is_some(),
                    to.deadline_minutes(30).is_some(),
                    "{to:?}"
                );
            } else {
                assert!(res.is_err(), "{from:?} -> {to:?} must be refused");
                tx.rollback().await.unwrap();
                assert_eq!(r.status_of(&sid).await, from.as_i16() as i64);
                assert_eq!(r.count("SELECT count(*) FROM events").await, events_before);
            }
        }
    }
}

/// What the machine's status should be after `action` from `s` (manual power,
/// no previous status recorded).
fn expected_after(action: Action, s: NodeStatus) -> NodeStatus {
    use NodeStatus::*;
    match action {
        Action::Release => Ready, // manual power: released at once
        Action::ExitRescueMode => Ready,
        Action::MarkFixed | Action::OverrideFailedTesting => Ready,
        Action::Abort if s == Testing => Ready,
        Action::Lock | Action::Unlock | Action::PowerOn | Action::PowerOff => s,
        a => a.first_target(s).unwrap(),
    }
}

#[tokio::test]
async fn every_action_from_every_status() {
    let r = TestRegion::start().await;
    let admin_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(r.db())
        .await
        .unwrap();
    let mut n = 0;
    for action in Action::ALL {
        for s in NodeStatus::ALL {
            n += 1;
            let sid = r.ready_machine(&format!("m{n}"), 1, 1024).await;
            let owner = if *s == NodeStatus::Ready {
                None
            } else {
                Some(admin_id)
            };
            sqlx::query("UPDATE machines SET status = $2, owner_id = $3 WHERE system_id = $1")
                .bind(&sid)
                .bind(s.as_i16())
                .bind(owner)
                .execute(r.db())
                .await
                .unwrap();
            let (st, body) = r
                .admin
                .op(&format!("machines/{sid}/"), action.op(), &[])
                .await;
            let allowed = action.allowed_from(*s) && *action != Action::Unlock;
            if allowed {
                assert_eq!(st, 200, "{action:?} from {s:?}: {body}");
                let want = expected_after(*action, *s);
                assert_eq!(body["status"], want.as_i16(), "{action:?} from {s:?}");
                assert_eq!(body["status_name"], want.label());
            } else {
                assert_eq!(st, 409, "{action:?} from {s:?} must be refused: {body}");
                assert_eq!(
                    r.status_of(&sid).await,
                    s.as_i16() as i64,
                    "nothing written"
                );
            }
        }
    }
}

#[tokio::test]
async fn lock_blocks_changes_until_unlocked() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("locky", 2, 2048).await;
    let path = format!("machines/{sid}/");
    assert_eq!(r.admin.op(&path, "deploy", &[]).await.0, 200);
    let (st, m) = r.admin.op(&path, "lock", &[("comment", "prod")]).await;
    assert_eq!((st, m["locked"].as_bool()), (200, Some(true)));
    assert_eq!(r.admin.op(&path, "lock", &[]).await.0, 409);
    assert_eq!(r.admin.op(&path, "release", &[]).await.0, 409);
    assert_eq!(r.admin.op(&path, "power_off", &[]).await.0, 409);
    assert_eq!(r.admin.put(&path, &[("hostname", "other")]).await.0, 409);
    assert_eq!(r.admin.delete(&path).await.0, 409);
    assert_eq!(r.status_of(&sid).await, 9);
    let (st, m) = r.admin.op(&path, "unlock", &[]).await;
    assert_eq!((st, m["locked"].as_bool()), (200, Some(false)));
    let (st, m) = r.admin.op(&path, "release", &[]).await;
    assert_eq!((st, m["status_name"].as_str()), (200, Some("Ready")));
    assert!(m["owner"].is_null());
}

#[tokio::test]
async fn deploy_records_os_and_release_clears_it() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("dep", 2, 2048).await;
    let path = format!("machines/{sid}/");
    // base64 of "#cloud-config\n"
    let (st, m) = r
        .admin
        .op(
            &path,
            "deploy",
            &[
                ("distro_series", "ubuntu/noble"),
                ("user_data", "I2Nsb3VkLWNvbmZpZwo="),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["status_name"], "Deploying");
    assert_eq!(m["osystem"], "ubuntu");
    assert_eq!(m["distro_series"], "noble");
    assert_eq!(m["owner"], "admin");
    let (st, e) = r.admin.op(&path, "deploy", &[]).await;
    assert_eq!(st, 409, "{e}");
    let (st, m) = r.admin.op(&path, "release", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(m["distro_series"], "");
    // Bad user data is refused and nothing is written.
    let sid2 = r.ready_machine("dep2", 2, 2048).await;
    let (st, e) = r
        .admin
        .op(
            &format!("machines/{sid2}/"),
            "deploy",
            &[("user_data", "%%%not base64")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(r.status_of(&sid2).await, 4);
}

#[tokio::test]
async fn release_with_erase_and_bmc_power_stay_in_progress() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("eraser", 2, 2048).await;
    let path = format!("machines/{sid}/");
    r.admin.op(&path, "deploy", &[]).await;
    let (st, m) = r.admin.op(&path, "release", &[("erase", "true")]).await;
    assert_eq!(st, 200);
    assert_eq!(m["status_name"], "Disk erasing");
    // An IPMI machine waits in Releasing for its BMC (no rack yet).
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64"),
                ("mac_addresses", &common::random_mac()),
                ("power_type", "ipmi"),
                ("power_parameters_power_address", "10.0.0.5"),
                ("power_parameters_power_pass", "s3cret"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sid = m["system_id"].as_str().unwrap().to_string();
    r.force_status(&sid, 4).await;
    r.admin.op(&format!("machines/{sid}/"), "deploy", &[]).await;
    let (_, m) = r
        .admin
        .op(&format!("machines/{sid}/"), "release", &[])
        .await;
    assert_eq!(m["status_name"], "Releasing");
    let (_, ev) = r.admin.get_op("events/", "query", &[("id", &sid)]).await;
    let texts: Vec<String> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("waiting for a rack controller")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn overdue_machines_fail_by_the_worker() {
    let r =
        TestRegion::start_with(|o| o.status_interval = std::time::Duration::from_millis(200)).await;
    let sid = r.ready_machine("slow", 2, 2048).await;
    let (st, m) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(
        (st, m["status_name"].as_str()),
        (200, Some("Commissioning"))
    );
    // Not yet due: nothing happens.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(r.status_of(&sid).await, 1);
    sqlx::query(
        "UPDATE machines SET status_expires = now() - interval '1 second' WHERE system_id = $1",
    )
    .bind(&sid)
    .execute(r.db())
    .await
    .unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = r.status_of(&sid).await;
        if status == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 2, "FAILED_COMMISSIONING after the deadline");
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert!(
        m["error_description"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{m}"
    );
    // node_timeout drives the deadline length.
    r.admin
        .op(
            "maas/",
            "set_config",
            &[("name", "node_timeout"), ("value", "90")],
        )
        .await;
    let sid2 = r.ready_machine("slow2", 2, 2048).await;
    r.admin
        .op(&format!("machines/{sid2}/"), "commission", &[])
        .await;
    let mins: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM status_expires - now())::float8 / 60 FROM machines WHERE system_id = $1",
    )
    .bind(&sid2)
    .fetch_one(r.db())
    .await
    .unwrap();
    assert!((89.0..=90.1).contains(&mins), "{mins}");
}

#[tokio::test]
async fn signals_complete_commissioning_testing_and_deployment() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("sig", 1, 512).await;
    let path = format!("machines/{sid}/");
    let node = node_api(&r, &sid).await;
    // Not in a signalling status.
    assert_eq!(signal(&node, &[("status", "OK")], None).await.0, 409);
    // A node token is no API key.
    assert_eq!(node.get("machines/", &[]).await.0, 403);
    r.admin.op(&path, "commission", &[]).await;
    let (st, _) = signal(&node, &[("status", "WORKING")], None).await;
    assert_eq!(st, 200);
    assert_eq!(r.status_of(&sid).await, 1);
    let inv = br#"{"cpu_count": 16, "memory": 65536, "disks": [{"name": "sda", "size": 500000000000, "tags": ["ssd"]}]}"#;
    let (st, b) = signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.to_vec())),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (_, m) = r.admin.get(&path, &[]).await;
    assert_eq!(m["status_name"], "Ready");
    assert_eq!(m["cpu_count"], 16);
    assert_eq!(m["memory"], 65536);
    assert_eq!(m["blockdevice_set"][0]["name"], "sda");
    assert_eq!(m["blockdevice_set"][0]["tags"][0], "ssd");
    // Failed commissioning.
    r.admin.op(&path, "commission", &[]).await;
    signal(
        &node,
        &[("status", "FAILED"), ("error", "disk on fire")],
        None,
    )
    .await;
    let (_, m) = r.admin.get(&path, &[]).await;
    assert_eq!(m["status_name"], "Failed commissioning");
    assert_eq!(m["error_description"], "disk on fire");
    // A failing script result fails an OK signal too.
    r.admin.op(&path, "commission", &[]).await;
    signal(
        &node,
        &[("status", "OK"), ("exit_status", "1")],
        Some(("smartctl", b"bad".to_vec())),
    )
    .await;
    assert_eq!(r.status_of(&sid).await, 2);
    // Testing from Ready returns to Ready; failure → Failed testing.
    r.force_status(&sid, 4).await;
    r.admin.op(&path, "test", &[]).await;
    signal(&node, &[("status", "OK")], None).await;
    assert_eq!(r.status_of(&sid).await, 4);
    r.admin.op(&path, "test", &[]).await;
    signal(&node, &[("status", "FAILED")], None).await;
    assert_eq!(r.status_of(&sid).await, 22);
    let (st, m) = r.admin.op(&path, "override_failed_testing", &[]).await;
    assert_eq!((st, m["status"].as_i64()), (200, Some(4)));
    // Deployment: the deployed OS fetching its user data marks it deployed.
    r.admin
        .op(&path, "deploy", &[("user_data", "aGVsbG8=")])
        .await;
    let (st, body) = node.get("/MAAS/metadata/latest/user-data", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(body, "hello");
    assert_eq!(r.status_of(&sid).await, 6);
    // Deploy failure via signal.
    r.admin.op(&path, "release", &[]).await;
    r.admin.op(&path, "deploy", &[]).await;
    signal(
        &node,
        &[("status", "FAILED"), ("error", "curtin failed")],
        None,
    )
    .await;
    assert_eq!(r.status_of(&sid).await, 11);
    // Rescue mode.
    r.admin.op(&path, "rescue_mode", &[]).await;
    assert_eq!(r.status_of(&sid).await, 17);
    signal(&node, &[("status", "OK")], None).await;
    assert_eq!(r.status_of(&sid).await, 16);
    let (_, m) = r.admin.op(&path, "exit_rescue_mode", &[]).await;
    assert_eq!(
        m["status_name"], "Failed deployment",
        "back to the status before rescue"
    );
    // Bad signals.
    assert_eq!(signal(&node, &[("status", "MAYBE")], None).await.0, 400);
    assert_eq!(signal(&node, &[], None).await.0, 400);
    let stranger = common::Api::new(&r.url(), Some("a:b:c".into()));
    assert_eq!(signal(&stranger, &[("status", "OK")], None).await.0, 401);
    assert_eq!(signal(&r.admin, &[("status", "OK")], None).await.0, 403);
    // Metadata items.
    let (_, id) = node
        .get("/MAAS/metadata/latest/meta-data/instance-id", &[])
        .await;
    assert_eq!(id, sid.as_str());
}

#[tokio::test]
async fn deploy_puts_owner_keys_in_metadata() {
    let r = TestRegion::start().await;
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbR0G7v1y7l2uK0dC0yqyI1T4gWqI2m7a1Tt4bI5yTQ alice@laptop";
    let (st, b) = r
        .alice
        .post("account/prefs/sshkeys/", &[("key", key)])
        .await;
    assert_eq!(st, 200, "{b}");
    let sid = r.ready_machine("keys", 1, 512).await;
    let (st, b) = r.alice.op(&format!("machines/{sid}/"), "deploy", &[]).await;
    assert_eq!(st, 200, "{b}");
    let node = node_api(&r, &sid).await;
    let (_, keys) = node
        .get("/MAAS/metadata/latest/meta-data/public-keys", &[])
        .await;
    assert_eq!(keys, key);
}

#[tokio::test]
async fn rescue_mode_of_an_unowned_machine_gives_the_requesting_admins_keys() {
    let r = TestRegion::start().await;
    let admin_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBI3kIEC2SSHk86JbdIfkuREKpMsWsL/MFyfHgFaqFhS admin@desk";
    let alice_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbR0G7v1y7l2uK0dC0yqyI1T4gWqI2m7a1Tt4bI5yTQ alice@laptop";
    for (who, key) in [(&r.admin, admin_key), (&r.alice, alice_key)] {
        let (st, b) = who.post("account/prefs/sshkeys/", &[("key", key)]).await;
        assert_eq!(st, 200, "{b}");
    }
    let sid = r.ready_machine("rescued", 1, 512).await;
    let path = format!("machines/{sid}/");
    let node = node_api(&r, &sid).await;
    let keys = || async {
        let (st, k) = node
            .get("/MAAS/metadata/latest/meta-data/public-keys", &[])
            .await;
        assert_eq!(st, 200, "{k}");
        k
    };
    // Ready and unowned: nobody's keys.
    assert_eq!(keys().await, "");
    let (st, m) = r.admin.op(&path, "rescue_mode", &[]).await;
    assert_eq!(st, 200, "{m}");
    assert!(m["owner"].is_null(), "{m}");
    assert_eq!(keys().await, admin_key, "entering rescue mode");
    signal(&node, &[("status", "OK")], None).await;
    assert_eq!(keys().await, admin_key, "in rescue mode");
    let (_, m) = r.admin.op(&path, "exit_rescue_mode", &[]).await;
    assert_eq!(m["status_name"], "Ready", "{m}");
    assert_eq!(keys().await, "", "rescue is over");
    // An owned machine in rescue mode keeps its owner's keys.
    let (st, b) = r.alice.op(&path, "deploy", &[]).await;
    assert_eq!(st, 200, "{b}");
    node.get("/MAAS/metadata/latest/user-data", &[]).await;
    assert_eq!(r.status_of(&sid).await, 6, "deployed");
    let (st, m) = r.admin.op(&path, "rescue_mode", &[]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(keys().await, alice_key);
}

#[tokio::test]
async fn the_deploy_task_carries_the_boot_disks_layout() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("laid", 1, 512).await;
    let path = format!("machines/{sid}/");
    let (st, d) = r
        .admin
        .post(
            &format!("nodes/{sid}/blockdevices/"),
            &[("name", "sda"), ("size", "8000000000"), ("serial", "S1")],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let dev = format!("nodes/{sid}/blockdevices/{}", d["id"]);
    let node = node_api(&r, &sid).await;
    let task_storage = || async {
        let (st, b) = r.alice.op(&path, "deploy", &[]).await;
        assert_eq!(st, 200, "{b}");
        let (st, task) = node.get("/MAAS/metadata/latest/maas-task", &[]).await;
        assert_eq!(st, 200, "{task}");
        let (st, b) = r.admin.op(&path, "release", &[]).await;
        assert_eq!(st, 200, "{b}");
        r.force_status(&sid, 4).await;
        task["deploy"]["storage"].clone()
    };
    // No root on the boot disk: null (the agent's own flat layout).
    assert!(task_storage().await.is_null());
    // A layout made through the API: partitions in order, with their
    // filesystems and mount points.
    let mut ids = Vec::new();
    for (size, fstype, mp) in [("2G", "ext4", "/"), ("", "ext4", "/srv")] {
        let form: Vec<(&str, &str)> = if size.is_empty() {
            vec![]
        } else {
            vec![("size", size)]
        };
        let (st, p) = r.admin.post(&format!("{dev}/partitions/"), &form).await;
        assert_eq!(st, 200, "{p}");
        let pu = format!("{dev}/partition/{}", p["id"]);
        let (st, e) = r
            .admin
            .op(&pu, "format", &[("fstype", fstype), ("label", "lbl")])
            .await;
        assert_eq!(st, 200, "{e}");
        let (st, e) = r.admin.op(&pu, "mount", &[("mount_point", mp)]).await;
        assert_eq!(st, 200, "{e}");
        ids.push(p["size"].as_i64().unwrap());
    }
    let s = task_storage().await;
    let parts = s["partitions"].as_array().unwrap();
    let shape: Vec<(i64, &str, &str)> = parts
        .iter()
        .map(|p| {
            (
                p["size"].as_i64().unwrap(),
                p["fstype"].as_str().unwrap(),
                p["mount_point"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![(ids[0], "ext4", "/"), (ids[1], "ext4", "/srv")],
        "{s}"
    );
    assert_eq!(parts[0]["label"], "lbl");
    // The flat layout of a BIOS machine: one ext4 root.
    let (st, e) = r
        .admin
        .op(&path, "set_storage_layout", &[("storage_layout", "flat")])
        .await;
    assert_eq!(st, 200, "{e}");
    let s = task_storage().await;
    assert_eq!(s["partitions"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["partitions"][0]["mount_point"], "/", "{s}");
}

/// Read the credentials out of a preseed (the agent's view of it).
fn creds_of(preseed: &str) -> String {
    let field = |k: &str| {
        preseed
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{k}: ")))
            .unwrap_or_else(|| panic!("{k} in {preseed}"))
            .to_string()
    };
    format!(
        "{}:{}:{}",
        field("consumer_key"),
        field("token_key"),
        field("token_secret")
    )
}

#[tokio::test]
async fn an_enlisted_machine_commissions_in_its_enlistment_boot() {
    let r = TestRegion::start().await;
    let enlist = |mac: &'static str| {
        let anon = &r.anon;
        async move {
            let (st, m) = anon
                .post(
                    "machines/",
                    &[("architecture", "amd64/generic"), ("mac_addresses", mac)],
                )
                .await;
            assert_eq!((st, m["status"].as_i64()), (200, Some(0)), "{m}");
            m["system_id"].as_str().unwrap().to_string()
        }
    };
    let sid = enlist("52:54:00:00:01:01").await;
    // The anonymous preseed carries the machine's token and where the
    // machine reached us (through a rack: X-Forwarded-Host).
    let preseed_path = format!("/MAAS/metadata/latest/by-id/{sid}/");
    let (st, p) = r
        .anon
        .send(
            r.anon
                .http
                .get(r.anon.url(&preseed_path))
                .query(&[("op", "get_preseed")])
                .header("X-Forwarded-Host", "10.9.0.1:5248"),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    let p = p.as_str().unwrap().to_string();
    assert!(
        p.contains("metadata_url: http://10.9.0.1:5248/MAAS/metadata/"),
        "{p}"
    );
    let node = maas_testkit::Api::new(&r.url(), Some(creds_of(&p)));
    assert_eq!(
        node.get("/MAAS/metadata/latest/meta-data/instance-id", &[])
            .await,
        (200, serde_json::Value::String(sid.clone()))
    );
    // Its first signal starts commissioning; OK with an inventory: Ready.
    assert_eq!(signal(&node, &[("status", "WORKING")], None).await.0, 200);
    assert_eq!(r.status_of(&sid).await, 1, "commissioning");
    let inv = br#"{"cpu_count": 2, "memory": 768}"#.to_vec();
    let (st, b) = signal(&node, &[("status", "OK")], Some(("hardware.json", inv))).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(r.status_of(&sid).await, 4, "ready");
    // A Ready machine boots nothing: no token for anyone who asks.
    let (st, _) = r.anon.get(&preseed_path, &[("op", "get_preseed")]).await;
    assert_eq!(st, 403);
    // A machine that was not enlisted (an admin added it) gets none while NEW.
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64/generic"),
                ("mac_addresses", "52:54:00:00:01:03"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let added = m["system_id"].as_str().unwrap();
    let (st, _) = r
        .anon
        .get(
            &format!("/MAAS/metadata/latest/by-id/{added}/"),
            &[("op", "get_preseed")],
        )
        .await;
    assert_eq!(st, 403);
    let (st, _) = r
        .anon
        .get(
            "/MAAS/metadata/latest/by-id/nosuch/",
            &[("op", "get_preseed")],
        )
        .await;
    assert_eq!(st, 404);
    let (st, e) = r
        .anon
        .get(
            "/MAAS/metadata/latest/enlist-preseed/",
            &[("op", "get_enlist_preseed")],
        )
        .await;
    assert_eq!(st, 200);
    assert!(e.as_str().unwrap().contains("metadata_url: http://"), "{e}");

    // With enlist_commissioning off, commissioning in the enlistment boot
    // leaves the machine NEW for an admin to accept.
    let (st, _) = r
        .admin
        .op(
            "maas/",
            "set_config",
            &[("name", "enlist_commissioning"), ("value", "false")],
        )
        .await;
    assert_eq!(st, 200);
    let sid2 = enlist("52:54:00:00:01:02").await;
    let (_, p) = r
        .anon
        .get(
            &format!("/MAAS/metadata/latest/by-id/{sid2}/"),
            &[("op", "get_preseed")],
        )
        .await;
    let node2 = maas_testkit::Api::new(&r.url(), Some(creds_of(p.as_str().unwrap())));
    assert_eq!(signal(&node2, &[("status", "OK")], None).await.0, 200);
    assert_eq!(r.status_of(&sid2).await, 0, "back to NEW");
    // Enlistment is over: the NEW machine gets no token any more.
    let (st, _) = r
        .anon
        .get(
            &format!("/MAAS/metadata/latest/by-id/{sid2}/"),
            &[("op", "get_preseed")],
        )
        .await;
    assert_eq!(st, 403);
    r.stop().await;
}

/// MAAS's initial networking: commissioning leaves the interface that
/// leased an address linked AUTO to the leased subnet (on its VLAN); the
/// deployment claims it an address there, which the boot task's netplan
/// carries. A machine whose network was already configured keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commissioning_links_the_leased_interface_auto_and_deploy_addresses_it() {
    let r = TestRegion::start().await;
    let (st, s) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "10.231.0.0/24"), ("gateway_ip", "10.231.0.1")],
        )
        .await;
    assert_eq!(st, 200, "{s}");
    let sid = r.ready_machine("autolink", 1, 512).await;
    let path = format!("machines/{sid}/");
    let (_, m) = r.admin.get(&path, &[]).await;
    let mac = m["interface_set"][0]["mac_address"]
        .as_str()
        .unwrap()
        .to_string();
    // The rack reported the lease it gave during the commissioning boot.
    sqlx::query(
        "INSERT INTO dhcp_leases (ip, mac, subnet_id, expires)
         SELECT '10.231.0.50', $1, s.id, now() + interval '10 minutes'
           FROM subnets s WHERE s.cidr = '10.231.0.0/24'",
    )
    .bind(mac.to_ascii_lowercase())
    .execute(r.db())
    .await
    .unwrap();
    // A rack serves the subnet from 10.231.0.2: no machine gets that.
    sqlx::query(
        "WITH r AS (INSERT INTO racks (system_id, hostname) VALUES ('rk1', 'rack1') RETURNING id)
         INSERT INTO rack_interfaces (rack_id, name, addresses)
         SELECT id, 'eth0', ARRAY['10.231.0.2/24', 'not an address'] FROM r",
    )
    .execute(r.db())
    .await
    .unwrap();
    let node = node_api(&r, &sid).await;
    r.admin.op(&path, "commission", &[]).await;
    let (st, b) = signal(&node, &[("status", "OK")], None).await;
    assert_eq!(st, 200, "{b}");
    let (_, m) = r.admin.get(&path, &[]).await;
    let iface = &m["interface_set"][0];
    assert_eq!(iface["vlan"]["id"], s["vlan"]["id"], "{iface}");
    let links = iface["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{iface}");
    assert_eq!(links[0]["mode"], "auto");
    assert_eq!(links[0]["subnet"]["cidr"], "10.231.0.0/24");
    assert!(
        links[0].get("ip_address").is_none_or(|v| v.is_null()),
        "{iface}"
    );

    // Deploying claims the address; the agent's task carries it.
    r.admin.op(&path, "deploy", &[]).await;
    let (_, m) = r.admin.get(&path, &[]).await;
    let ip = m["interface_set"][0]["links"][0]["ip_address"]
        .as_str()
        .expect("an AUTO address at deploy")
        .to_string();
    assert!(ip.starts_with("10.231.0."), "{ip}");
    assert_ne!(ip, "10.231.0.2", "the rack's own address was handed out");
    let (st, task) = node.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(st, 200, "{task}");
    let eth = task["deploy"]["network"]["ethernets"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(eth["addresses"][0], format!("{ip}/24"), "{task}");

    // Commissioning again leaves configured links alone.
    r.admin.op(&path, "release", &[]).await;
    r.force_status(&sid, 4).await;
    r.admin.op(&path, "commission", &[]).await;
    signal(&node, &[("status", "OK")], None).await;
    let (_, m) = r.admin.get(&path, &[]).await;
    assert_eq!(m["interface_set"][0]["links"].as_array().unwrap().len(), 1);
}
