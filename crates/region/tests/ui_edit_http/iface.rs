//! Interface settings (name, MTU, tags), a bridge and the default gateway
//! from the machine page.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn interface_settings_bridge_and_default_gateway() {
    let r = TestRegion::start().await;
    let (_, sn) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "10.45.0.0/24"), ("gateway_ip", "10.45.0.1")],
        )
        .await;
    let (subnet, vlan) = (sn["id"].to_string(), sn["vlan"]["id"].to_string());
    let m = r.ready_machine("edit-iface", 2, 2048).await;
    let eth0 = ifaces(&r, &m).await[0]["id"].to_string();
    let (st, v) = r
        .admin
        .put(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            &[("name", "eth0"), ("vlan", &vlan)],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let (_, page) = get(&r, &admin.0, &path).await;
    for id in ["iface-form", "bridge-form", "gateway-form"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }

    // Settings: users and tokenless forms refused; bad values with the
    // API's messages beside the fields, nothing changed.
    let set = format!("{path}/interface");
    let good = [
        ("iface", eth0.as_str()),
        ("name", "lan0"),
        ("mtu", "9000"),
        ("tags", "a, b"),
    ];
    assert_eq!(post(&r, &alice, &set, &good).await.0, 403);
    assert_eq!(
        common::ui::post(&r, &admin.0, &set, &good, None).await.0,
        403
    );
    let (_, e) = r
        .admin
        .put(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            &[("mtu", "100"), ("name", "a b")],
        )
        .await;
    let (st, _, page) = post(
        &r,
        &admin,
        &set,
        &[("iface", &eth0), ("mtu", "100"), ("name", "a b")],
    )
    .await;
    assert_eq!(st, 400, "{page}");
    assert_eq!(
        field_error(&page, "iface_mtu"),
        e["mtu"][0].as_str().unwrap(),
        "{e}"
    );
    assert_eq!(
        field_error(&page, "iface_name"),
        e["name"][0].as_str().unwrap(),
        "{e}"
    );
    assert!(page.contains("value=\"a b\""));
    assert!(named(&ifaces(&r, &m).await, "eth0").is_some());
    let (st, to, _) = post(&r, &admin, &set, &good).await;
    assert_eq!((st, to), (303, format!("/MAAS/r{path}#interfaces")));
    let list = ifaces(&r, &m).await;
    let i = named(&list, "lan0").expect("renamed");
    assert_eq!(i["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(i["effective_mtu"], 9000, "{i}");
    // Cleared as the API's empty values clear them: no tags, the VLAN's MTU.
    let lan0 = i["id"].to_string();
    let (st, _, _) = post(
        &r,
        &admin,
        &set,
        &[("iface", &lan0), ("clear_mtu", "1"), ("clear_tags", "1")],
    )
    .await;
    assert_eq!(st, 303);
    let list = ifaces(&r, &m).await;
    let i = named(&list, "lan0").unwrap();
    assert_eq!(i["tags"], serde_json::json!([]), "{i}");
    assert_eq!(i["effective_mtu"], 1500, "{i}");
    assert!(i["params"].get("mtu").is_none(), "{i}");

    // Default gateway: an interface without one is refused beside the
    // select; with a static link on a subnet with a gateway, it is set.
    let gw = format!("{path}/gateway");
    assert_eq!(post(&r, &alice, &gw, &[("iface", &eth0)]).await.0, 403);
    let (st, _, page) = post(&r, &admin, &gw, &[("iface", &eth0)]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "gw_iface"),
        "This interface has no usable gateways."
    );
    let (st, l) = r
        .admin
        .op(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            "link_subnet",
            &[
                ("mode", "static"),
                ("subnet", &subnet),
                ("ip_address", "10.45.0.9"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    let (st, _, _) = post(&r, &admin, &gw, &[("iface", &eth0)]).await;
    assert_eq!(st, 303);
    let (_, node) = r.admin.get(&format!("nodes/{m}/"), &[]).await;
    assert_eq!(
        node["default_gateways"]["ipv4"]["gateway_ip"], "10.45.0.1",
        "{node}"
    );
    assert!(
        node["default_gateways"]["ipv4"]["link_id"].is_i64(),
        "{node}"
    );

    // A bridge: a bad type with the API's message, then one on lan0.
    let br = format!("{path}/bridge");
    let bad = [
        ("name", "br0"),
        ("parent", eth0.as_str()),
        ("bridge_type", "x"),
    ];
    let (_, e) = r
        .admin
        .op(&format!("nodes/{m}/interfaces/"), "create_bridge", &bad)
        .await;
    let (st, _, page) = post(&r, &admin, &br, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "bridge_type"),
        e["bridge_type"][0].as_str().unwrap(),
        "{e}"
    );
    assert!(named(&ifaces(&r, &m).await, "br0").is_none());
    let good = [
        ("name", "br0"),
        ("parent", eth0.as_str()),
        ("bridge_type", "standard"),
    ];
    assert_eq!(post(&r, &alice, &br, &good).await.0, 403);
    let (st, _, page) = post(&r, &admin, &br, &good).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let b = named(&list, "br0").expect("the bridge");
    assert_eq!(b["type"], "bridge");
    assert_eq!(b["parents"], serde_json::json!(["lan0"]), "{b}");
}

#[tokio::test]
async fn a_physical_interface_is_added_from_the_machine_page() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("edit-phys", 2, 2048).await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}");
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains("id=\"physical-form\""));
    let add = format!("{path}/physical");
    let good = [("mac_address", "52-54-00-45-00-09"), ("name", "eth9")];
    assert_eq!(post(&r, &alice, &add, &good).await.0, 403);
    assert_eq!(
        common::ui::post(&r, &admin.0, &add, &good, None).await.0,
        403
    );

    // No MAC, a bad one, a taken one: the API's messages beside the field.
    let (_, e) = r
        .admin
        .op(
            &format!("nodes/{m}/interfaces/"),
            "create_physical",
            &[("name", "x")],
        )
        .await;
    let (st, _, page) = post(&r, &admin, &add, &[("name", "x")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "physical_mac"),
        e["mac_address"][0].as_str().unwrap(),
        "{e}"
    );
    let (st, _, page) = post(&r, &admin, &add, &[("mac_address", "zz")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "physical_mac"),
        "'zz' is not a valid MAC address."
    );
    let taken = ifaces(&r, &m).await[0]["mac_address"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, e) = r
        .admin
        .op(
            &format!("nodes/{m}/interfaces/"),
            "create_physical",
            &[("mac_address", &taken)],
        )
        .await;
    let (st, _, page) = post(&r, &admin, &add, &[("mac_address", &taken)]).await;
    assert_eq!(st, 400);
    assert!(
        !e["mac_address"][0].as_str().unwrap_or("").is_empty(),
        "{e}"
    );
    assert_eq!(
        field_error(&page, "physical_mac"),
        e["mac_address"][0].as_str().unwrap()
    );
    let before = ifaces(&r, &m).await.len();

    let (st, to, _) = post(&r, &admin, &add, &good).await;
    assert_eq!((st, to), (303, format!("/MAAS/r{path}#interfaces")));
    let list = ifaces(&r, &m).await;
    assert_eq!(list.len(), before + 1);
    let i = named(&list, "eth9").expect("eth9 added");
    assert_eq!(i["mac_address"], "52:54:00:45:00:09");
    assert_eq!(i["type"], "physical");
}
