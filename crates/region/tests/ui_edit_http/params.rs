//! Bond and bridge parameters from the machine page: set when a bond or
//! bridge is added, changed afterwards, refused with the API's own
//! messages; VLANs on bonds and bridges on VLANs, as the API allows.

use crate::common::{self, TestRegion};
use crate::*;

#[tokio::test]
async fn bond_and_bridge_parameters_and_stacked_interfaces() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("params", 2, 2048).await;
    let (st, sn) = r.admin.post("subnets/", &[("cidr", "10.46.0.0/24")]).await;
    assert_eq!(st, 200, "{sn}");
    let vlan = sn["vlan"]["id"].to_string();
    let fabric = sn["vlan"]["fabric_id"].to_string();
    let mut kids = Vec::new();
    for n in ["eth1", "eth2"] {
        let mac = common::random_mac();
        let (st, i) = r
            .admin
            .op(
                &format!("nodes/{m}/interfaces/"),
                "create_physical",
                &[("name", n), ("mac_address", &mac), ("vlan", &vlan)],
            )
            .await;
        assert_eq!(st, 200, "{i}");
        kids.push(i["id"].to_string());
    }
    let admin = sign_in(&r, "admin").await;
    let path = format!("/machine/{m}");
    let bond = |extra: &[(&'static str, &str)]| {
        let mut f = vec![
            ("name", "bond0".to_string()),
            ("parents", kids[0].clone()),
            ("parents", kids[1].clone()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };

    // A value the API refuses is refused here with the API's message.
    let bad = [("bond_num_grat_arp", "300"), ("bond_lacp_rate", "medium")];
    let (st, _, page) = send(&r, &admin, format!("{path}/bond"), bond(&bad)).await;
    assert_eq!(st, 400);
    let mut api_form = vec![
        ("name", "bond0"),
        ("parents", &kids[0]),
        ("parents", &kids[1]),
    ];
    api_form.extend_from_slice(&bad);
    let (st, e) = r
        .admin
        .op(&format!("nodes/{m}/interfaces/"), "create_bond", &api_form)
        .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "bond_num_grat_arp"),
        e["bond_num_grat_arp"][0].as_str().unwrap()
    );
    assert_eq!(
        field_error(&page, "bond_lacp_rate"),
        e["bond_lacp_rate"][0].as_str().unwrap()
    );
    assert!(named(&ifaces(&r, &m).await, "bond0").is_none());

    // Given values are set, the rest take MAAS's defaults.
    let good = [
        ("bond_mode", "802.3ad"),
        ("bond_lacp_rate", "slow"),
        ("bond_miimon", "250"),
        ("bond_xmit_hash_policy", "layer3+4"),
    ];
    let (st, _, page) = send(&r, &admin, format!("{path}/bond"), bond(&good)).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let b = named(&list, "bond0").expect("the bond");
    let p = &b["params"];
    assert_eq!(p["bond_mode"], "802.3ad");
    assert_eq!(p["bond_lacp_rate"], "slow");
    assert_eq!(p["bond_miimon"], 250);
    assert_eq!(p["bond_xmit_hash_policy"], "layer3+4");
    assert_eq!(p["bond_updelay"], 0, "the default");
    let bond_id = b["id"].to_string();

    // A VLAN on the bond, and a bridge on that VLAN with its parameters.
    let (st, tagged) = r
        .admin
        .post(&format!("fabrics/{fabric}/vlans/"), &[("vid", "100")])
        .await;
    assert_eq!(st, 200, "{tagged}");
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains("id=\"params-form\""), "{page}");
    let f = vec![
        ("parent", bond_id.clone()),
        ("vlan", tagged["id"].to_string()),
    ];
    let (st, _, page) = send(&r, &admin, format!("{path}/vlan"), f).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let v = named(&list, "bond0.100").expect("the VLAN on the bond");
    assert_eq!(v["parents"], serde_json::json!(["bond0"]));
    let f = vec![
        ("name", "br100".to_string()),
        ("parent", v["id"].to_string()),
        ("bridge_stp", "true".to_string()),
        ("bridge_fd", "5".to_string()),
    ];
    let (st, _, page) = send(&r, &admin, format!("{path}/bridge"), f).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let br = named(&list, "br100").expect("the bridge on the VLAN");
    assert_eq!(br["params"]["bridge_stp"], true);
    assert_eq!(br["params"]["bridge_fd"], 5);
    assert_eq!(br["params"]["bridge_type"], "standard", "the default");

    // Parameters of an existing bond: empty fields stay as they were.
    let edit = format!("{path}/interface/params");
    let f = vec![
        ("iface", bond_id.clone()),
        ("bond_mode", "active-backup".to_string()),
        ("bond_miimon", String::new()),
    ];
    let (st, _, page) = send(&r, &admin, edit.clone(), f).await;
    assert_eq!(st, 303, "{page}");
    let list = ifaces(&r, &m).await;
    let p = &named(&list, "bond0").unwrap()["params"];
    assert_eq!(p["bond_mode"], "active-backup");
    assert_eq!(p["bond_miimon"], 250, "unchanged");
    let f = vec![
        ("iface", bond_id.clone()),
        ("bond_miimon", "-5".to_string()),
    ];
    let (st, _, page) = send(&r, &admin, edit, f).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "params_bond_miimon").contains("greater than or equal to 0"),
        "{page}"
    );
    // The table sums up each bond's and bridge's parameters.
    let (_, page) = get(&r, &admin.0, &path).await;
    assert!(page.contains("mode: active-backup"), "{page}");
    assert!(page.contains("stp: true"), "{page}");
}
