//! Storage forms of the machine page: partitions (sizes as the API reads
//! them), format and mount of a disk or partition, unmount, unformat and a
//! layout after their confirm steps, the boot disk; refusals beside fields.

use serde_json::Value;

use crate::common::ui::get;
use crate::common::{self, TestRegion};
use crate::{GB, disk, disks, field_error, post, sign_in};

#[tokio::test]
async fn storage_is_edited_from_the_machine_page() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("edit-disks", 2, 2048).await;
    let sda = disk(&r, &m, "sda", 100 * GB).await.to_string();
    let sdb = disk(&r, &m, "sdb", 10 * GB).await.to_string();
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let parts_of = |d: &[Value], id: &str| -> Vec<Value> {
        d.iter()
            .find(|x| x["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id))
            .unwrap()["partitions"]
            .as_array()
            .unwrap()
            .clone()
    };

    // Refusals: no token, a user, bad sizes; nothing is written.
    let (st, _, _) = common::ui::post(
        &r,
        &admin.0,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
        None,
    )
    .await;
    assert_eq!(st, 403);
    let (st, _, _) = post(
        &r,
        &alice,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!(st, 403);
    for (size, msg) in [
        ("ten", "Enter a valid value."),
        ("200G", "less than or equal to"),
        ("1000", "greater than or equal to"),
    ] {
        let (st, _, page) = post(
            &r,
            &admin,
            &format!("{path}/partitions"),
            &[("disk", &sda), ("size", size)],
        )
        .await;
        assert_eq!(st, 400, "{size}");
        assert!(field_error(&page, "size").contains(msg), "{size}: {page}");
        assert!(page.contains(&format!("value=\"{size}\"")), "kept: {size}");
    }
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());

    // A 10G partition, listed by the API and on the page.
    let (st, to, page) = post(
        &r,
        &admin,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!((st, to), (303, format!("/MAAS/r{path}#storage")), "{page}");
    let ps = parts_of(&disks(&r, &m).await, &sda);
    assert_eq!(ps.len(), 1);
    assert!(ps[0]["size"].as_i64().unwrap() > 9 * GB);
    let part = ps[0]["id"].to_string();
    let pname = ps[0]["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains(&format!("id=\"part-{part}\"")) && page.contains(&pname));

    // Format and mount it; a bad mount point is explained beside the field.
    let target = format!("{sda}/{part}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/format"),
        &[("target", &target), ("fstype", "ext4")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/mount"),
        &[("target", &target), ("mount_point", "srv")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "mount_point"), "Enter a valid value.");
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/mount"),
        &[("target", &target), ("mount_point", "/srv")],
    )
    .await;
    assert_eq!(st, 303);
    let fs = parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].clone();
    assert_eq!(
        (&fs["fstype"], &fs["mount_point"]),
        (&"ext4".into(), &"/srv".into())
    );
    assert!(get(&r, &admin.0, &path).await.1.contains("/srv"));

    // A disk with a partition table cannot be formatted: beside the target.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/format"),
        &[("target", &sda), ("fstype", "xfs")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "format_target").contains("partition table"),
        "{page}"
    );

    // Unmount, then unformat (asks first).
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/unmount"),
        &[("target", &target)],
    )
    .await;
    assert_eq!(st, 303);
    let fs = parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].clone();
    assert!(fs["mount_point"].is_null(), "{fs}");
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/unformat"),
        &[("target", &target)],
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("Unformat {pname}")), "{page}");
    assert!(parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].is_object());
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("{path}/unformat"),
        &[("target", &target), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert!(parts_of(&disks(&r, &m).await, &sda)[0]["filesystem"].is_null());

    // A whole disk formatted and mounted; then the boot disk moves to it.
    for (op, f) in [
        ("format", ("fstype", "xfs")),
        ("mount", ("mount_point", "/data")),
    ] {
        let (st, _, page) = post(&r, &admin, &format!("{path}/{op}"), &[("target", &sdb), f]).await;
        assert_eq!(st, 303, "{op}: {page}");
    }
    let d = disks(&r, &m).await;
    let b = d.iter().find(|x| x["name"] == "sdb").unwrap();
    assert_eq!(b["filesystem"]["mount_point"], "/data");
    let (st, _, _) = post(&r, &alice, &format!("{path}/boot-disk"), &[("disk", &sdb)]).await;
    assert_eq!(st, 403);
    let (st, _, _) = post(&r, &admin, &format!("{path}/boot-disk"), &[("disk", &sdb)]).await;
    assert_eq!(st, 303);
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(mj["boot_disk"]["name"], "sdb");

    // Deleting the partition asks first.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/partition/delete"),
        &[("disk", &sda), ("partition", &part)],
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        page.contains(&format!("Delete partition {pname}")),
        "{page}"
    );
    let f = [
        ("disk", sda.as_str()),
        ("partition", part.as_str()),
        ("confirmed", "1"),
    ];
    let (st, _, _) = post(&r, &admin, &format!("{path}/partition/delete"), &f).await;
    assert_eq!(st, 303);
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());

    // The flat layout, after its confirm step, on the boot disk (sdb).
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/layout"),
        &[("storage_layout", "flat")],
    )
    .await;
    assert_eq!(st, 200);
    assert!(page.contains("Apply storage layout"), "{page}");
    assert_eq!(mj["boot_disk"]["filesystem"]["fstype"], "xfs");
    let f = [("storage_layout", "flat"), ("confirmed", "1")];
    let (st, _, page) = post(&r, &admin, &format!("{path}/layout"), &f).await;
    assert_eq!(st, 303, "{page}");
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    let root = &mj["boot_disk"]["partitions"];
    assert!(
        root.as_array()
            .unwrap()
            .iter()
            .any(|p| p["filesystem"]["mount_point"] == "/"),
        "{mj}"
    );
    // An unsupported layout: the service's refusal above the form.
    let f = [("storage_layout", "lvm"), ("confirmed", "1")];
    let (st, _, page) = post(&r, &admin, &format!("{path}/layout"), &f).await;
    assert_eq!(st, 400);
    assert!(page.contains("not supported by this region"), "{page}");

    // Not Ready: no new partitions, the service's reason shown.
    r.force_status(&m, 6).await;
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("{path}/partitions"),
        &[("disk", &sda), ("size", "10G")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(page.contains("because the node is not Ready"), "{page}");
    assert!(parts_of(&disks(&r, &m).await, &sda).is_empty());
}
