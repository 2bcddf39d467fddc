//! `ipaddresses/`: reserve, list, release.

use super::*;

#[tokio::test]
async fn ipaddresses_reserve_list_release() {
    let r = TestRegion::start().await;
    let (sid, _, _) = network(&r).await;
    let bob = r.user("bob", false).await;

    let (st, a) = r
        .alice
        .op("ipaddresses/", "reserve", &[("subnet", &sid.to_string())])
        .await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["ip"], "10.30.0.10");
    assert_eq!(a["alloc_type"], 4);
    assert_eq!(a["alloc_type_name"], "User reserved");
    assert_eq!(a["owner"]["username"], "alice");
    assert_eq!(a["subnet"]["id"], sid);
    assert_eq!(a["resource_uri"], "/MAAS/api/2.0/ipaddresses/");
    assert!(a["created"].is_string());
    assert_eq!(a["interface_set"], serde_json::json!([]));
    let (st, b) = bob
        .op(
            "ipaddresses/",
            "reserve",
            &[("ip_address", "10.30.0.200"), ("hostname", "h")],
        )
        .await;
    assert_eq!(st, 200, "{b}");

    // With a MAC (a static lease for the racks); not a node's MAC.
    let (st, c) = bob
        .op(
            "ipaddresses/",
            "reserve",
            &[("ip", "10.30.0.201"), ("mac", "52:54:00:aa:bb:cc")],
        )
        .await;
    assert_eq!(st, 200, "{c}");
    let (st, _) = bob
        .op("ipaddresses/", "release", &[("ip", "10.30.0.201")])
        .await;
    assert_eq!(st, 204);
    let m = r.ready_machine("res-1", 1, 1024).await;
    let (st, l) = r.admin.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    assert_eq!(st, 200);
    let node_mac = l[0]["mac_address"].as_str().unwrap().to_string();
    let (st, e) = bob
        .op(
            "ipaddresses/",
            "reserve",
            &[("ip", "10.30.0.202"), ("mac_address", &node_mac)],
        )
        .await;
    assert_eq!(st, 400, "{e}");

    // Refusals.
    let n = r.count("SELECT count(*) FROM ip_reservations").await;
    for (form, want) in [
        (vec![("ip", "10.30.0.10")], 404),
        (vec![("ip", "10.30.0.120")], 403),
        (vec![("ip", "10.99.0.1")], 400),
        (vec![("subnet", "nope")], 400),
        (vec![], 400),
    ] {
        let (st, e) = bob.op("ipaddresses/", "reserve", &form).await;
        assert_eq!(st, want, "{form:?}: {e}");
    }
    assert_eq!(r.count("SELECT count(*) FROM ip_reservations").await, n);

    // Listing: one's own; all for admins only.
    let (st, l) = r.alice.get("ipaddresses/", &[]).await;
    assert_eq!(st, 200, "{l}");
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (st, _) = r.alice.get("ipaddresses/", &[("all", "true")]).await;
    assert_eq!(st, 403);
    let (st, l) = r.admin.get("ipaddresses/", &[("all", "true")]).await;
    assert_eq!(st, 200);
    assert_eq!(l.as_array().unwrap().len(), 2);
    let (st, l) = r.admin.get("ipaddresses/", &[("owner", "bob")]).await;
    assert_eq!(st, 200);
    assert_eq!(l[0]["ip"], "10.30.0.200");
    let (st, l) = r
        .admin
        .get("ipaddresses/", &[("all", "true"), ("ip", "10.30.0.10")])
        .await;
    assert_eq!(st, 200);
    assert_eq!(l.as_array().unwrap().len(), 1);

    // Release: one's own; others' only by force (admin).
    let (st, e) = bob
        .op("ipaddresses/", "release", &[("ip", "10.30.0.10")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, _) = bob
        .op(
            "ipaddresses/",
            "release",
            &[("ip", "10.30.0.10"), ("force", "true")],
        )
        .await;
    assert_eq!(st, 403);
    let (st, _) = bob
        .op("ipaddresses/", "release", &[("ip", "10.30.0.200")])
        .await;
    assert_eq!(st, 204);
    let (st, _) = r
        .admin
        .op(
            "ipaddresses/",
            "release",
            &[("ip", "10.30.0.10"), ("force", "true")],
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(r.count("SELECT count(*) FROM ip_reservations").await, 0);
    r.stop().await;
}
