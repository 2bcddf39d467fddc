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

/// A root tarball is laid out by the agent, so its deployment is refused
/// (400 on `storage`, nothing changed) when the layout is one the agent
/// cannot make; a whole-disk image is not. Once it can, the task carries
/// the boot disk's partitions and every other disk the layout uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_tarballs_layout_is_checked_at_deploy_and_sent_with_its_other_disks() {
    let r = TestRegion::start().await;
    let api = &r.admin;
    let sid = machine(&r).await;
    let path = format!("machines/{sid}/");
    let disks = format!("nodes/{sid}/blockdevices/");
    let mut dev = Vec::new();
    for (name, serial) in [("sdb", "QM0002"), ("sdc", "QM0003")] {
        let (st, d) = api
            .post(
                &disks,
                &[("name", name), ("size", "2000000000"), ("serial", serial)],
            )
            .await;
        assert_eq!(st, 200, "{d}");
        dev.push(format!("{disks}{}/", d["id"]));
    }
    let (sda, _) = {
        let (_, m) = api.get(&path, &[]).await;
        let sda = m["blockdevice_set"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "sda")
            .unwrap()["id"]
            .clone();
        (format!("{disks}{sda}/"), m)
    };
    for (name, ft, content) in [("custom/rootfs", "tgz", 5), ("custom/whole", "ddraw", 6)] {
        let (st, res) = upload(
            api,
            &[
                ("name", name),
                ("architecture", "amd64/generic"),
                ("filetype", ft),
            ],
            bytes(1 << 16, content),
        )
        .await;
        assert_eq!(st, 201, "{res}");
    }
    let deploy = |series: &'static str| {
        let path = path.clone();
        async move {
            api.op(
                &path,
                "deploy",
                &[("osystem", "custom"), ("distro_series", series)],
            )
            .await
        }
    };
    let refused = |e: &Value, want: &str| {
        let msgs: Vec<&str> = e["storage"]
            .as_array()
            .unwrap_or_else(|| panic!("no storage errors: {e}"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(msgs.iter().any(|m| m.contains(want)), "{want:?} not in {e}");
    };
    let unchanged = || async {
        let (_, m) = api.get(&path, &[]).await;
        assert_eq!(m["status"], 4, "still Ready: {m}");
        assert!(m["owner"].is_null(), "{m}");
    };
    let op = |p: String, op: &'static str, form: Vec<(&'static str, &'static str)>| async move {
        let (st, e) = api.op(&p, op, &form).await;
        assert_eq!(st, 200, "{op} {p}: {e}");
        e
    };
    // sdb formatted as a whole at /data, nothing at /.
    op(dev[0].clone(), "format", vec![("fstype", "ext4")]).await;
    op(dev[0].clone(), "mount", vec![("mount_point", "/data")]).await;
    let (st, e) = deploy("rootfs").await;
    assert_eq!(st, 400, "{e}");
    refused(
        &e,
        "Mount the root '/' filesystem to be able to deploy this node.",
    );
    unchanged().await;
    // The root on another disk than the boot disk.
    let (st, p) = api
        .post(&format!("{}partitions/", dev[1]), &[("size", "1G")])
        .await;
    assert_eq!(st, 200, "{p}");
    let sdc1 = format!("{}partition/{}", dev[1], p["id"]);
    op(sdc1.clone(), "format", vec![("fstype", "ext4")]).await;
    op(sdc1.clone(), "mount", vec![("mount_point", "/")]).await;
    let (st, e) = deploy("rootfs").await;
    assert_eq!(st, 400, "{e}");
    refused(&e, "must be on a partition of the boot disk (sda)");
    unchanged().await;
    // A whole-disk image brings its own partitions: not checked.
    let (st, e) = deploy("whole").await;
    assert_eq!(st, 200, "{e}");
    assert_eq!(
        task(&r, &sid).await["deploy"]["image"]["filetype"],
        "root-dd.raw"
    );
    let (st, e) = api.op(&path, "release", &[]).await;
    assert_eq!(st, 200, "{e}");
    r.force_status(&sid, 4).await;
    // The root on the boot disk, but xfs on sdc: the agent cannot make it.
    let (st, p) = api.post(&format!("{sda}partitions/"), &[]).await;
    assert_eq!(st, 200, "{p}");
    let sda1 = format!("{sda}partition/{}", p["id"]);
    op(sda1.clone(), "format", vec![("fstype", "ext4")]).await;
    op(sda1.clone(), "mount", vec![("mount_point", "/")]).await;
    op(sdc1.clone(), "unmount", vec![]).await;
    op(sdc1.clone(), "unformat", vec![]).await;
    op(sdc1.clone(), "format", vec![("fstype", "xfs")]).await;
    op(sdc1.clone(), "mount", vec![("mount_point", "/data/logs")]).await;
    let (st, e) = deploy("rootfs").await;
    assert_eq!(st, 400, "{e}");
    refused(&e, "The xfs filesystem on sdc-part");
    unchanged().await;
    // ext4 there: deployed, and the task says what goes on each disk.
    op(sdc1.clone(), "unmount", vec![]).await;
    op(sdc1.clone(), "unformat", vec![]).await;
    op(
        sdc1.clone(),
        "format",
        vec![("fstype", "ext4"), ("label", "logs")],
    )
    .await;
    op(sdc1.clone(), "mount", vec![("mount_point", "/data/logs")]).await;
    let (st, e) = deploy("rootfs").await;
    assert_eq!(st, 200, "{e}");
    let t = task(&r, &sid).await;
    let s = &t["deploy"]["storage"];
    assert_eq!(t["deploy"]["image"]["filetype"], "root-tgz", "{t}");
    assert_eq!(s["partitions"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["partitions"][0]["mount_point"], "/", "{s}");
    assert_eq!(s["partition_table_type"], "GPT", "{s}");
    let others = s["disks"].as_array().unwrap();
    let names: Vec<(&str, &str)> = others
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["serial"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("sdb", "QM0002"), ("sdc", "QM0003")], "{s}");
    let sdb = &others[0];
    assert_eq!(sdb["filesystem"]["fstype"], "ext4", "{s}");
    assert_eq!(sdb["filesystem"]["mount_point"], "/data", "{s}");
    assert_eq!(sdb["partitions"], serde_json::json!([]), "{s}");
    assert!(sdb["size"].as_u64().unwrap() >= 1_999_000_000, "{s}");
    let sdc = &others[1];
    assert!(sdc["filesystem"].is_null(), "{s}");
    let p = &sdc["partitions"][0];
    assert_eq!(
        (
            p["fstype"].as_str(),
            p["mount_point"].as_str(),
            p["label"].as_str()
        ),
        (Some("ext4"), Some("/data/logs"), Some("logs")),
        "{s}"
    );
    assert!(p["size"].as_u64().unwrap() > 900_000_000, "{s}");
    assert_eq!(sdc["partition_table_type"], "GPT", "{s}");
}

/// The deployed OS's network for a bond with a VLAN on it: the members
/// matched by MAC and renamed with no addresses of their own, the bond
/// with MAAS's bond parameters in netplan's words (LACP rate and hash
/// policy only where the mode uses them), its static link and default
/// route, and the VLAN on the bond with its own address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_task_configures_bonds_and_vlans_as_netplan_does() {
    let r = TestRegion::start().await;
    let api = &r.admin;
    let sid = machine(&r).await;
    let path = format!("machines/{sid}/");
    let base = format!("nodes/{sid}/interfaces/");
    let (_, list) = api.get(&base, &[]).await;
    let eno1 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "eno1")
        .unwrap()
        .clone();
    let vlan = eno1["vlan"]["id"].to_string();
    let fabric = eno1["vlan"]["fabric_id"].to_string();
    let (st, eno2) = api
        .op(
            &base,
            "create_physical",
            &[
                ("mac_address", "52:54:00:09:00:06"),
                ("name", "eno2"),
                ("vlan", &vlan),
            ],
        )
        .await;
    assert_eq!(st, 200, "{eno2}");
    let bond_of = |mode: &'static str| {
        let (base, e1, e2) = (base.clone(), eno1["id"].to_string(), eno2["id"].to_string());
        async move {
            let (st, b) = api
                .op(
                    &base,
                    "create_bond",
                    &[
                        ("name", "bond0"),
                        ("parents", &e1),
                        ("parents", &e2),
                        ("bond_mode", mode),
                        ("bond_lacp_rate", "fast"),
                        ("bond_xmit_hash_policy", "layer3+4"),
                        ("bond_updelay", "200"),
                    ],
                )
                .await;
            assert_eq!(st, 200, "{b}");
            b
        }
    };
    let bond = bond_of("802.3ad").await;
    let (st, tagged) = api
        .post(&format!("fabrics/{fabric}/vlans/"), &[("vid", "100")])
        .await;
    assert_eq!(st, 200, "{tagged}");
    let (st, sub) = api
        .post(
            "subnets/",
            &[
                ("cidr", "10.10.0.0/24"),
                ("vlan", &tagged["id"].to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{sub}");
    let (st, v) = api
        .op(
            &base,
            "create_vlan",
            &[
                ("vlan", &tagged["id"].to_string()),
                ("parent", &bond["id"].to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, l) = api
        .op(
            &format!("{base}{}/", v["id"]),
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &sub["id"].to_string()),
                ("ip_address", "10.10.0.7"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    let (st, e) = api.op(&path, "deploy", &[]).await;
    assert_eq!(st, 200, "{e}");
    let net = task(&r, &sid).await["deploy"]["network"].clone();
    for (name, mac) in [("eno1", "52:54:00:09:00:05"), ("eno2", "52:54:00:09:00:06")] {
        let e = &net["ethernets"][name];
        assert_eq!(e["match"]["macaddress"], mac, "{net}");
        assert_eq!(e["set-name"], name, "{net}");
        assert!(e.get("addresses").is_none(), "a member has none: {net}");
    }
    let b = &net["bonds"]["bond0"];
    assert_eq!(
        b["interfaces"],
        serde_json::json!(["eno1", "eno2"]),
        "{net}"
    );
    assert_eq!(b["macaddress"], "52:54:00:09:00:05", "{net}");
    assert_eq!(
        b["parameters"],
        serde_json::json!({"mode": "802.3ad", "mii-monitor-interval": 100, "up-delay": 200,
                           "lacp-rate": "fast", "transmit-hash-policy": "layer3+4"}),
        "{net}"
    );
    assert_eq!(b["addresses"], serde_json::json!(["10.9.0.5/24"]), "{net}");
    assert_eq!(b["routes"][0]["via"], "10.9.0.1", "{net}");
    let v = &net["vlans"]["bond0.100"];
    assert_eq!(
        (v["id"].as_i64(), v["link"].as_str()),
        (Some(100), Some("bond0")),
        "{net}"
    );
    assert_eq!(v["addresses"], serde_json::json!(["10.10.0.7/24"]), "{net}");
    assert!(v.get("routes").is_none(), "one default route: {net}");

    // active-backup: the LACP rate and hash policy stay out.
    let (st, e) = api.op(&path, "release", &[]).await;
    assert_eq!(st, 200, "{e}");
    r.force_status(&sid, 4).await;
    let (st, e) = api
        .put(
            &format!("{base}{}/", bond["id"]),
            &[("bond_mode", "active-backup")],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = api.op(&path, "deploy", &[]).await;
    assert_eq!(st, 200, "{e}");
    let net = task(&r, &sid).await["deploy"]["network"].clone();
    assert_eq!(
        net["bonds"]["bond0"]["parameters"],
        serde_json::json!({"mode": "active-backup", "mii-monitor-interval": 100, "up-delay": 200}),
        "{net}"
    );
}
