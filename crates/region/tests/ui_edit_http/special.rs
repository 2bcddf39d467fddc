//! The rest of the storage options from the machine page, as the API takes
//! them: a layout's root size, a partition's bootable flag, a filesystem's
//! label, mount options, special filesystems (tmpfs), restoring the
//! storage configuration, clearing default gateways.

use crate::common::TestRegion;
use crate::common::ui::get;
use crate::{GB, disk, disks, field_error, post, sign_in};

#[tokio::test]
async fn storage_options_special_filesystems_and_restore() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("special", 2, 2048).await;
    let sda = disk(&r, &m, "sda", 100 * GB).await.to_string();
    let sdb = disk(&r, &m, "sdb", 10 * GB).await.to_string();
    let admin = sign_in(&r, "admin").await;
    let path = format!("/machine/{m}");
    let on = |d: &[serde_json::Value], id: &str| -> serde_json::Value {
        d.iter()
            .find(|x| x["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id))
            .cloned()
            .unwrap()
    };

    // A flat layout with a 20G root; a size it cannot read is refused.
    let layout = format!("{path}/layout");
    let bad = [
        ("storage_layout", "flat"),
        ("root_size", "big"),
        ("confirmed", "1"),
    ];
    let (st, _, page) = post(&r, &admin, &layout, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "root_size"), "Enter a valid value.");
    let (st, _, page) = post(
        &r,
        &admin,
        &layout,
        &[("storage_layout", "flat"), ("root_size", "20G")],
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        page.contains("name=\"root_size\" value=\"20G\""),
        "kept: {page}"
    );
    let good = [
        ("storage_layout", "flat"),
        ("root_size", "20G"),
        ("confirmed", "1"),
    ];
    let (st, _, page) = post(&r, &admin, &layout, &good).await;
    assert_eq!(st, 303, "{page}");
    let boot = on(&disks(&r, &m).await, &sda);
    let sizes: Vec<i64> = boot["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["size"].as_i64().unwrap())
        .collect();
    assert!(
        sizes.iter().any(|s| (19 * GB..=20 * GB).contains(s)),
        "a 20G root among {sizes:?}"
    );
    assert!(sizes.iter().all(|s| *s < 21 * GB), "{sizes:?}");

    // A bootable partition; a label and mount options.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/partitions"),
        &[("disk", &sdb), ("size", "2G"), ("bootable", "1")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let part = &on(&disks(&r, &m).await, &sdb)["partitions"][0];
    assert_eq!(part["bootable"], true, "{part}");
    let target = format!("{sdb}/{}", part["id"]);
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/format"),
        &[("target", &target), ("fstype", "ext4"), ("label", "data")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/mount"),
        &[
            ("target", &target),
            ("mount_point", "/data"),
            ("mount_options", "noatime"),
        ],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let fs = &on(&disks(&r, &m).await, &sdb)["partitions"][0]["filesystem"];
    assert_eq!(fs["label"], "data", "{fs}");
    assert_eq!(fs["mount_options"], "noatime", "{fs}");

    // tmpfs: mounted, shown, refused where the API refuses, unmounted.
    let special = format!("{path}/special");
    let (st, _, page) = post(
        &r,
        &admin,
        &special,
        &[("fstype", "tmpfs"), ("mount_point", "relative")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        !field_error(&page, "special_mount_point").is_empty(),
        "{page}"
    );
    let tmp = [
        ("fstype", "tmpfs"),
        ("mount_point", "/scratch"),
        ("mount_options", "size=1G"),
    ];
    let (st, _, page) = post(&r, &admin, &special, &tmp).await;
    assert_eq!(st, 303, "{page}");
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    let sf = &mj["special_filesystems"][0];
    assert_eq!(
        (sf["fstype"].as_str(), sf["mount_point"].as_str()),
        (Some("tmpfs"), Some("/scratch"))
    );
    assert!(
        get(&r, &admin.0, &path)
            .await
            .1
            .contains("id=\"special-table\"")
    );
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{special}/unmount"),
        &[("mount_point", "/scratch")],
    )
    .await;
    assert_eq!(st, 303);
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(mj["special_filesystems"], serde_json::json!([]));

    // Restore the storage configuration: asked first, then the default
    // layout again (sdb's partition gone).
    let restore = format!("{path}/restore");
    let (st, _, page) = post(&r, &admin, &restore, &[("what", "storage")]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Restore: Storage configuration"), "{page}");
    assert!(
        !on(&disks(&r, &m).await, &sdb)["partitions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (st, _, page) = post(
        &r,
        &admin,
        &restore,
        &[("what", "storage"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    assert_eq!(
        on(&disks(&r, &m).await, &sdb)["partitions"],
        serde_json::json!([])
    );
    let (st, _, _) = post(&r, &admin, &restore, &[("what", "everything")]).await;
    assert_eq!(st, 400);
    let alice = sign_in(&r, "alice").await;
    let (st, _, _) = post(
        &r,
        &alice,
        &restore,
        &[("what", "storage"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 403);

    // Clearing default gateways is the API's op.
    let (st, to, _) = post(&r, &admin, &format!("{path}/gateways/clear"), &[]).await;
    assert_eq!((st, to), (303, format!("/MAAS/r{path}#interfaces")));
}
