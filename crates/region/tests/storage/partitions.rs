//! Partitions and filesystems on partitions and whole devices.

use serde_json::Value;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_format_mount() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("parts", 2, 2048).await;
    let d = disk(&r, &sid, "sda", 100 * GB).await;
    let e = disk(&r, &sid, "sdb", 10 * GB).await;
    let (a, b) = (d["id"].as_i64().unwrap(), e["id"].as_i64().unwrap());
    let dev = format!("nodes/{sid}/blockdevices/{a}");
    let parts = format!("{dev}/partitions/");

    let (st, l) = r.admin.get(&parts, &[]).await;
    assert_eq!((st, l), (200, serde_json::json!([])));

    // Bad input first: nothing is written.
    for (form, field) in [
        (vec![("size", "1000")], "size"),
        (vec![("size", "200G")], "size"),
        (vec![("size", "ten")], "size"),
        (vec![("uuid", "not-a-uuid")], "uuid"),
    ] {
        let (st, e) = r.admin.post(&parts, &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e[field].is_array(), "{form:?}: {e}");
    }
    assert_eq!(storage_rows(&r).await, (0, 0, 0));
    let (st, _) = r
        .admin
        .post(&format!("nodes/{sid}/blockdevices/999/partitions/"), &[])
        .await;
    assert_eq!(st, 404);

    // amd64 BIOS, GPT: index 1 is bios_grub, so the first is part2; sizes
    // aligned down to 4 MiB.
    let uuid = "6b1a2b8e-4e4c-4f7e-9b5e-1f1c2d3e4f50";
    let (st, p1) = r
        .admin
        .post(
            &parts,
            &[("size", "10G"), ("uuid", uuid), ("bootable", "true")],
        )
        .await;
    assert_eq!(st, 200, "{p1}");
    check_partition(&p1);
    assert_eq!(p1["path"], "/dev/disk/by-dname/sda-part2");
    assert_eq!(p1["size"], 10 * GB / (4 * MIB) * (4 * MIB));
    assert_eq!(
        (&p1["uuid"], &p1["bootable"]),
        (&Value::from(uuid), &Value::Bool(true))
    );
    assert_eq!(p1["used_for"], "Unused");
    assert_eq!(p1["device_id"], a);
    let p1id = p1["id"].as_i64().unwrap();
    assert_eq!(
        p1["resource_uri"],
        format!("/MAAS/api/2.0/nodes/{sid}/blockdevices/{a}/partition/{p1id}")
    );
    // The rest of the disk.
    let (st, p2) = r.admin.post(&parts, &[]).await;
    assert_eq!(st, 200, "{p2}");
    assert_eq!(p2["path"], "/dev/disk/by-dname/sda-part3");
    let p2id = p2["id"].as_i64().unwrap();
    let overhead = 6 * MIB;
    let free = (100 * GB - overhead - p1["size"].as_i64().unwrap()) / (4 * MIB) * (4 * MIB);
    assert_eq!(p2["size"], free);
    // Full now.
    let before = storage_rows(&r).await;
    let (st, e) = r.admin.post(&parts, &[("size", "8M")]).await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["size"][0],
        "Partition cannot be saved; not enough free space on the block device."
    );
    assert_eq!(storage_rows(&r).await, before);

    let (st, dj) = r.admin.get(&format!("{dev}/"), &[]).await;
    assert_eq!(st, 200);
    check_device(&dj);
    assert_eq!(dj["partition_table_type"], "GPT");
    assert_eq!(dj["used_for"], "GPT partitioned with 2 partitions");
    assert_eq!(dj["partitions"].as_array().unwrap().len(), 2);
    let used = overhead + p1["size"].as_i64().unwrap() + free;
    assert_eq!(
        (dj["used_size"].as_i64(), dj["available_size"].as_i64()),
        (Some(used), Some(100 * GB - used))
    );

    // The table's type can be changed (PUT), but only where there is one.
    let (st, e) = r
        .admin
        .put(&format!("{dev}/"), &[("partition_table_type", "XYZ")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, t) = r
        .admin
        .put(&format!("{dev}/"), &[("partition_table_type", "MBR")])
        .await;
    assert_eq!((st, &t["partition_table_type"]), (200, &Value::from("MBR")));
    let (st, t) = r
        .admin
        .put(&format!("{dev}/"), &[("partition_table_type", "GPT")])
        .await;
    assert_eq!((st, &t["partition_table_type"]), (200, &Value::from("GPT")));
    let (st, e) = r
        .admin
        .put(
            &format!("nodes/{sid}/blockdevices/{b}/"),
            &[("partition_table_type", "GPT")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["partition_table_type"][0],
        "Block device has no partition table"
    );

    // A partitioned disk cannot be formatted.
    let (st, e) = r
        .admin
        .op(&format!("{dev}/"), "format", &[("fstype", "ext4")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["__all__"][0],
        "Cannot format block device with a partition table."
    );

    // Format, mount a partition (by id and by name).
    let p1u = format!("{dev}/partition/{p1id}");
    let (st, e) = r.admin.op(&p1u, "format", &[("fstype", "ntfs")]).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["fstype"].is_array());
    let (st, e) = r.admin.op(&p1u, "format", &[]).await;
    assert_eq!(
        (st, &e["fstype"][0]),
        (400, &Value::from("This field is required."))
    );
    let (st, e) = r.admin.op(&p1u, "mount", &[("mount_point", "/srv")]).await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["__all__"][0],
        "Cannot mount an unformatted partition or block device."
    );
    let (st, e) = r.admin.op(&p1u, "unformat", &[]).await;
    assert_eq!((st, e), (400, Value::from("Partition is not formatted.")));
    assert_eq!(storage_rows(&r).await.2, 0);

    let (st, f) = r
        .admin
        .op(&p1u, "format", &[("fstype", "ext4"), ("label", "data")])
        .await;
    assert_eq!(st, 200, "{f}");
    check_partition(&f);
    assert_eq!(f["filesystem"]["fstype"], "ext4");
    assert_eq!(f["filesystem"]["label"], "data");
    assert_eq!(f["filesystem"]["mount_point"], Value::Null);
    assert_eq!(f["used_for"], "Unmounted ext4 formatted filesystem");
    let (st, e) = r
        .admin
        .op(&p1u, "mount", &[("mount_point", "relative")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r.admin.op(&p1u, "mount", &[]).await;
    assert_eq!(st, 400, "{e}");
    let (st, m) = r
        .admin
        .op(
            &format!("{dev}/partition/sda-part2"),
            "mount",
            &[("mount_point", "/srv"), ("mount_options", "noatime")],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["filesystem"]["mount_point"], "/srv");
    assert_eq!(m["filesystem"]["mount_options"], "noatime");
    assert_eq!(m["used_for"], "ext4 formatted filesystem mounted at /srv");
    let (st, e) = r.admin.op(&p1u, "unformat", &[]).await;
    assert_eq!(st, 400, "{e}");
    // The machine shows it (its render cache follows the change).
    let mj = machine(&r, &sid).await;
    let md = mj["physicalblockdevice_set"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a)
        .unwrap();
    check_device(md);
    assert_eq!(md["partitions"][0]["filesystem"]["mount_point"], "/srv");

    // Swap mounts at "none".
    let p2u = format!("{dev}/partition/{p2id}");
    let (st, _) = r.admin.op(&p2u, "format", &[("fstype", "swap")]).await;
    assert_eq!(st, 200);
    let (st, s) = r.admin.op(&p2u, "mount", &[]).await;
    assert_eq!(
        (st, &s["filesystem"]["mount_point"]),
        (200, &Value::from("none"))
    );

    // Tags on partitions.
    let (st, t) = r.admin.op(&p1u, "add_tag", &[("tag", "fast")]).await;
    assert_eq!((st, &t["tags"]), (200, &serde_json::json!(["fast"])));
    let (st, t) = r.admin.op(&p1u, "remove_tag", &[("tag", "fast")]).await;
    assert_eq!((st, &t["tags"]), (200, &serde_json::json!([])));

    // Unmount, unformat.
    let (st, u) = r.admin.op(&p1u, "unmount", &[]).await;
    assert_eq!((st, &u["filesystem"]["mount_point"]), (200, &Value::Null));
    let (st, e) = r.admin.op(&p1u, "unmount", &[]).await;
    assert_eq!(
        (st, e),
        (400, Value::from("Filesystem is already unmounted."))
    );
    let (st, u) = r.admin.op(&p1u, "unformat", &[]).await;
    assert_eq!((st, &u["filesystem"]), (200, &Value::Null));

    // Delete renumbers.
    let (st, _) = r.admin.delete(&p1u).await;
    assert_eq!(st, 204);
    let (st, l) = r.admin.get(&parts, &[]).await;
    assert_eq!(st, 200);
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["path"], "/dev/disk/by-dname/sda-part2");
    assert_eq!(l[0]["filesystem"]["fstype"], "swap");
    let (st, _) = r.admin.get(&p1u, &[]).await;
    assert_eq!(st, 404);

    // A formatted disk cannot be partitioned; whole-disk format and mount.
    let sdb = format!("nodes/{sid}/blockdevices/{b}/");
    let (st, f) = r
        .admin
        .op(
            &sdb,
            "format",
            &[
                ("fstype", "xfs"),
                ("uuid", "0b1a2b8e-4e4c-4f7e-9b5e-1f1c2d3e4f51"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{f}");
    check_device(&f);
    assert_eq!(
        f["filesystem"]["uuid"],
        "0b1a2b8e-4e4c-4f7e-9b5e-1f1c2d3e4f51"
    );
    assert_eq!(f["used_for"], "Unmounted xfs formatted filesystem");
    assert_eq!(
        (f["used_size"].as_i64(), f["available_size"].as_i64()),
        (Some(10 * GB), Some(0))
    );
    let before = storage_rows(&r).await;
    let (st, e) = r
        .admin
        .post(&format!("nodes/{sid}/blockdevices/{b}/partitions/"), &[])
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(storage_rows(&r).await, before);
    let (st, m) = r.admin.op(&sdb, "mount", &[("mount_point", "/data")]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["used_for"], "xfs formatted filesystem mounted at /data");
    assert_eq!(m["filesystem"]["mount_options"], "");
    let (st, e) = r.admin.op(&sdb, "unformat", &[]).await;
    assert_eq!(st, 400, "{e}");
    let (st, _) = r.admin.op(&sdb, "unmount", &[]).await;
    assert_eq!(st, 200);
    let (st, u) = r.admin.op(&sdb, "unformat", &[]).await;
    assert_eq!(
        (st, &u["filesystem"], &u["used_for"]),
        (200, &Value::Null, &Value::from("Unused"))
    );
    let (st, e) = r.admin.op(&sdb, "unformat", &[]).await;
    assert_eq!(
        (st, e),
        (400, Value::from("Block device is not formatted."))
    );
    let (st, e) = r.admin.op(&sdb, "unmount", &[]).await;
    assert_eq!(
        (st, e),
        (400, Value::from("Block device is not formatted."))
    );
    let (st, e) = r.admin.op(&sdb, "mount", &[("mount_point", "/x")]).await;
    assert_eq!(st, 400, "{e}");

    // Deleting a disk takes its storage with it.
    let (st, _) = r.admin.delete(&format!("{dev}/")).await;
    assert_eq!(st, 204);
    assert_eq!(storage_rows(&r).await, (0, 0, 0));
}
