//! DHCP reservations from the subnet page: added, edited on their own
//! page, deleted after the confirm step; refusals as `reservedips/` says
//! them.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn dhcp_reservations_are_added_edited_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, s) = r.admin.post("subnets/", &[("cidr", "10.72.0.0/24")]).await;
    let sid = s["id"].as_i64().unwrap();
    let (st, _) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.72.0.100"),
                ("end_ip", "10.72.0.150"),
                ("subnet", &sid.to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200);
    let add = format!("/subnet/{sid}/reservedips");
    let (_, page) = get(&r, &admin, &format!("/subnet/{sid}")).await;
    assert!(page.contains(&format!("action=\"/MAAS/r{add}\"")));
    let (_, page) = get(&r, &alice, &format!("/subnet/{sid}")).await;
    assert!(!page.contains("reservedips"), "users see no add form");

    let good = [
        ("ip", "10.72.0.20"),
        ("mac_address", "52-54-00-AA-00-01"),
        ("comment", "printer"),
    ];
    assert_eq!(post(&r, &alice, &add, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &add, &good).await, 403);

    // Inside the dynamic range, and a bad MAC: the API's messages beside
    // the fields, nothing written.
    let bad = [
        ("ip", "10.72.0.120"),
        ("mac_address", "52:54:00:aa:00:02"),
        ("subnet", &sid.to_string()),
    ];
    let (st, e) = r.admin.post("reservedips/", &bad).await;
    assert_eq!(st, 400, "{e}");
    let (st, _, page) = post(&r, &admin, &add, &bad[..2]).await;
    assert_eq!(st, 400);
    assert!(!api_msg(&e, "ip").is_empty(), "{e}");
    assert_eq!(field_error(&page, "dhcp-ip"), api_msg(&e, "ip"));
    assert!(page.contains("value=\"10.72.0.120\""));
    let (st, _, page) = post(
        &r,
        &admin,
        &add,
        &[("ip", "10.72.0.21"), ("mac_address", "zz")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "dhcp-mac_address"),
        "'zz' is not a valid MAC address."
    );
    assert_eq!(api(&r, "reservedips/").await.as_array().unwrap().len(), 0);

    let (st, loc, _) = post(&r, &admin, &add, &good).await;
    assert_eq!(
        (st, loc.as_str()),
        (303, format!("/MAAS/r/subnet/{sid}#reserved").as_str())
    );
    let list = api(&r, "reservedips/").await;
    let rid = list[0]["id"].as_i64().unwrap();
    assert_eq!(
        (
            list[0]["ip"].as_str(),
            list[0]["mac_address"].as_str(),
            list[0]["comment"].as_str()
        ),
        (
            Some("10.72.0.20"),
            Some("52:54:00:aa:00:01"),
            Some("printer")
        )
    );
    let (_, page) = get(&r, &admin, &format!("/subnet/{sid}")).await;
    assert!(page.contains(&format!("href=\"/MAAS/r/reservedip/{rid}\"")));
    // A second reservation for the same MAC on the VLAN is refused.
    let (st, _, page) = post(
        &r,
        &admin,
        &add,
        &[("ip", "10.72.0.22"), ("mac_address", "52:54:00:aa:00:01")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "dhcp-mac_address").contains("already has the reserved IP"),
        "{page}"
    );

    // Edit in place.
    let path = format!("/reservedip/{rid}");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    let (st, page) = get(&r, &admin, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("value=\"52:54:00:aa:00:01\""));
    let edit = format!("{path}/edit");
    let (st, _, page) = post(&r, &admin, &edit, &[("ip", "10.72.0.130")]).await;
    assert_eq!(st, 400);
    let (_, e) = r
        .admin
        .put(&format!("reservedips/{rid}/"), &[("ip", "10.72.0.130")])
        .await;
    assert_eq!(field_error(&page, "ip"), api_msg(&e, "ip"));
    let (st, loc, _) = post(
        &r,
        &admin,
        &edit,
        &[("ip", "10.72.0.25"), ("comment", "moved")],
    )
    .await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/subnet/{sid}#reserved")));
    let one = api(&r, &format!("reservedips/{rid}/")).await;
    assert_eq!(
        (one["ip"].as_str(), one["comment"].as_str()),
        (Some("10.72.0.25"), Some("moved"))
    );

    // Delete asks first.
    let del = format!("{path}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(
        page.contains("no longer be kept for 52:54:00:aa:00:01"),
        "{page}"
    );
    assert_eq!(api(&r, "reservedips/").await.as_array().unwrap().len(), 1);
    let (st, loc, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/subnet/{sid}#reserved")));
    assert_eq!(api(&r, "reservedips/").await.as_array().unwrap().len(), 0);
}
