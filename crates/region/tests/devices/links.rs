//! A device's interfaces and their links.

use crate::common::{self, TestRegion};

/// A device's interface under `nodes/{id}/interfaces/{id}/`: rename, move
/// to a VLAN, STATIC links (given or picked), DHCP, unlink, delete; refusals
/// write nothing.
#[tokio::test]
async fn device_interface_links() {
    let r = TestRegion::start().await;
    let (a, alice) = (&r.admin, &r.alice);
    let (_, f) = a.post("fabrics/", &[("name", "dev-fab")]).await;
    let vlan = f["vlans"][0]["id"].as_i64().unwrap().to_string();
    let (st, s) = a
        .post("subnets/", &[("cidr", "10.88.0.0/24"), ("vlan", &vlan)])
        .await;
    assert_eq!(st, 200, "{s}");
    let subnet = s["id"].as_i64().unwrap().to_string();
    a.post(
        "ipranges/",
        &[
            ("type", "dynamic"),
            ("start_ip", "10.88.0.100"),
            ("end_ip", "10.88.0.200"),
            ("subnet", &subnet),
        ],
    )
    .await;
    let (st, d) = alice
        .post(
            "devices/",
            &[
                ("hostname", "ctr"),
                ("mac_addresses", &common::random_mac()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let sid = d["system_id"].as_str().unwrap().to_string();
    let iid = d["interface_set"][0]["id"].as_i64().unwrap();
    let uri = format!("nodes/{sid}/interfaces/{iid}/");

    let (st, i) = alice.put(&uri, &[("name", "eth9"), ("vlan", &vlan)]).await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(
        (i["name"].as_str(), i["vlan"]["id"].as_i64()),
        (Some("eth9"), vlan.parse().ok())
    );
    let links = || r.count("SELECT count(*) FROM interface_links");
    for (form, want) in [
        (vec![("mode", "AUTO"), ("subnet", subnet.as_str())], 400),
        (vec![("mode", "sideways"), ("subnet", subnet.as_str())], 400),
        (vec![("mode", "STATIC"), ("subnet", "99999")], 400),
        (
            vec![
                ("mode", "STATIC"),
                ("subnet", subnet.as_str()),
                ("ip_address", "10.99.0.5"),
            ],
            400,
        ),
        (
            vec![
                ("mode", "STATIC"),
                ("subnet", subnet.as_str()),
                ("ip_address", "10.88.0.150"),
            ],
            400,
        ),
        (
            vec![
                ("mode", "STATIC"),
                ("subnet", subnet.as_str()),
                ("ip_address", "nonsense"),
            ],
            400,
        ),
    ] {
        let (st, e) = alice.op(&uri, "link_subnet", &form).await;
        assert_eq!(st, want, "{form:?}: {e}");
    }
    assert_eq!(links().await, 0);
    // Only the owner or an admin.
    let bob = r.user("bob", false).await;
    let form = [("mode", "STATIC"), ("subnet", subnet.as_str())];
    assert_eq!(bob.op(&uri, "link_subnet", &form).await.0, 403);
    assert_eq!(
        alice
            .op(
                &format!("nodes/{sid}/interfaces/999999/"),
                "link_subnet",
                &form
            )
            .await
            .0,
        404
    );

    let (st, i) = alice
        .op(
            &uri,
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &subnet),
                ("ip_address", "10.88.0.7"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["links"][0]["ip_address"], "10.88.0.7");
    // The same address again is taken; without one, the first free comes.
    let (st, _) = a
        .op(
            &uri,
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &subnet),
                ("ip_address", "10.88.0.7"),
            ],
        )
        .await;
    assert_eq!(st, 404);
    let (st, i) = a
        .op(
            &uri,
            "link_subnet",
            &[("mode", "STATIC"), ("subnet", &subnet)],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    let ips: Vec<&str> = i["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ip_address"].as_str())
        .collect();
    assert_eq!(ips.len(), 2, "{i}");
    assert!(ips.contains(&"10.88.0.1"), "{ips:?}");
    let (_, dev) = alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(dev["ip_addresses"].as_array().unwrap().len(), 2, "{dev}");

    let link = i["links"][0]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        alice.op(&uri, "unlink_subnet", &[("id", "424242")]).await.0,
        400
    );
    let (st, i) = alice.op(&uri, "unlink_subnet", &[("id", &link)]).await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["links"].as_array().unwrap().len(), 1);
    assert_eq!(bob.delete(&uri).await.0, 403);
    assert_eq!(alice.delete(&uri).await.0, 204);
    assert_eq!(alice.get(&uri, &[]).await.0, 404);
    assert_eq!(links().await, 0);
}
