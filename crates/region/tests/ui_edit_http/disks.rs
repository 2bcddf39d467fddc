//! Disks from the machine page: added by hand, edited, tagged (disks and
//! partitions) and deleted, with the API's checks and messages.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn disks_are_added_edited_tagged_and_deleted() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("disks", 2, 2048).await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains("id=\"disk-add-form\""), "{page}");

    // Adding: users refused; bad fields refused all at once with the
    // API's messages; nothing written.
    let add = format!("{path}/disks");
    let good = [
        ("name", "sdc"),
        ("size", "8000000000"),
        ("model", "QEMU HARDDISK"),
        ("tags", "ssd, fast"),
    ];
    assert_eq!(post(&r, &alice, &add, &good).await.0, 403);
    let bad = [("name", "bad name"), ("block_size", "100")];
    let (st, _, page) = post(&r, &admin, &add, &bad).await;
    assert_eq!(st, 400);
    let (st, e) = r
        .admin
        .post(&format!("nodes/{m}/blockdevices/"), &bad)
        .await;
    assert_eq!(st, 400);
    for f in ["name", "size", "block_size"] {
        assert_eq!(
            field_error(&page, &format!("disk_add_{f}")),
            e[f][0].as_str().unwrap(),
            "{f}: {page}"
        );
    }
    assert!(disks(&r, &m).await.is_empty());
    let (st, _, page) = post(&r, &admin, &add, &good).await;
    assert_eq!(st, 303, "{page}");
    let d = disks(&r, &m).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["name"], "sdc");
    assert_eq!(d[0]["size"], 8_000_000_000i64);
    assert_eq!(d[0]["model"], "QEMU HARDDISK");
    assert_eq!(d[0]["tags"], serde_json::json!(["ssd", "fast"]));
    let id = d[0]["id"].to_string();
    // The same name again: refused (the API's message), still one disk.
    let (st, _, page) = post(&r, &admin, &add, &good).await;
    assert_eq!(st, 400);
    assert!(page.contains("Name already exists"), "{page}");
    assert_eq!(disks(&r, &m).await.len(), 1);

    // Editing: empty fields unchanged; a bad id path beside its field.
    let edit = format!("{path}/disk/edit");
    let (st, _, page) = post(
        &r,
        &admin,
        &edit,
        &[("disk", &id), ("id_path", "dev/disk/x"), ("serial", "S1")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "disk_edit_id_path"),
        "Enter a valid value."
    );
    assert_eq!(disks(&r, &m).await[0]["serial"], "");
    let (st, _, page) = post(
        &r,
        &admin,
        &edit,
        &[
            ("disk", &id),
            ("name", "sdz"),
            ("serial", "S1"),
            ("model", ""),
        ],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let d = &disks(&r, &m).await[0];
    assert_eq!(
        (d["name"].as_str(), d["serial"].as_str()),
        (Some("sdz"), Some("S1"))
    );
    assert_eq!(d["model"], "QEMU HARDDISK", "empty: unchanged");

    // Tags on the disk and on a partition.
    let tag = format!("{path}/disk/tag");
    let (st, _, _) = post(&r, &admin, &tag, &[("target", &id), ("tag", "hot")]).await;
    assert_eq!(st, 303);
    let (st, _, _) = post(
        &r,
        &admin,
        &tag,
        &[("target", &id), ("tag", "fast"), ("op", "remove")],
    )
    .await;
    assert_eq!(st, 303);
    assert_eq!(
        disks(&r, &m).await[0]["tags"],
        serde_json::json!(["ssd", "hot"])
    );
    let (st, p) = r
        .admin
        .post(
            &format!("nodes/{m}/blockdevices/{id}/partitions/"),
            &[("size", "1000000000")],
        )
        .await;
    assert_eq!(st, 200, "{p}");
    let target = format!("{id}/{}", p["id"]);
    let (st, _, page) = post(&r, &admin, &tag, &[("target", &target), ("tag", "boot")]).await;
    assert_eq!(st, 303, "{page}");
    assert_eq!(
        disks(&r, &m).await[0]["partitions"][0]["tags"],
        serde_json::json!(["boot"])
    );
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains("ssd, hot"), "{page}");

    // Deleting asks first.
    let del = format!("{path}/disk/delete");
    let (st, _, page) = post(&r, &admin, &del, &[("disk", &id)]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete disk sdz"), "{page}");
    assert_eq!(disks(&r, &m).await.len(), 1);
    assert_eq!(
        post(&r, &alice, &del, &[("disk", &id), ("confirmed", "1")])
            .await
            .0,
        403
    );
    let (st, _, _) = post(&r, &admin, &del, &[("disk", &id), ("confirmed", "1")]).await;
    assert_eq!(st, 303);
    assert!(disks(&r, &m).await.is_empty());
}
