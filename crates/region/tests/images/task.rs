use maas_testkit::{TestRegion, node_api};
use serde_json::Value;

use crate::{bytes, sha, upload};

async fn task(r: &TestRegion, sid: &str) -> Value {
    let node = node_api(r, sid).await;
    let (st, t) = node.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(st, 200, "{t}");
    t
}

/// A machine with a static address on 10.9.0.0/24 and a boot disk.
async fn machine(r: &TestRegion) -> String {
    let api = &r.admin;
    let sid = r.ready_machine("deployme", 2, 4096).await;
    let (st, s) = api
        .post(
            "subnets/",
            &[
                ("cidr", "10.9.0.0/24"),
                ("gateway_ip", "10.9.0.1"),
                ("dns_servers", "10.9.0.53"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{s}");
    let vlan = s["vlan"]["id"].to_string();
    let (st, i) = api
        .op(
            &format!("nodes/{sid}/interfaces/"),
            "create_physical",
            &[
                ("mac_address", "52:54:00:09:00:05"),
                ("name", "eno1"),
                ("vlan", &vlan),
            ],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    let (st, l) = api
        .op(
            &format!("nodes/{sid}/interfaces/{}/", i["id"]),
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &s["id"].to_string()),
                ("ip_address", "10.9.0.5"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    let (st, d) = api
        .post(
            &format!("nodes/{sid}/blockdevices/"),
            &[
                ("name", "sda"),
                ("size", "8000000000"),
                ("serial", "QM0001"),
                ("id_path", "/dev/disk/by-id/ata-QM0001"),
                ("model", "QEMU"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    sid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploying_task_names_image_disk_network_and_credentials() {
    let r = TestRegion::start().await;
    let sid = machine(&r).await;
    let path = format!("machines/{sid}/");
    // No such image: 400 naming it, before anything changes.
    let (st, e) = r
        .admin
        .op(
            &path,
            "deploy",
            &[("osystem", "custom"), ("distro_series", "tiny")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e.to_string().contains("custom/tiny"), "{e}");
    let (_, m) = r.admin.get(&path, &[]).await;
    assert_eq!(
        (m["status"].as_i64(), m["osystem"].as_str()),
        (Some(4), Some("")),
        "{m}"
    );
    assert!(m["owner"].is_null(), "{m}");

    let data = bytes(1 << 20, 5);
    let (st, res) = upload(
        &r.admin,
        &[
            ("name", "custom/tiny"),
            ("architecture", "amd64/generic"),
            ("filetype", "ddraw"),
        ],
        data.clone(),
    )
    .await;
    assert_eq!(st, 201, "{res}");
    let (st, e) = r
        .admin
        .op(
            &path,
            "deploy",
            &[("osystem", "custom"), ("distro_series", "tiny")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let t = task(&r, &sid).await;
    assert_eq!(t["purpose"], "deploying", "{t}");
    assert_eq!(
        (t["system_id"].as_str(), t["hostname"].as_str()),
        (Some(sid.as_str()), Some("deployme"))
    );
    let d = &t["deploy"];
    assert_eq!(
        (d["osystem"].as_str(), d["distro_series"].as_str()),
        (Some("custom"), Some("tiny"))
    );
    let digest = sha(&data);
    assert_eq!(d["image"]["url"], format!("/images/{digest}"), "{t}");
    assert_eq!(d["image"]["sha256"], digest.as_str());
    assert_eq!(d["image"]["size"], data.len() as u64);
    assert_eq!(d["image"]["filetype"], "root-dd.raw");
    assert_eq!(d["disk"]["name"], "sda", "{t}");
    assert_eq!(d["disk"]["serial"], "QM0001");
    assert_eq!(d["disk"]["id_path"], "/dev/disk/by-id/ata-QM0001");
    assert_eq!(d["disk"]["size"], 8000000000u64);
    let eno1 = &d["network"]["ethernets"]["eno1"];
    assert_eq!(eno1["match"]["macaddress"], "52:54:00:09:00:05", "{t}");
    assert_eq!(eno1["set-name"], "eno1");
    assert_eq!(eno1["addresses"], serde_json::json!(["10.9.0.5/24"]), "{t}");
    assert_eq!(eno1["routes"][0]["via"], "10.9.0.1", "{t}");
    assert_eq!(eno1["nameservers"]["addresses"][0], "10.9.0.53", "{t}");
    assert_eq!(eno1["dhcp4"], false);
    assert_eq!(d["network"]["version"], 2);
    // The credentials are the machine's own token.
    let node = node_api(&r, &sid).await;
    let key = node.key.clone().unwrap();
    let ds = &d["datasource"];
    let creds = format!(
        "{}:{}:{}",
        ds["consumer_key"].as_str().unwrap(),
        ds["token_key"].as_str().unwrap(),
        ds["token_secret"].as_str().unwrap()
    );
    assert_eq!(creds, key);
    assert!(
        ds["metadata_url"]
            .as_str()
            .unwrap()
            .ends_with("/MAAS/metadata/"),
        "{t}"
    );
    // A user's key is not a node token; no token at all is 401.
    let (st, _) = r.admin.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(st, 403);
    let (st, _) = r.anon.get("/MAAS/metadata/latest/maas-task", &[]).await;
    assert_eq!(st, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_and_other_purposes() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("eraseme", 2, 4096).await;
    let path = format!("machines/{sid}/");
    assert_eq!(task(&r, &sid).await["purpose"], "none");
    // Deploying the default OS needs no uploaded image while none of that
    // osystem exists.
    let (st, e) = r.admin.op(&path, "deploy", &[]).await;
    assert_eq!(st, 200, "{e}");
    r.force_status(&sid, 6).await; // Deployed
    let (st, e) = r
        .admin
        .op(
            &path,
            "release",
            &[("erase", "true"), ("quick_erase", "true")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let t = task(&r, &sid).await;
    assert_eq!(t["purpose"], "erasing", "{t}");
    assert_eq!(
        t["erase"],
        serde_json::json!({"quick": true, "secure": false})
    );
    assert!(t.get("deploy").is_none());
    r.force_status(&sid, 1).await; // Commissioning
    assert_eq!(task(&r, &sid).await["purpose"], "commissioning");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_osystem_with_uploads_needs_its_series_uploaded() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("ub", 2, 4096).await;
    let (st, _) = upload(
        &r.admin,
        &[
            ("name", "ubuntu/noble"),
            ("architecture", "amd64/generic"),
            ("filetype", "ddgz"),
        ],
        bytes(1000, 1),
    )
    .await;
    assert_eq!(st, 201);
    let path = format!("machines/{sid}/");
    let (st, e) = r
        .admin
        .op(
            &path,
            "deploy",
            &[("osystem", "ubuntu"), ("distro_series", "jammy")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e.to_string().contains("ubuntu/jammy"), "{e}");
    assert_eq!(r.status_of(&sid).await, 4);
    let (st, e) = r
        .admin
        .op(
            &path,
            "deploy",
            &[("osystem", "ubuntu"), ("distro_series", "noble")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let t = task(&r, &sid).await;
    assert_eq!(t["deploy"]["image"]["filetype"], "root-dd.gz", "{t}");
}
