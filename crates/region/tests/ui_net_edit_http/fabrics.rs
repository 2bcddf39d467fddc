//! Fabrics (create, edit, delete) and VLANs (add, delete).

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn fabrics_are_created_edited_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let before = api(&r, "fabrics/").await.as_array().unwrap().len();

    // The forms are the admins'.
    let (_, page) = get(&r, &admin, "/subnets").await;
    assert!(page.contains("id=\"add-fabric\""), "{page}");
    assert!(page.contains("href=\"/MAAS/r/spaces\""));
    let (_, page) = get(&r, &alice, "/subnets").await;
    assert!(!page.contains("id=\"add-fabric\""));

    // Users, and forms without the token, are refused; nothing written.
    let good = [("name", "f-one"), ("class_type", "10g")];
    assert_eq!(post(&r, &alice, "/fabrics/add", &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, "/fabrics/add", &good).await, 403);

    // A bad name: the API's message beside the field, typed value kept.
    let (_, e) = r.admin.post("fabrics/", &[("name", "bad name")]).await;
    let (st, _, page) = post(&r, &admin, "/fabrics/add", &[("name", "bad name")]).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "fabric-name"), api_msg(&e, "name"));
    assert!(page.contains("value=\"bad name\""));
    assert_eq!(api(&r, "fabrics/").await.as_array().unwrap().len(), before);

    // Created: the fabric page, the API shows it.
    let (st, loc, _) = post(&r, &admin, "/fabrics/add", &good).await;
    assert_eq!(st, 303);
    let fid = id_of(&loc);
    let f = api(&r, &format!("fabrics/{fid}/")).await;
    assert_eq!(f["name"], "f-one");
    assert_eq!(f["class_type"], "10g");
    let (st, page) = get(&r, &alice, &format!("/fabric/{fid}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Fabric f-one"));
    assert!(!page.contains("id=\"edit-fabric\""), "users only read");

    // The same name again: the service's message.
    let (_, e) = r.admin.post("fabrics/", &[("name", "f-one")]).await;
    let (st, _, page) = post(&r, &admin, "/fabrics/add", &[("name", "f-one")]).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "fabric-name"), api_msg(&e, "name"));

    // Edit.
    let edit = format!("/fabric/{fid}/edit");
    assert_eq!(post(&r, &alice, &edit, &[("name", "x")]).await.0, 403);
    let (st, _, page) = post(&r, &admin, &edit, &[("name", "a b"), ("class_type", "")]).await;
    assert_eq!(st, 400);
    assert!(field_error(&page, "fabric-name").contains("not a valid fabric name"));
    assert_eq!(api(&r, &format!("fabrics/{fid}/")).await["name"], "f-one");
    let (st, loc, _) = post(
        &r,
        &admin,
        &edit,
        &[("name", "f-two"), ("class_type", "1g")],
    )
    .await;
    assert_eq!((st, loc.as_str()), (303, &*format!("/MAAS/r/fabric/{fid}")));
    let f = api(&r, &format!("fabrics/{fid}/")).await;
    assert_eq!(
        (f["name"].as_str(), f["class_type"].as_str()),
        (Some("f-two"), Some("1g"))
    );

    // Delete: confirm first, then gone.
    let del = format!("/fabric/{fid}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(
        post_no_csrf(&r, &admin, &del, &[("confirmed", "1")]).await,
        403
    );
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""), "{page}");
    assert_eq!(r.admin.get(&format!("fabrics/{fid}/"), &[]).await.0, 200);
    let (st, loc, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/MAAS/r/subnets"));
    assert_eq!(r.admin.get(&format!("fabrics/{fid}/"), &[]).await.0, 404);

    // A fabric with a subnet: the service's refusal on the confirm page.
    let (_, sn) = r.admin.post("subnets/", &[("cidr", "10.40.0.0/24")]).await;
    let fid = sn["vlan"]["fabric_id"].as_i64().unwrap();
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/fabric/{fid}/delete"),
        &[("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        page.contains("subnets 10.40.0.0/24 are still on its VLANs"),
        "{page}"
    );
    assert_eq!(r.admin.get(&format!("fabrics/{fid}/"), &[]).await.0, 200);
}

#[tokio::test]
async fn vlans_are_added_to_a_fabric_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, f) = r.admin.post("fabrics/", &[("name", "fv")]).await;
    let fid = f["id"].as_i64().unwrap();
    let (_, sp) = r.admin.post("spaces/", &[("name", "storage")]).await;
    assert_eq!(sp["name"], "storage");
    let add = format!("/fabric/{fid}/vlans");
    let (_, page) = get(&r, &admin, &format!("/fabric/{fid}")).await;
    assert!(page.contains("id=\"add-vlan\""));
    assert!(
        page.contains("<option value=\"storage\">storage</option>"),
        "{page}"
    );

    let good = [
        ("vid", "10"),
        ("name", "san"),
        ("mtu", "9000"),
        ("space", "storage"),
    ];
    assert_eq!(post(&r, &alice, &add, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &add, &good).await, 403);

    // Bad values: the API's messages beside the fields; nothing written.
    let bad = [("vid", "5000"), ("mtu", "100"), ("space", "nope")];
    let (_, e) = r.admin.post(&format!("fabrics/{fid}/vlans/"), &bad).await;
    let (st, _, page) = post(&r, &admin, &add, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "vlan-vid"), api_msg(&e, "vid"));
    assert_eq!(field_error(&page, "vlan-mtu"), api_msg(&e, "mtu"));
    assert!(page.contains("value=\"5000\""));
    let (st, _, page) = post(&r, &admin, &add, &[("vid", "")]).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "vlan-vid"), "This field is required.");
    let vlans = || async { api(&r, &format!("fabrics/{fid}/vlans/")).await };
    assert_eq!(vlans().await.as_array().unwrap().len(), 1);

    // Added: the VLAN page; the API shows it with its space.
    let (st, loc, _) = post(&r, &admin, &add, &good).await;
    assert_eq!(st, 303, "{loc}");
    let vid = id_of(&loc);
    let v = api(&r, &format!("vlans/{vid}/")).await;
    assert_eq!(
        (v["vid"].as_i64(), v["name"].as_str()),
        (Some(10), Some("san"))
    );
    assert_eq!(
        (v["mtu"].as_i64(), v["space"].as_str()),
        (Some(9000), Some("storage"))
    );
    // The same vid again: the service's message.
    let (_, e) = r.admin.post(&format!("fabrics/{fid}/vlans/"), &good).await;
    let (st, _, page) = post(&r, &admin, &add, &good).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "vlan-vid"), api_msg(&e, "vid"));

    // The VLAN form sets and clears its space.
    let edit = format!("/vlan/{vid}/edit");
    let (st, _, _) = post(&r, &admin, &edit, &[("mtu", "9000"), ("space", "")]).await;
    assert_eq!(st, 303);
    assert_eq!(
        api(&r, &format!("vlans/{vid}/")).await["space"],
        "undefined"
    );
    let (st, _, page) = post(&r, &admin, &edit, &[("mtu", "9000"), ("space", "nope")]).await;
    assert_eq!(st, 400);
    assert!(field_error(&page, "space").contains("'nope'"), "{page}");
    post(&r, &admin, &edit, &[("mtu", "9000"), ("space", "storage")]).await;
    assert_eq!(api(&r, &format!("vlans/{vid}/")).await["space"], "storage");

    // Delete: confirm, users refused, then gone.
    let del = format!("/vlan/{vid}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(
        post_no_csrf(&r, &admin, &del, &[("confirmed", "1")]).await,
        403
    );
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""));
    let (st, loc, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/fabric/{fid}")));
    assert_eq!(r.admin.get(&format!("vlans/{vid}/"), &[]).await.0, 404);

    // The default VLAN: the service's refusal, shown.
    let untagged = vlans().await[0]["id"].as_i64().unwrap();
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/vlan/{untagged}/delete"),
        &[("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(page.contains("This VLAN is the default VLAN in the fabric, it cannot be deleted."));
}
