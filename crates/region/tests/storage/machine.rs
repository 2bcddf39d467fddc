//! Machine-wide: status and permission rules, layouts, special
//! filesystems, the storage groups listed empty, describe.

use serde_json::Value;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_permissions() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("perm", 2, 2048).await;
    let d = disk(&r, &sid, "sda", 100 * GB).await;
    let a = d["id"].as_i64().unwrap();
    let dev = format!("nodes/{sid}/blockdevices/{a}/");
    let alice = r.user("carol", false).await;
    let bob = r.user("dave", false).await;

    // Ready: formatting is the admin's.
    let (st, e) = alice.op(&dev, "format", &[("fstype", "ext4")]).await;
    assert_eq!(st, 403, "{e}");
    let (st, _) = alice.post(&format!("{dev}partitions/"), &[]).await;
    assert_eq!(st, 403);
    assert_eq!(storage_rows(&r).await, (0, 0, 0));

    // Allocated to alice: she may format and mount, bob may not.
    let (st, m) = alice.op("machines/", "allocate", &[("name", "perm")]).await;
    assert_eq!(st, 200, "{m}");
    let (st, f) = alice.op(&dev, "format", &[("fstype", "ext4")]).await;
    assert_eq!(st, 200, "{f}");
    let (st, f) = alice.op(&dev, "mount", &[("mount_point", "/")]).await;
    assert_eq!(
        (st, &f["filesystem"]["mount_point"]),
        (200, &Value::from("/"))
    );
    let (st, _) = bob.op(&dev, "unmount", &[]).await;
    assert_eq!(st, 403);
    let (st, _) = bob.op(&dev, "format", &[("fstype", "xfs")]).await;
    assert_eq!(st, 403);
    // Partitions need a Ready machine.
    let (st, e) = r.admin.post(&format!("{dev}partitions/"), &[]).await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(e, "Cannot create partition because the node is not Ready.");
    // The allocated machine's JSON shows the mount for Juju.
    let (st, m) = alice.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(m["boot_disk"]["filesystem"]["mount_point"], "/");

    // Deployed: no formatting at all.
    r.force_status(&sid, 6).await;
    let (st, e) = r.admin.op(&dev, "unmount", &[]).await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(
        e,
        "Cannot unmount block device because the machine is not Ready or Allocated."
    );
    let (st, _) = r.admin.op(&dev, "format", &[("fstype", "xfs")]).await;
    assert_eq!(st, 409);
    let (st, _) = r
        .admin
        .op(
            &format!("machines/{sid}/"),
            "set_storage_layout",
            &[("storage_layout", "flat")],
        )
        .await;
    assert_eq!(st, 409);
    let (st, _) = r
        .admin
        .op(
            &format!("machines/{sid}/"),
            "restore_storage_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 409);
    let (st, _) = alice
        .op(
            &format!("machines/{sid}/"),
            "mount_special",
            &[("fstype", "tmpfs"), ("mount_point", "/tmp")],
        )
        .await;
    assert_eq!(st, 409);
    let (st, _) = bob
        .op(
            &format!("machines/{sid}/"),
            "mount_special",
            &[("fstype", "tmpfs"), ("mount_point", "/tmp")],
        )
        .await;
    assert_eq!(st, 403);
    assert_eq!(storage_rows(&r).await.2, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layouts_and_special_filesystems() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("lay", 2, 2048).await;
    let mu = format!("machines/{sid}/");
    // No disk: no layout.
    let (st, e) = r
        .admin
        .op(&mu, "set_storage_layout", &[("storage_layout", "flat")])
        .await;
    assert_eq!(
        (st, e),
        (
            400,
            Value::from("Machine is missing a boot disk; no storage layout can be applied.")
        )
    );
    let d = disk(&r, &sid, "sda", 100 * GB).await;
    disk(&r, &sid, "sdb", 10 * GB).await;
    let a = d["id"].as_i64().unwrap();

    for (form, st_want) in [
        (vec![], 400),
        (vec![("storage_layout", "weird")], 400),
        (vec![("storage_layout", "lvm")], 400),
        (vec![("storage_layout", "bcache")], 400),
    ] {
        let (st, e) = r.admin.op(&mu, "set_storage_layout", &form).await;
        assert_eq!(st, st_want, "{form:?}: {e}");
    }
    let (_, e) = r
        .admin
        .op(&mu, "set_storage_layout", &[("storage_layout", "lvm")])
        .await;
    assert!(
        e.as_str().unwrap().contains("'lvm'") && e.as_str().unwrap().contains("not supported"),
        "{e}"
    );
    let alice = r.user("carol", false).await;
    let (st, _) = alice
        .op(&mu, "set_storage_layout", &[("storage_layout", "flat")])
        .await;
    assert_eq!(st, 403);
    assert_eq!(storage_rows(&r).await, (0, 0, 0));

    // Flat on a BIOS machine: one ext4 root partition (part2) on the boot disk.
    let (st, m) = r
        .admin
        .op(&mu, "set_storage_layout", &[("storage_layout", "flat")])
        .await;
    assert_eq!(st, 200, "{m}");
    let boot = &m["boot_disk"];
    check_device(boot);
    assert_eq!(boot["id"], a);
    assert_eq!(boot["partition_table_type"], "GPT");
    let ps = boot["partitions"].as_array().unwrap();
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0]["path"], "/dev/disk/by-dname/sda-part2");
    assert_eq!(ps[0]["size"], (100 * GB - 6 * MIB) / (4 * MIB) * (4 * MIB));
    assert_eq!(ps[0]["filesystem"]["fstype"], "ext4");
    assert_eq!(ps[0]["filesystem"]["label"], "root");
    assert_eq!(ps[0]["filesystem"]["mount_point"], "/");
    assert_eq!(storage_rows(&r).await, (1, 1, 1));

    // UEFI: an EFI system partition first.
    sqlx::query("UPDATE machines SET bios_boot_method = 'uefi' WHERE system_id = $1")
        .bind(&sid)
        .execute(r.db())
        .await
        .unwrap();
    let (st, m) = r
        .admin
        .op(&mu, "set_storage_layout", &[("storage_layout", "flat")])
        .await;
    assert_eq!(st, 200, "{m}");
    let ps = m["boot_disk"]["partitions"].as_array().unwrap().clone();
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert_eq!(ps[0]["path"], "/dev/disk/by-dname/sda-part1");
    assert_eq!(ps[0]["size"], 512 * MIB);
    assert_eq!(ps[0]["bootable"], true);
    assert_eq!(ps[0]["filesystem"]["fstype"], "fat32");
    assert_eq!(ps[0]["filesystem"]["mount_point"], "/boot/efi");
    assert_eq!(ps[1]["path"], "/dev/disk/by-dname/sda-part2");
    assert_eq!(ps[1]["filesystem"]["mount_point"], "/");
    assert_eq!(
        ps[1]["size"],
        (100 * GB - 5 * MIB - 512 * MIB) / (4 * MIB) * (4 * MIB)
    );
    assert_eq!(storage_rows(&r).await, (1, 2, 2));

    // Special filesystems.
    let (st, e) = r
        .admin
        .op(
            &mu,
            "mount_special",
            &[("fstype", "ext4"), ("mount_point", "/tmp")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r
        .admin
        .op(&mu, "mount_special", &[("fstype", "tmpfs")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, m) = r
        .admin
        .op(
            &mu,
            "mount_special",
            &[
                ("fstype", "tmpfs"),
                ("mount_point", "/tmp"),
                ("mount_options", "size=1G"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sf = m["special_filesystems"].as_array().unwrap();
    assert_eq!(sf.len(), 1);
    check_fs(&sf[0]);
    assert_eq!(
        (&sf[0]["fstype"], &sf[0]["mount_point"]),
        (&Value::from("tmpfs"), &Value::from("/tmp"))
    );
    let (st, e) = r
        .admin
        .op(&mu, "unmount_special", &[("mount_point", "/nope")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, m) = r
        .admin
        .op(&mu, "unmount_special", &[("mount_point", "/tmp")])
        .await;
    assert_eq!(
        (st, &m["special_filesystems"]),
        (200, &serde_json::json!([]))
    );

    // Blank clears everything; restore brings the default (flat) back.
    let (st, m) = r
        .admin
        .op(&mu, "set_storage_layout", &[("storage_layout", "blank")])
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["boot_disk"]["partitions"], serde_json::json!([]));
    assert_eq!(storage_rows(&r).await, (0, 0, 0));
    let (st, m) = r.admin.op(&mu, "restore_storage_configuration", &[]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["boot_disk"]["partitions"].as_array().unwrap().len(), 2);
    let (st, m) = r.admin.op(&mu, "restore_default_configuration", &[]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(storage_rows(&r).await, (1, 2, 2));
    let (st, _) = alice.op(&mu, "restore_storage_configuration", &[]).await;
    assert_eq!(st, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_groups_and_describe() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("groups", 2, 2048).await;
    for (coll, item) in [
        ("volume-groups", "volume-group"),
        ("raids", "raid"),
        ("bcaches", "bcache"),
        ("bcache-cache-sets", "bcache-cache-set"),
        ("vmfs-datastores", "vmfs-datastore"),
    ] {
        let (st, l) = r.admin.get(&format!("nodes/{sid}/{coll}/"), &[]).await;
        assert_eq!((st, l), (200, serde_json::json!([])), "{coll}");
        let (st, e) = r
            .admin
            .post(&format!("nodes/{sid}/{coll}/"), &[("name", "x")])
            .await;
        assert_eq!(st, 400, "{coll}: {e}");
        assert!(
            e.as_str()
                .unwrap()
                .contains("not supported by this region yet"),
            "{e}"
        );
        let (st, _) = r.admin.get(&format!("nodes/{sid}/{item}/1/"), &[]).await;
        assert_eq!(st, 404, "{item}");
        let (st, _) = r.admin.get(&format!("nodes/zzzzzz/{coll}/"), &[]).await;
        assert_eq!(st, 404, "{coll}");
    }
    let (st, d) = r.admin.get("describe/", &[]).await;
    assert_eq!(st, 200);
    let names: Vec<&str> = d["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    for h in [
        "BlockDevicesHandler",
        "BlockDeviceHandler",
        "PartitionsHandler",
        "PartitionHandler",
        "VolumeGroupsHandler",
        "RaidsHandler",
        "BcachesHandler",
        "BcacheCacheSetsHandler",
        "VmfsDatastoresHandler",
    ] {
        assert!(names.contains(&h), "{h} in describe");
    }
    let machine = d["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "MachineHandler")
        .unwrap();
    let ops: Vec<&str> = machine["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["op"].as_str())
        .collect();
    for op in [
        "set_storage_layout",
        "restore_storage_configuration",
        "mount_special",
    ] {
        assert!(ops.contains(&op), "{op}");
    }
}
