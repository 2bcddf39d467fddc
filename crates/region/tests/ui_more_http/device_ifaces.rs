//! A device's interfaces from its page: add one (MAC, name), link it to a
//! subnet (static with a chosen or the next free address, DHCP), unlink
//! and delete it after the confirm step; the API's refusals beside the fields, nothing
//! written; another user may not.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn device_interfaces_are_added_linked_and_deleted() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let (st, d) = r
        .alice
        .post(
            "devices/",
            &[("hostname", "cam"), ("mac_addresses", "52:54:00:66:00:01")],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let sid = d["system_id"].as_str().unwrap().to_string();
    let (st, sn) = r.admin.post("subnets/", &[("cidr", "10.74.0.0/24")]).await;
    assert_eq!(st, 200, "{sn}");
    let subnet = sn["id"].to_string();
    let page_path = format!("/device/{sid}");
    let (_, page) = get(&r, &alice.0, &page_path).await;
    for id in ["add-iface", "link-iface"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} form");
    }

    // Add: a bad MAC and a taken one, as the API says them.
    let add = format!("{page_path}/interfaces");
    let (st, page, _) = post(&r, &alice, &add, &[("mac_address", "nope")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "add-iface-mac_address").unwrap(),
        "'nope' is not a valid MAC address."
    );
    let (_, e) = r
        .alice
        .op(
            &format!("nodes/{sid}/interfaces/"),
            "create_physical",
            &[("mac_address", "52:54:00:66:00:01")],
        )
        .await;
    let (st, page, _) = post(&r, &alice, &add, &[("mac_address", "52:54:00:66:00:01")]).await;
    assert_eq!(st, 400);
    let api_says = e["mac_address"][0].as_str().unwrap_or_default();
    assert!(!api_says.is_empty(), "{e}");
    assert_eq!(
        field_error(&page, "add-iface-mac_address").unwrap(),
        api_says
    );
    let (st, _, to) = post(
        &r,
        &alice,
        &add,
        &[("mac_address", "52-54-00-66-00-02"), ("name", "eth7")],
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (303, format!("/MAAS/r{page_path}#interfaces").as_str())
    );
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    let ifaces = dev["interface_set"].as_array().unwrap();
    let eth7 = ifaces
        .iter()
        .find(|i| i["name"] == "eth7")
        .expect("eth7 added");
    assert_eq!(eth7["mac_address"], "52:54:00:66:00:02");
    let eth7_id = eth7["id"].to_string();

    // Link: an address outside the subnet is refused beside the field.
    let link = format!("{page_path}/link");
    let bad = [
        ("iface", eth7_id.as_str()),
        ("mode", "static"),
        ("subnet", subnet.as_str()),
        ("ip_address", "10.99.0.5"),
    ];
    let (_, e) = r
        .alice
        .op(
            &format!("nodes/{sid}/interfaces/{eth7_id}/"),
            "link_subnet",
            &bad[1..],
        )
        .await;
    let (st, page, _) = post(&r, &alice, &link, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "link-ip_address").unwrap(),
        e["ip_address"][0].as_str().unwrap(),
        "{e}"
    );
    let (st, page, _) = post(
        &r,
        &alice,
        &link,
        &[("iface", &eth7_id), ("mode", "auto"), ("subnet", &subnet)],
    )
    .await;
    assert_eq!(st, 400);
    assert!(field_error(&page, "link-mode").unwrap().contains("auto"));
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(dev["ip_addresses"], serde_json::json!([]), "nothing linked");
    let (st, _, _) = post(
        &r,
        &alice,
        &link,
        &[
            ("iface", &eth7_id),
            ("mode", "static"),
            ("subnet", &subnet),
            ("ip_address", "10.74.0.40"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(
        dev["ip_addresses"],
        serde_json::json!(["10.74.0.40"]),
        "{dev}"
    );
    let (_, page) = get(&r, &alice.0, &page_path).await;
    assert!(page.contains("10.74.0.40"));

    // Unlinking asks first, then the address goes back to the subnet.
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    let link_id = dev["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "eth7")
        .unwrap()["links"][0]["id"]
        .to_string();
    assert!(
        page.contains("aria-label=\"Unlink eth7 from 10.74.0.40\""),
        "{page}"
    );
    let unlink = format!("{page_path}/interface/{eth7_id}/unlink");
    let (st, page, _) = post(&r, &alice, &unlink, &[("link", &link_id)]).await;
    assert_eq!(st, 200);
    assert!(
        page.contains("Interface eth7 will no longer have 10.74.0.40."),
        "{page}"
    );
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(
        dev["ip_addresses"],
        serde_json::json!(["10.74.0.40"]),
        "not yet"
    );
    let (st, _, _) = post(
        &r,
        &alice,
        &unlink,
        &[("link", "99999"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 404, "a link the interface does not have");
    let (st, _, to) = post(
        &r,
        &alice,
        &unlink,
        &[("link", &link_id), ("confirmed", "1")],
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (303, format!("/MAAS/r{page_path}#interfaces").as_str())
    );
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(dev["ip_addresses"], serde_json::json!([]), "{dev}");
    let (st, _, _) = post(
        &r,
        &alice,
        &link,
        &[("iface", &eth7_id), ("mode", "dhcp"), ("subnet", &subnet)],
    )
    .await;
    assert_eq!(st, 303, "DHCP link");

    // Another user may not change alice's device.
    drop(r.user("carol", false).await);
    let carol = sign_in(&r, "carol").await;
    let (st, _, _) = post(&r, &carol, &add, &[("mac_address", "52:54:00:66:00:03")]).await;
    assert_eq!(st, 403);

    // Delete asks first; then the interface and its address go.
    let del = format!("{page_path}/interface/{eth7_id}/delete");
    let (st, page, _) = post(&r, &alice, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(
        page.contains("Interface eth7 (52:54:00:66:00:02)"),
        "{page}"
    );
    let (st, _, to) = post(&r, &alice, &del, &[("confirmed", "1")]).await;
    assert_eq!(
        (st, to.as_str()),
        (303, format!("/MAAS/r{page_path}#interfaces").as_str())
    );
    let (_, dev) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(dev["interface_set"].as_array().unwrap().len(), 1);
    assert_eq!(dev["ip_addresses"], serde_json::json!([]));
}

#[tokio::test]
async fn a_device_interfaces_name_mac_and_vlan_are_edited() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let (st, d) = r
        .alice
        .post(
            "devices/",
            &[("hostname", "cam2"), ("mac_addresses", "52:54:00:66:00:21")],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let sid = d["system_id"].as_str().unwrap().to_string();
    let iface = d["interface_set"][0]["id"].to_string();
    let (_, sn) = r.admin.post("subnets/", &[("cidr", "10.75.0.0/24")]).await;
    let vlan = sn["vlan"]["id"].to_string();
    let edit = format!("/device/{sid}/interface/edit");
    let (st, page, _) = post(
        &r,
        &alice,
        &edit,
        &[("iface", &iface), ("mac_address", "bad")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "edit-iface-mac_address").unwrap(),
        "'bad' is not a valid MAC address."
    );
    let form = [
        ("iface", iface.as_str()),
        ("name", "lan0"),
        ("mac_address", "52:54:00:66:00:22"),
        ("vlan", vlan.as_str()),
    ];
    let (st, _, _) = post(&r, &alice, &edit, &form).await;
    assert_eq!(st, 303);
    let (_, d) = r.alice.get(&format!("devices/{sid}/"), &[]).await;
    let i = &d["interface_set"][0];
    assert_eq!(i["name"], "lan0", "{i}");
    assert_eq!(i["mac_address"], "52:54:00:66:00:22");
    assert_eq!(i["vlan"]["id"].to_string(), vlan);
    // Someone else's device: refused.
    r.user("bob", false).await;
    let bob = sign_in(&r, "bob").await;
    assert_ne!(post(&r, &bob, &edit, &form).await.0, 303);
}
