//! `nodes/{system_id}/interfaces/...`, machine gateways and networking
//! restore, and `ipaddresses/`: every operation, gomaasapi's strict shapes,
//! refusals that write nothing.

use maas_testkit as common;

use common::TestRegion;
use common::shape::{boolean, check_link, check_vlan, int, nullable, obj, string};
use serde_json::Value;

mod ipaddresses;
mod libmaas;

/// gomaasapi `interface_2_0`, plus the keys MAAS always renders.
fn check_interface(v: &Value) {
    let o = obj(v, "interface");
    string(o, "resource_uri", "interface");
    int(o, "id", "interface");
    string(o, "name", "interface");
    string(o, "type", "interface");
    boolean(o, "enabled", "interface");
    nullable(o, "tags", "interface", |t| {
        t.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    });
    if !o["vlan"].is_null() {
        check_vlan(&o["vlan"]);
    }
    for l in o["links"].as_array().expect("links") {
        check_link(l);
    }
    nullable(o, "mac_address", "interface", Value::is_string);
    int(o, "effective_mtu", "interface");
    for k in ["parents", "children"] {
        assert!(
            o[k].as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "interface.{k}: {v}"
        );
    }
    for k in [
        "system_id",
        "params",
        "discovered",
        "vendor",
        "product",
        "firmware_version",
        "link_connected",
        "interface_speed",
        "link_speed",
        "numa_node",
        "sriov_max_vf",
    ] {
        assert!(o.contains_key(k), "interface.{k} missing: {v}");
    }
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

async fn links_count(r: &TestRegion) -> i64 {
    r.count("SELECT count(*) FROM interface_links").await
}

async fn ifaces_count(r: &TestRegion) -> i64 {
    r.count("SELECT count(*) FROM interfaces").await
}

/// A subnet 10.30.0.0/24 (gateway .1) on fabric-0's untagged VLAN with a
/// reserved range .2–.9 and a dynamic range .100–.150; a tagged VLAN 20 on
/// the same fabric. (subnet id, untagged vlan id, tagged vlan id)
async fn network(r: &TestRegion) -> (i64, i64, i64) {
    let (st, s) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "10.30.0.0/24"), ("gateway_ip", "10.30.0.1")],
        )
        .await;
    assert_eq!(st, 200, "{s}");
    let sid = s["id"].as_i64().unwrap();
    let vlan = s["vlan"]["id"].as_i64().unwrap();
    let fabric = s["vlan"]["fabric_id"].as_i64().unwrap();
    for (t, a, b) in [
        ("reserved", "10.30.0.2", "10.30.0.9"),
        ("dynamic", "10.30.0.100", "10.30.0.150"),
    ] {
        let (st, x) = r
            .admin
            .post(
                "ipranges/",
                &[
                    ("type", t),
                    ("start_ip", a),
                    ("end_ip", b),
                    ("subnet", &sid.to_string()),
                ],
            )
            .await;
        assert_eq!(st, 200, "{x}");
    }
    let (st, v) = r
        .admin
        .post(&format!("fabrics/{fabric}/vlans/"), &[("vid", "20")])
        .await;
    assert_eq!(st, 200, "{v}");
    (sid, vlan, v["id"].as_i64().unwrap())
}

#[tokio::test]
async fn bonds_bridges_vlans_and_links() {
    let r = TestRegion::start().await;
    let (sid, vlan, tagged) = network(&r).await;
    let (sid_s, vlan_s, tagged_s) = (sid.to_string(), vlan.to_string(), tagged.to_string());
    let m = r.ready_machine("net-1", 2, 2048).await;
    let base = format!("nodes/{m}/interfaces/");

    // The commissioned interface, put on the subnet's VLAN.
    let (st, list) = r.alice.get(&base, &[]).await;
    assert_eq!(st, 200, "{list}");
    let eth0 = list[0]["id"].as_i64().unwrap();
    let eth0_mac = list[0]["mac_address"].as_str().unwrap().to_string();
    check_interface(&list[0]);
    let (st, i) = r
        .admin
        .put(
            &format!("{base}{eth0}/"),
            &[("vlan", &vlan_s), ("mtu", "9000")],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["vlan"]["id"], vlan);
    assert_eq!(i["params"]["mtu"], 9000);
    assert_eq!(i["effective_mtu"], 9000);

    // create_physical: unique MAC, admin only.
    let mac = common::random_mac();
    let (st, e) = r
        .alice
        .op(&base, "create_physical", &[("mac_address", &mac)])
        .await;
    assert_eq!(st, 403, "{e}");
    let (st, eth1) = r
        .admin
        .op(
            &base,
            "create_physical",
            &[
                ("name", "eth1"),
                ("mac_address", &mac),
                ("vlan", &vlan_s),
                ("tags", "a,b"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{eth1}");
    check_interface(&eth1);
    assert_eq!(eth1["type"], "physical");
    assert_eq!(eth1["params"], "");
    assert_eq!(names(&eth1["tags"]), ["a", "b"]);
    let eth1_id = eth1["id"].as_i64().unwrap();
    let (st, e) = r
        .admin
        .op(&base, "create_physical", &[("mac_address", &mac)])
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["mac_address"].is_array(), "{e}");

    // create_bond: bad mode, unknown parent, then a good one.
    let other = r.ready_machine("net-2", 2, 2048).await;
    let before = ifaces_count(&r).await;
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[
                ("name", "bond0"),
                ("parents", &eth0.to_string()),
                ("parents", &eth1_id.to_string()),
                ("bond_mode", "fastest"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(
        e["bond_mode"][0]
            .as_str()
            .unwrap()
            .contains("'fastest' is not a valid bond_mode")
    );
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[("name", "bond0"), ("parents", "999999")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["parents"].is_array(), "{e}");
    // Parents of another node.
    let (st, ol) = r
        .admin
        .get(&format!("nodes/{other}/interfaces/"), &[])
        .await;
    assert_eq!(st, 200);
    let other_eth = ol[0]["id"].as_i64().unwrap().to_string();
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[
                ("name", "bond0"),
                ("parents", &eth0.to_string()),
                ("parents", &other_eth),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(ifaces_count(&r).await, before, "nothing written");

    // A static link on eth0 first: it moves to the bond.
    let (st, i) = r
        .admin
        .op(
            &format!("{base}{eth0}/"),
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &sid_s),
                ("ip_address", "10.30.0.50"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["links"][0]["ip_address"], "10.30.0.50");
    assert_eq!(i["links"][0]["mode"], "static");

    let (st, bond) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[
                ("name", "bond0"),
                ("parents", &eth0.to_string()),
                ("parents", &eth1_id.to_string()),
                ("bond_mode", "802.3ad"),
                ("bond_lacp_rate", "slow"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{bond}");
    check_interface(&bond);
    assert_eq!(bond["type"], "bond");
    assert_eq!(names(&bond["parents"]), ["eth0", "eth1"]);
    assert_eq!(bond["mac_address"], eth0_mac.as_str());
    assert_eq!(bond["vlan"]["id"], vlan);
    assert_eq!(bond["params"]["bond_mode"], "802.3ad");
    assert_eq!(bond["params"]["bond_lacp_rate"], "slow");
    assert_eq!(bond["params"]["bond_miimon"], 100);
    assert_eq!(bond["params"]["bond_xmit_hash_policy"], "layer2");
    assert_eq!(bond["links"][0]["ip_address"], "10.30.0.50", "{bond}");
    let bond_id = bond["id"].as_i64().unwrap();
    let (st, e0) = r.admin.get(&format!("{base}{eth0}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(names(&e0["children"]), ["bond0"]);
    assert_eq!(e0["links"], serde_json::json!([]));
    // A parent in one bond only.
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[("name", "bond1"), ("parents", &eth0.to_string())],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["parents"][0], "Interfaces already in-use: eth0.");
    // Linking a bonded parent is refused.
    let (st, e) = r
        .admin
        .op(
            &format!("{base}{eth0}/"),
            "link_subnet",
            &[("mode", "AUTO"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["bond"].is_array(), "{e}");

    // A VLAN on the bond.
    let (st, v) = r
        .admin
        .op(
            &base,
            "create_vlan",
            &[("vlan", &tagged_s), ("parent", &bond_id.to_string())],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    check_interface(&v);
    assert_eq!(v["name"], "bond0.20");
    assert_eq!(v["type"], "vlan");
    assert_eq!(names(&v["parents"]), ["bond0"]);
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_vlan",
            &[("vlan", &vlan_s), ("parent", &bond_id.to_string())],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["vlan"][0],
        "A VLAN interface can only belong to a tagged VLAN."
    );

    // STATIC without an address: the first free one, past the gateway and
    // the reserved range.
    let bond_uri = format!("{base}{bond_id}/");
    let (st, b) = r
        .admin
        .op(
            &bond_uri,
            "link_subnet",
            &[("mode", "static"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let ips: Vec<&str> = b["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ip_address"].as_str())
        .collect();
    assert_eq!(ips, ["10.30.0.50", "10.30.0.10"]);
    for l in b["links"].as_array().unwrap() {
        check_link(l);
    }

    // Bad addresses write nothing.
    let links = links_count(&r).await;
    for (ip, st_want, field) in [
        ("10.31.0.5", 400, Some("ip_address")),
        ("10.30.0.120", 400, Some("ip_address")),
        ("10.30.0.50", 404, None),
        ("10.30.0.5", 404, None),
        ("not-an-ip", 400, Some("ip_address")),
    ] {
        let (st, e) = r
            .admin
            .op(
                &bond_uri,
                "link_subnet",
                &[("mode", "STATIC"), ("subnet", &sid_s), ("ip_address", ip)],
            )
            .await;
        assert_eq!(st, st_want, "{ip}: {e}");
        if let Some(f) = field {
            assert!(e[f].is_array(), "{ip}: {e}");
        }
    }
    let (st, e) = r
        .admin
        .op(
            &bond_uri,
            "link_subnet",
            &[("mode", "bogus"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["mode"][0],
        "'bogus' is not a valid mode.  It should be one of: 'auto', 'dhcp', 'static', 'link_up'."
    );
    let (st, e) = r
        .admin
        .op(
            &bond_uri,
            "link_subnet",
            &[("mode", "STATIC"), ("subnet", "99999")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(links_count(&r).await, links);

    // A user reservation blocks the allocator.
    let (st, res) = r
        .alice
        .op("ipaddresses/", "reserve", &[("ip", "10.30.0.11")])
        .await;
    assert_eq!(st, 200, "{res}");
    let (st, b) = r
        .admin
        .op(
            &bond_uri,
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &sid_s),
                ("default_gateway", "true"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let last = b["links"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ip_address"], "10.30.0.12");
    let (st, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(mj["default_gateways"]["ipv4"]["link_id"], last["id"]);
    assert_eq!(mj["default_gateways"]["ipv4"]["gateway_ip"], "10.30.0.1");
    let ips = names(&mj["ip_addresses"]);
    assert!(ips.contains(&"10.30.0.12".to_string()), "{ips:?}");
    let set: Vec<String> = mj["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(set, ["eth0", "eth1", "bond0", "bond0.20"]);
    for i in mj["interface_set"].as_array().unwrap() {
        check_interface(i);
    }

    // set_default_gateway / clear_default_gateways.
    // Without link_id: the first link with a gateway of each family.
    let (st, e) = r.admin.op(&bond_uri, "set_default_gateway", &[]).await;
    assert_eq!(st, 200, "{e}");
    let first = b["links"][0]["id"].to_string();
    let (st, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(mj["default_gateways"]["ipv4"]["link_id"].to_string(), first);
    let second = b["links"][1]["id"].to_string();
    let (st, _) = r
        .admin
        .op(&bond_uri, "set_default_gateway", &[("link_id", &second)])
        .await;
    assert_eq!(st, 200);
    let (st, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(
        mj["default_gateways"]["ipv4"]["link_id"].to_string(),
        second
    );
    let (st, e) = r
        .admin
        .op(&bond_uri, "set_default_gateway", &[("link_id", "999999")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["link_id"].is_array(), "{e}");
    let (st, _) = r
        .admin
        .op(&bond_uri, "set_default_gateway", &[("link_id", &first)])
        .await;
    assert_eq!(st, 200);
    let (st, mj) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(mj["default_gateways"]["ipv4"]["link_id"].to_string(), first);
    let (st, mj) = r
        .admin
        .op(&format!("machines/{m}/"), "clear_default_gateways", &[])
        .await;
    assert_eq!(st, 200, "{mj}");
    assert!(mj["default_gateways"]["ipv4"]["link_id"].is_null());

    // unlink_subnet.
    let (st, e) = r
        .admin
        .op(&bond_uri, "unlink_subnet", &[("id", "999999")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, b2) = r
        .admin
        .op(&bond_uri, "unlink_subnet", &[("id", &first)])
        .await;
    assert_eq!(st, 200, "{b2}");
    assert_eq!(b2["links"].as_array().unwrap().len(), 2);

    // Tags.
    let (st, b3) = r.admin.op(&bond_uri, "add_tag", &[("tag", "fast")]).await;
    assert_eq!(st, 200, "{b3}");
    assert_eq!(names(&b3["tags"]), ["fast"]);
    let (st, b3) = r
        .admin
        .op(&bond_uri, "remove_tag", &[("tag", "fast")])
        .await;
    assert_eq!(st, 200, "{b3}");
    assert_eq!(names(&b3["tags"]), Vec::<String>::new());

    // Update bond parameters; a bad one is refused.
    let (st, b4) = r
        .admin
        .put(
            &bond_uri,
            &[("bond_mode", "active-backup"), ("bond_miimon", "200")],
        )
        .await;
    assert_eq!(st, 200, "{b4}");
    assert_eq!(b4["params"]["bond_mode"], "active-backup");
    assert_eq!(b4["params"]["bond_miimon"], 200);
    let (st, e) = r.admin.put(&bond_uri, &[("bond_miimon", "-1")]).await;
    assert_eq!(st, 400, "{e}");

    // Unknown ids.
    let (st, _) = r.admin.get(&format!("{base}999999/"), &[]).await;
    assert_eq!(st, 404);
    let (st, _) = r.admin.get("nodes/xyz123/interfaces/", &[]).await;
    assert_eq!(st, 404);
    let (st, _) = r
        .admin
        .op(&format!("{base}999999/"), "disconnect", &[])
        .await;
    assert_eq!(st, 404);

    // Wrong status: 409, nothing written.
    r.force_status(&m, 6).await;
    let (links, ifaces) = (links_count(&r).await, ifaces_count(&r).await);
    let (st, e) = r
        .admin
        .op(
            &bond_uri,
            "link_subnet",
            &[("mode", "AUTO"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, e) = r
        .admin
        .op(&base, "create_bridge", &[("parent", &bond_id.to_string())])
        .await;
    assert_eq!(st, 409, "{e}");
    let (st, _) = r.admin.delete(&bond_uri).await;
    assert_eq!(st, 409);
    // Deployed: the name may still change.
    let (st, b5) = r.admin.put(&bond_uri, &[("name", "bond9")]).await;
    assert_eq!(st, 200, "{b5}");
    assert_eq!(b5["name"], "bond9");
    assert_eq!(
        (links_count(&r).await, ifaces_count(&r).await),
        (links, ifaces)
    );
    r.force_status(&m, 4).await;

    // A bridge on eth... (the bond's parents are taken): on the VLAN.
    let (st, br) = r
        .admin
        .op(
            &base,
            "create_bridge",
            &[
                ("parent", &v["id"].to_string()),
                ("bridge_type", "ovs"),
                ("bridge_stp", "true"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{br}");
    check_interface(&br);
    assert_eq!(br["name"], "br-bond9.20");
    assert_eq!(br["type"], "bridge");
    assert_eq!(br["params"]["bridge_type"], "ovs");
    assert_eq!(br["params"]["bridge_stp"], true);
    assert_eq!(br["params"]["bridge_fd"], 15);
    // Terraform sends `parents` for a bridge; a parent in a bond is refused.
    let (st, e) = r
        .admin
        .op(
            &base,
            "create_bridge",
            &[("name", "br9"), ("parents", &eth0.to_string())],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["parent"][0],
        "A bridge interface can't have a parent that is already in a bond or a bridge."
    );
    let (st, e) = r.admin.op(&base, "create_bridge", &[("name", "br9")]).await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e["parent"][0],
        "A bridge interface must have at least one parent."
    );

    // disconnect.
    let (st, d) = r.admin.op(&bond_uri, "disconnect", &[]).await;
    assert_eq!(st, 200, "{d}");
    assert!(d["vlan"].is_null());
    assert_eq!(d["links"], serde_json::json!([]));

    // Deleting the bond deletes the VLAN and bridge built on it only.
    let (st, _) = r.admin.delete(&bond_uri).await;
    assert_eq!(st, 204);
    let (st, list) = r.admin.get(&base, &[]).await;
    assert_eq!(st, 200);
    let left: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["eth0", "eth1"]);

    // DHCP once; LINK_UP only with force (which drops the other links);
    // admins only.
    let eth1_uri = format!("{base}{eth1_id}/");
    let (st, _) = r
        .alice
        .op(
            &eth1_uri,
            "link_subnet",
            &[("mode", "DHCP"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 403);
    let (st, x) = r
        .admin
        .op(
            &eth1_uri,
            "link_subnet",
            &[("mode", "DHCP"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 200, "{x}");
    assert_eq!(x["links"][0]["mode"], "dhcp");
    let (st, e) = r
        .admin
        .op(&eth1_uri, "link_subnet", &[("mode", "dhcp")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(
        e["mode"][0]
            .as_str()
            .unwrap()
            .starts_with("Interface is already set to DHCP")
    );
    let (st, e) = r
        .admin
        .op(
            &eth1_uri,
            "link_subnet",
            &[("mode", "LINK_UP"), ("subnet", &sid_s)],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, x) = r
        .admin
        .op(
            &eth1_uri,
            "link_subnet",
            &[("mode", "LINK_UP"), ("subnet", &sid_s), ("force", "true")],
        )
        .await;
    assert_eq!(st, 200, "{x}");
    let modes: Vec<&str> = x["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["link_up"]);
    let (st, e) = r
        .admin
        .op(
            &eth1_uri,
            "link_subnet",
            &[
                ("mode", "DHCP"),
                ("subnet", &sid_s),
                ("default_gateway", "true"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(e["default_gateway"][0], "Cannot use in mode 'dhcp'.");

    // restore_networking_configuration: bonds go, the boot interface AUTO.
    let (st, _) = r
        .admin
        .op(
            &base,
            "create_bond",
            &[
                ("name", "bond2"),
                ("parents", &eth0.to_string()),
                ("parents", &eth1_id.to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200);
    r.force_status(&m, 6).await;
    let (st, e) = r
        .admin
        .op(
            &format!("machines/{m}/"),
            "restore_networking_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 409, "{e}");
    r.force_status(&m, 4).await;
    let (st, e) = r
        .alice
        .op(
            &format!("machines/{m}/"),
            "restore_networking_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 403, "{e}");
    let (st, mj) = r
        .admin
        .op(
            &format!("machines/{m}/"),
            "restore_networking_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 200, "{mj}");
    // eth1 was added by hand: it goes too.
    let set = mj["interface_set"].as_array().unwrap();
    assert_eq!(set.len(), 1, "{mj}");
    assert_eq!(mj["boot_interface"]["links"][0]["mode"], "auto", "{mj}");
    assert!(mj["boot_interface"]["links"][0].get("ip_address").is_none());

    // Deploying claims the AUTO address (the first free one); releasing
    // gives it back.
    let (st, d) = r.admin.op(&format!("machines/{m}/"), "deploy", &[]).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(
        d["boot_interface"]["links"][0]["ip_address"], "10.30.0.10",
        "{d}"
    );
    assert_eq!(names(&d["ip_addresses"]), ["10.30.0.10"]);
    let (st, d) = r.admin.op(&format!("machines/{m}/"), "release", &[]).await;
    assert_eq!(st, 200, "{d}");
    assert!(
        d["boot_interface"]["links"][0].get("ip_address").is_none(),
        "{d}"
    );
    r.stop().await;
}
