//! The rest of an interface's settings from the machine page, as the
//! interface PUT takes them: VLAN (or disconnected), MAC, enabled, accept
//! RA, link state and speeds; bad values beside their fields.

use crate::common::{self, TestRegion};
use crate::*;

#[tokio::test]
async fn vlan_mac_link_and_speeds_of_an_interface() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("iface-more", 2, 2048).await;
    let (st, f) = r.admin.post("fabrics/", &[("name", "other")]).await;
    assert_eq!(st, 200, "{f}");
    let other = f["vlans"][0]["id"].to_string();
    let eth0 = ifaces(&r, &m).await[0]["id"].to_string();
    let admin = sign_in(&r, "admin").await;
    let set = format!("/machine/{m}/interface");

    let (st, _, page) = post(
        &r,
        &admin,
        &set,
        &[
            ("iface", &eth0),
            ("mac_address", "zz"),
            ("link_speed", "-1"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "iface_mac"),
        "'zz' is not a valid MAC address."
    );
    assert_eq!(
        field_error(&page, "iface_link_speed"),
        "Ensure this value is greater than or equal to 0."
    );
    let mac = common::random_mac();
    let form = [
        ("iface", eth0.as_str()),
        ("vlan", other.as_str()),
        ("mac_address", mac.as_str()),
        ("enabled", "false"),
        ("accept_ra", "true"),
        ("link_connected", "false"),
        ("link_speed", "1000"),
        ("interface_speed", "10000"),
    ];
    let (st, _, page) = post(&r, &admin, &set, &form).await;
    assert_eq!(st, 303, "{page}");
    let i = ifaces(&r, &m).await[0].clone();
    assert_eq!(i["vlan"]["id"].to_string(), other, "{i}");
    assert_eq!(i["mac_address"], mac.as_str());
    assert_eq!(i["enabled"], false);
    assert_eq!(i["params"]["accept-ra"], true, "{i}");
    assert_eq!(i["link_connected"], false);
    assert_eq!(
        (i["link_speed"].as_i64(), i["interface_speed"].as_i64()),
        (Some(1000), Some(10000))
    );
    // Disconnected; other settings stay.
    let (st, _, _) = post(&r, &admin, &set, &[("iface", &eth0), ("vlan", "none")]).await;
    assert_eq!(st, 303);
    let i = ifaces(&r, &m).await[0].clone();
    assert!(i["vlan"].is_null(), "{i}");
    assert_eq!(i["enabled"], false, "unchanged");
}

#[tokio::test]
async fn a_link_with_default_gateway_and_force() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("link-opts", 2, 2048).await;
    let (_, a) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "10.47.0.0/24"), ("gateway_ip", "10.47.0.1")],
        )
        .await;
    let (_, f) = r.admin.post("fabrics/", &[("name", "elsewhere")]).await;
    let other_vlan = f["vlans"][0]["id"].to_string();
    let (_, b) = r
        .admin
        .post(
            "subnets/",
            &[
                ("cidr", "10.48.0.0/24"),
                ("gateway_ip", "10.48.0.1"),
                ("vlan", &other_vlan),
            ],
        )
        .await;
    let eth0 = ifaces(&r, &m).await[0]["id"].to_string();
    let (st, v) = r
        .admin
        .put(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            &[("vlan", &a["vlan"]["id"].to_string())],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let admin = sign_in(&r, "admin").await;
    let link = format!("/machine/{m}/link");
    let (sa, sb) = (a["id"].to_string(), b["id"].to_string());
    let (st, _, page) = post(
        &r,
        &admin,
        &link,
        &[
            ("iface", &eth0),
            ("subnet", &sa),
            ("mode", "auto"),
            ("default_gateway", "1"),
        ],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let (_, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(
        mj["default_gateways"]["ipv4"]["gateway_ip"], "10.47.0.1",
        "{mj}"
    );
    // A subnet on another VLAN: refused as the API refuses, unless forced.
    let other = [
        ("iface", eth0.as_str()),
        ("subnet", sb.as_str()),
        ("mode", "auto"),
    ];
    let (st, _, _) = post(&r, &admin, &link, &other).await;
    assert_eq!(st, 400);
    let (st, e) = r
        .admin
        .op(
            &format!("nodes/{m}/interfaces/{eth0}/"),
            "link_subnet",
            &[("subnet", &sb), ("mode", "AUTO")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let mut forced = other.to_vec();
    forced.push(("force", "1"));
    let (st, _, page) = post(&r, &admin, &link, &forced).await;
    assert_eq!(st, 303, "{page}");
    let i = ifaces(&r, &m).await[0].clone();
    assert!(i["links"].to_string().contains("10.48.0.0/24"), "{i}");
}
