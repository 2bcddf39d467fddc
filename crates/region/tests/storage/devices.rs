//! Block devices: read, update, tags, boot disk, delete; allocation sees
//! the changes.

use serde_json::Value;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_devices_read_update_tag_delete() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("disky", 2, 2048).await;
    let sda = disk(&r, &sid, "sda", 100 * GB).await;
    let sdb = disk(&r, &sid, "sdb", 50 * GB).await;
    assert_eq!(sda["used_for"], "Unused");
    assert_eq!(sda["path"], "/dev/disk/by-dname/sda");
    assert_eq!(sda["type"], "physical");
    assert_eq!(sda["available_size"], 100 * GB);
    assert_eq!(sda["uuid"], Value::Null);
    assert_eq!(sda["firmware_version"], Value::Null);
    let (a, b) = (sda["id"].as_i64().unwrap(), sdb["id"].as_i64().unwrap());
    let base = format!("nodes/{sid}/blockdevices");

    let (st, list) = r.admin.get(&format!("{base}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    list.as_array().unwrap().iter().for_each(check_device);
    let (st, one) = r.admin.get(&format!("{base}/{a}/"), &[]).await;
    assert_eq!((st, &one["name"]), (200, &Value::from("sda")));
    let (st, by_name) = r.admin.get(&format!("{base}/sdb/"), &[]).await;
    assert_eq!((st, by_name["id"].as_i64()), (200, Some(b)));
    let (st, e) = r.admin.get(&format!("{base}/99999/"), &[]).await;
    assert_eq!(st, 404, "{e}");
    assert_eq!(e, "No BlockDevice matches the given query.");

    // The machine shows its disks; the first is the boot disk.
    let m = machine(&r, &sid).await;
    assert_eq!(m["boot_disk"]["id"], a);
    assert_eq!(m["physicalblockdevice_set"].as_array().unwrap().len(), 2);
    assert_eq!(m["blockdevice_set"].as_array().unwrap().len(), 2);
    for k in [
        "volume_groups",
        "raids",
        "cache_sets",
        "bcaches",
        "special_filesystems",
    ] {
        assert_eq!(m[k], Value::Array(vec![]), "{k}");
    }
    m["physicalblockdevice_set"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(check_device);
    check_device(&m["boot_disk"]);

    // set_boot_disk: MAAS answers a plain OK.
    let (st, ok) = r
        .admin
        .op(&format!("{base}/{b}/"), "set_boot_disk", &[])
        .await;
    assert_eq!((st, ok), (200, Value::from("OK")));
    assert_eq!(machine(&r, &sid).await["boot_disk"]["id"], b);

    // Update (Ready: every field).
    let (st, u) = r
        .admin
        .put(
            &format!("{base}/{a}/"),
            &[
                ("name", "vda"),
                ("model", "M2"),
                ("size", "20G"),
                ("id_path", "/dev/vda"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    check_device(&u);
    assert_eq!(
        (&u["name"], &u["model"], &u["size"], &u["id_path"]),
        (
            &Value::from("vda"),
            &Value::from("M2"),
            &Value::from(20 * GB),
            &Value::from("/dev/vda")
        )
    );
    let (st, e) = r
        .admin
        .put(&format!("{base}/{a}/"), &[("name", "sdb")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r
        .admin
        .put(&format!("{base}/{a}/"), &[("size", "1000")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["size"].is_array(), "{e}");

    // Tags.
    let (st, t) = r
        .admin
        .op(&format!("{base}/{a}/"), "add_tag", &[("tag", "ssd")])
        .await;
    assert_eq!((st, &t["tags"]), (200, &serde_json::json!(["ssd"])));
    let (st, t) = r
        .admin
        .op(&format!("{base}/{a}/"), "add_tag", &[("tag", "ssd")])
        .await;
    assert_eq!((st, &t["tags"]), (200, &serde_json::json!(["ssd"])));
    let (st, e) = r.admin.op(&format!("{base}/{a}/"), "add_tag", &[]).await;
    assert_eq!((st, e), (400, Value::from("No provided tag!")));
    let (st, t) = r
        .admin
        .op(&format!("{base}/{a}/"), "remove_tag", &[("tag", "ssd")])
        .await;
    assert_eq!((st, &t["tags"]), (200, &serde_json::json!([])));

    // Non-admins: may read, may not change.
    let alice = r.user("carol", false).await;
    let (st, _) = alice.get(&format!("{base}/"), &[]).await;
    assert_eq!(st, 200);
    let (st, _) = alice
        .post(&format!("{base}/"), &[("name", "sdz"), ("size", "10G")])
        .await;
    assert_eq!(st, 403);
    let (st, _) = alice.delete(&format!("{base}/{a}/")).await;
    assert_eq!(st, 403);
    let (st, _) = alice
        .op(&format!("{base}/{a}/"), "add_tag", &[("tag", "x")])
        .await;
    assert_eq!(st, 403);
    let (st, _) = alice.put(&format!("{base}/{a}/"), &[("name", "zz")]).await;
    assert_eq!(st, 403);

    // Deployed: name/model/serial/id_path only; no delete, no tags.
    r.force_status(&sid, 6).await;
    let (st, u) = r
        .admin
        .put(
            &format!("{base}/{a}/"),
            &[("serial", "NEW"), ("size", "30G")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (&u["serial"], &u["size"]),
        (&Value::from("NEW"), &Value::from(20 * GB))
    );
    let (st, e) = r.admin.delete(&format!("{base}/{a}/")).await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(
        e,
        "Cannot delete block device because the machine is not Ready."
    );
    let (st, _) = r
        .admin
        .op(&format!("{base}/{a}/"), "add_tag", &[("tag", "x")])
        .await;
    assert_eq!(st, 409);
    let (st, _) = r
        .admin
        .op(&format!("{base}/{a}/"), "set_boot_disk", &[])
        .await;
    assert_eq!(st, 409);
    r.force_status(&sid, 10).await;
    let (st, _) = r.admin.put(&format!("{base}/{a}/"), &[("name", "x")]).await;
    assert_eq!(st, 409);
    r.force_status(&sid, 4).await;

    let (st, _) = r.admin.delete(&format!("{base}/{a}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get(&format!("{base}/{a}/"), &[]).await;
    assert_eq!(st, 404);
    let m = machine(&r, &sid).await;
    assert_eq!(m["physicalblockdevice_set"].as_array().unwrap().len(), 1);
    assert_eq!(m["boot_disk"]["id"], b);
    assert_eq!(m["storage"].as_f64(), Some(50_000.0));
    let (st, _) = r.admin.get("nodes/xxxxxx/blockdevices/", &[]).await;
    assert_eq!(st, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocation_sees_block_device_changes() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("alloc", 2, 2048).await;
    let d = disk(&r, &sid, "sda", 10 * GB).await;
    let a = d["id"].as_i64().unwrap();
    let (st, _) = r
        .admin
        .op(
            "machines/",
            "allocate",
            &[("storage", "root:20"), ("dry_run", "true")],
        )
        .await;
    assert_eq!(st, 409);
    let (st, u) = r
        .admin
        .put(
            &format!("nodes/{sid}/blockdevices/{a}/"),
            &[("size", "50G")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    // The root must be the boot disk: a bigger second disk is not it until
    // it is chosen.
    let big = disk(&r, &sid, "sdb", 200 * GB).await;
    let dry = [("storage", "root:100"), ("dry_run", "true")];
    let (st, _) = r.admin.op("machines/", "allocate", &dry).await;
    assert_eq!(st, 409);
    let bu = format!("nodes/{sid}/blockdevices/{}/", big["id"]);
    let (st, _) = r.admin.op(&bu, "set_boot_disk", &[]).await;
    assert_eq!(st, 200);
    let (st, m) = r.admin.op("machines/", "allocate", &dry).await;
    assert_eq!(st, 200, "{m}");
    let (st, _) = r
        .admin
        .op(
            &format!("nodes/{sid}/blockdevices/{a}/"),
            "set_boot_disk",
            &[],
        )
        .await;
    assert_eq!(st, 200);
    let (st, m) = r
        .admin
        .op("machines/", "allocate", &[("storage", "root:20")])
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], sid);
    assert!(
        m["constraints_by_type"]["storage"]["root"].is_array(),
        "{m}"
    );
}
