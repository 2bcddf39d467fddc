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
