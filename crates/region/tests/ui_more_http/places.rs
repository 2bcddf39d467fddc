//! Zones, pools and devices: forms, errors beside the fields, confirm
//! steps, who may change what.

use super::*;

#[tokio::test]
async fn zones_pools_and_devices() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let admin = sign_in(&r, "admin").await;
    // Everyone sees zones; only admins change them.
    assert_eq!(get(&r, &alice.0, "/zones").await.0, 200);
    assert_eq!(
        post(&r, &alice, "/zones/add", &[("name", "z1")]).await.0,
        403
    );
    let (st, page, _) = post(&r, &admin, "/zones/add", &[("name", "bad zone")]).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "name")
            .unwrap()
            .contains("is not a valid name")
    );
    assert_eq!(
        post(
            &r,
            &admin,
            "/zones/add",
            &[("name", "z1"), ("description", "rack row 1")]
        )
        .await
        .0,
        303
    );
    let (st, page, _) = post(&r, &admin, "/zones/add", &[("name", "z1")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "name").unwrap(),
        "Zone with this name already exists."
    );
    assert_eq!(
        post(
            &r,
            &admin,
            "/zone/z1/edit",
            &[("name", "z2"), ("description", "moved")]
        )
        .await
        .0,
        303
    );
    let (_, z) = r.admin.get("zones/z2/", &[]).await;
    assert_eq!(z["description"], "moved");
    assert_eq!(
        post(&r, &admin, "/zone/default/delete", &[("confirmed", "1")])
            .await
            .0,
        400
    );
    assert_eq!(
        post(&r, &alice, "/zone/z2/delete", &[("confirmed", "1")])
            .await
            .0,
        403
    );
    assert_eq!(post(&r, &admin, "/zone/z2/delete", &[]).await.0, 200);
    assert_eq!(
        r.admin.get("zones/z2/", &[]).await.0,
        200,
        "not before confirming"
    );
    assert_eq!(
        post(&r, &admin, "/zone/z2/delete", &[("confirmed", "1")])
            .await
            .0,
        303
    );
    assert_eq!(r.admin.get("zones/z2/", &[]).await.0, 404);
    // Pools by id.
    assert_eq!(
        post(&r, &admin, "/pools/add", &[("name", "p1")]).await.0,
        303
    );
    let (_, pools) = r.admin.get("resourcepools/", &[]).await;
    let id = pools
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "p1")
        .unwrap()["id"]
        .to_string();
    assert_eq!(get(&r, &admin.0, &format!("/pool/{id}")).await.0, 200);
    assert_eq!(get(&r, &alice.0, &format!("/pool/{id}")).await.0, 403);
    assert_eq!(
        post(
            &r,
            &admin,
            &format!("/pool/{id}/delete"),
            &[("confirmed", "1")]
        )
        .await
        .0,
        303
    );

    // Devices: the API's checks beside the fields.
    let (st, page, _) = post(
        &r,
        &alice,
        "/devices/add",
        &[("hostname", "phone"), ("mac_addresses", "nope")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "mac_addresses").unwrap(),
        "'nope' is not a valid MAC address."
    );
    let (st, page, _) = post(
        &r,
        &alice,
        "/devices/add",
        &[
            ("hostname", "phone"),
            ("mac_addresses", "52:54:00:12:34:56"),
            ("parent", "zzzzzz"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "parent")
            .unwrap()
            .contains("Select a valid choice")
    );
    let (st, _, to) = post(
        &r,
        &alice,
        "/devices/add",
        &[
            ("hostname", "phone"),
            ("mac_addresses", "52:54:00:12:34:56"),
            ("zone", "default"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let sid = to.strip_prefix("/MAAS/r/device/").expect(&to).to_string();
    let (st, page) = get(&r, &alice.0, "/devices").await;
    assert_eq!(st, 200);
    assert!(page.contains("phone") && page.contains("52:54:00:12:34:56"));
    let (st, page) = get(&r, &alice.0, &format!("/device/{sid}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete device"));
    // The MAC is taken now.
    let (st, page, _) = post(
        &r,
        &admin,
        "/devices/add",
        &[("mac_addresses", "52:54:00:12:34:56")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "mac_addresses")
            .unwrap()
            .contains("already in use")
    );
    // Edit: the service's errors beside the fields, then the change.
    let edit = format!("/device/{sid}/edit");
    let (st, page, _) = post(
        &r,
        &alice,
        &edit,
        &[("hostname", "phone"), ("zone", "nosuch")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "zone")
            .unwrap()
            .contains("Select a valid choice"),
        "{page}"
    );
    let (st, page, _) = post(&r, &alice, &edit, &[("hostname", "")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "hostname").unwrap(),
        "This field is required."
    );
    let (st, _, _) = post(
        &r,
        &alice,
        &edit,
        &[
            ("hostname", "tablet"),
            ("zone", "default"),
            ("description", "on the desk"),
            ("parent", ""),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(
        (dev["hostname"].as_str(), dev["description"].as_str()),
        (Some("tablet"), Some("on the desk"))
    );
    // Another user may not edit or delete it; its owner confirms, then it goes.
    let carol = r.user("carol", false).await;
    drop(carol);
    let carol = sign_in(&r, "carol").await;
    let del = format!("/device/{sid}/delete");
    assert_eq!(post(&r, &carol, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(
        post(&r, &carol, &edit, &[("hostname", "mine")]).await.0,
        403
    );
    assert!(
        !get(&r, &carol.0, &format!("/device/{sid}"))
            .await
            .1
            .contains("edit-device")
    );
    assert_eq!(post(&r, &alice, &del, &[]).await.0, 200);
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 303);
    assert_eq!(get(&r, &alice.0, &format!("/device/{sid}")).await.0, 404);
}

/// Tags: everyone reads the list; admins add (the API's name rule and
/// duplicate message beside the field), rename (machines follow the name)
/// and delete after a confirm step.
#[tokio::test]
async fn tags_are_added_renamed_and_deleted_by_admins() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let admin = sign_in(&r, "admin").await;
    assert_eq!(get(&r, &alice.0, "/tags").await.0, 200);
    assert_eq!(
        post(&r, &alice, "/tags/add", &[("name", "gpu")]).await.0,
        403
    );
    assert_eq!(get(&r, &alice.0, "/tag/gpu").await.0, 403);
    let (st, page, _) = post(&r, &admin, "/tags/add", &[("name", "no spaces")]).await;
    assert_eq!(st, 400);
    let (_, api) = r.admin.post("tags/", &[("name", "no spaces")]).await;
    assert_eq!(
        field_error(&page, "name").as_deref(),
        api["name"][0].as_str(),
        "the API's message: {api}"
    );
    let form = [
        ("name", "gpu"),
        ("comment", "has a GPU"),
        ("kernel_opts", "nomodeset"),
    ];
    assert_eq!(post(&r, &admin, "/tags/add", &form).await.0, 303);
    let (st, page, _) = post(&r, &admin, "/tags/add", &[("name", "gpu")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "name").as_deref(),
        Some("Tag with this name already exists.")
    );
    let (_, list) = get(&r, &alice.0, "/tags").await;
    assert!(list.contains("has a GPU") && list.contains("nomodeset"));
    // A machine carrying it follows a rename.
    let sid = r.ready_machine("tagged", 2, 2048).await;
    let (st, e) = r
        .admin
        .op("tags/gpu/", "update_nodes", &[("add", &sid)])
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, page, _) = post(&r, &admin, "/tag/gpu/edit", &[("name", "")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "name").as_deref(),
        Some("This field is required.")
    );
    let form = [
        ("name", "gpu2"),
        ("comment", "renamed"),
        ("kernel_opts", ""),
    ];
    assert_eq!(post(&r, &admin, "/tag/gpu/edit", &form).await.0, 303);
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["tag_names"], serde_json::json!(["gpu2"]));
    // Delete: a confirm page first, then gone (and off the machine).
    let (st, page, _) = post(&r, &admin, "/tag/gpu2/delete", &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("will be deleted"));
    assert_eq!(r.admin.get("tags/gpu2/", &[]).await.0, 200);
    let (st, _, to) = post(&r, &admin, "/tag/gpu2/delete", &[("confirmed", "1")]).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/tags"));
    assert_eq!(r.admin.get("tags/gpu2/", &[]).await.0, 404);
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["tag_names"], serde_json::json!([]));
}
