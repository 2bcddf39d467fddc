//! Subnets: create, update, delete, placement, reserved ranges and statistics.

use super::*;

#[tokio::test]
async fn subnets_crud_and_validation() {
    let r = TestRegion::start().await;
    let fabrics0 = r.count("SELECT count(*) FROM fabrics").await;
    // No VLAN given: a new fabric with its untagged VLAN, as MAAS would.
    let s = subnet(&r, &[("cidr", "10.1.0.7/24")]).await;
    let sid = id(&s);
    assert_eq!(s["cidr"], "10.1.0.0/24", "normalised");
    assert_eq!(s["name"], "10.1.0.0/24");
    assert_eq!(s["vlan"]["vid"], 0);
    assert_eq!(s["vlan"]["name"], "untagged");
    assert_eq!(s["space"], "undefined");
    assert_eq!(s["gateway_ip"], Value::Null);
    assert_eq!(s["dns_servers"], serde_json::json!([]));
    assert_eq!(s["rdns_mode"], 2);
    assert_eq!(s["allow_dns"], true);
    assert_eq!(s["allow_proxy"], true);
    assert_eq!(s["managed"], true);
    assert_eq!(s["active_discovery"], false);
    assert_eq!(s["description"], "");
    assert_eq!(s["disabled_boot_architectures"], serde_json::json!([]));
    assert_eq!(s["resource_uri"], format!("/MAAS/api/2.0/subnets/{sid}/"));
    assert_eq!(r.count("SELECT count(*) FROM fabrics").await, fabrics0 + 1);

    let f = fabric(&r, "core").await;
    let fid = id(&f).to_string();
    let (st, v10) = r
        .admin
        .post(&format!("fabrics/{fid}/vlans/"), &[("vid", "10")])
        .await;
    assert_eq!(st, 200);
    let two = subnet(
        &r,
        &[
            ("cidr", "10.2.0.0/16"),
            ("name", "two"),
            ("fabric", "core"),
            ("vid", "10"),
            ("gateway_ip", "10.2.0.1"),
            ("dns_servers", "8.8.8.8, 1.1.1.1"),
            ("dns_servers", "10.2.0.53"),
            ("rdns_mode", "1"),
            ("allow_dns", "false"),
            ("managed", "0"),
            ("active_discovery", "true"),
            ("description", "core net"),
        ],
    )
    .await;
    assert_eq!(two["vlan"]["id"], v10["id"]);
    assert_eq!(two["name"], "two");
    assert_eq!(two["gateway_ip"], "10.2.0.1");
    assert_eq!(
        two["dns_servers"],
        serde_json::json!(["8.8.8.8", "1.1.1.1", "10.2.0.53"])
    );
    assert_eq!(
        (&two["rdns_mode"], &two["allow_dns"], &two["managed"]),
        (&1.into(), &false.into(), &false.into())
    );
    assert_eq!(two["active_discovery"], true);
    let by_vlan = subnet(
        &r,
        &[("cidr", "10.4.0.0/24"), ("vlan", &v10["id"].to_string())],
    )
    .await;
    assert_eq!(by_vlan["vlan"]["id"], v10["id"]);
    let by_fabric = subnet(&r, &[("cidr", "10.5.0.0/24"), ("fabric", &fid)]).await;
    assert_eq!(by_fabric["vlan"]["vid"], 0);
    assert_eq!(by_fabric["vlan"]["fabric"], "core");
    // A vid naming exactly one VLAN is enough.
    let by_vid = subnet(&r, &[("cidr", "10.6.0.0/24"), ("vid", "10")]).await;
    assert_eq!(by_vid["vlan"]["id"], v10["id"]);
    let v6 = subnet(
        &r,
        &[
            ("cidr", "FD00:1::/64"),
            ("gateway_ip", "fd00:1::1"),
            ("fabric", &fid),
        ],
    )
    .await;
    assert_eq!(v6["cidr"], "fd00:1::/64");
    assert_eq!(v6["gateway_ip"], "fd00:1::1");

    let before = counts(&r).await;
    for (form, field) in [
        (vec![("name", "x")], "cidr"),
        (vec![("cidr", "")], "cidr"),
        (vec![("cidr", "10.0.0.0/33")], "cidr"),
        (vec![("cidr", "10.0.0.0")], "cidr"),
        (vec![("cidr", "banana")], "cidr"),
        (vec![("cidr", "10.1.0.9/24")], "cidr"),
        (vec![("cidr", "fd00:1::5/64")], "cidr"),
        (
            vec![("cidr", "10.7.0.0/24"), ("gateway_ip", "10.8.0.1")],
            "gateway_ip",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("gateway_ip", "fd00::1")],
            "gateway_ip",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("gateway_ip", "nope")],
            "gateway_ip",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("dns_servers", "8.8.8.8,nope")],
            "dns_servers",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("rdns_mode", "5")],
            "rdns_mode",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("rdns_mode", "x")],
            "rdns_mode",
        ),
        (vec![("cidr", "10.7.0.0/24"), ("vlan", "99999")], "vlan"),
        (
            vec![("cidr", "10.7.0.0/24"), ("fabric", "nosuch")],
            "fabric",
        ),
        (
            vec![("cidr", "10.7.0.0/24"), ("fabric", "core"), ("vid", "99")],
            "vid",
        ),
        (vec![("cidr", "10.7.0.0/24"), ("vid", "0")], "fabric"),
        (
            vec![("cidr", "10.7.0.0/24"), ("managed", "maybe")],
            "managed",
        ),
        (
            vec![
                ("cidr", "10.7.0.0/24"),
                ("fabric", "core"),
                ("vlan", &s["vlan"]["id"].to_string()),
            ],
            "vlan",
        ),
    ] {
        let (st, e) = r.admin.post("subnets/", &form).await;
        bad(st, &e, field, &format!("{form:?}"));
    }
    // Several problems are reported together.
    let (st, e) = r
        .admin
        .post(
            "subnets/",
            &[("cidr", "x"), ("rdns_mode", "9"), ("allow_dns", "?")],
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(e.as_object().unwrap().len(), 3, "{e}");
    assert_eq!(
        counts(&r).await,
        before,
        "nothing written, no fabric left behind"
    );

    // Reads by id, by CIDR, by cidr:, ip: and name: specifiers.
    let (st, got) = r.alice.get(&format!("subnets/{sid}/"), &[]).await;
    assert_eq!((st, &got), (200, &s));
    for spec in [
        "10.1.0.0%2F24",
        "cidr:10.1.0.0%2F24",
        "10.1.0.99%2F24",
        "ip:10.1.0.99",
        "name:10.1.0.0%2F24",
    ] {
        let (st, got) = r.alice.get(&format!("subnets/{spec}/"), &[]).await;
        assert_eq!(st, 200, "{spec}: {got}");
        assert_eq!(got["id"], sid, "{spec}");
    }
    let (st, got) = r.alice.get("subnets/fd00:1::%2F64/", &[]).await;
    assert_eq!((st, got["id"].clone()), (200, v6["id"].clone()));
    for spec in ["99999", "10.99.0.0%2F24", "ip:192.168.77.1", "junk"] {
        assert_eq!(
            r.alice.get(&format!("subnets/{spec}/"), &[]).await.0,
            404,
            "{spec}"
        );
    }
    let (_, list) = r.alice.get("subnets/", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 6);

    // Updates.
    let uri = format!("subnets/{sid}/");
    let (st, up) = r
        .admin
        .put(
            &uri,
            &[
                ("gateway_ip", "10.1.0.254"),
                ("description", "d"),
                ("dns_servers", ""),
            ],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["gateway_ip"], &up["description"]),
        (&"10.1.0.254".into(), &"d".into())
    );
    let (st, e) = r.admin.put(&uri, &[("gateway_ip", "10.9.9.9")]).await;
    bad(st, &e, "gateway_ip", "gateway outside");
    let (st, e) = r.admin.put(&uri, &[("cidr", "10.2.0.0/16")]).await;
    bad(st, &e, "cidr", "cidr taken");
    // Moving the network must keep the gateway and ranges inside.
    let (st, e) = r.admin.put(&uri, &[("cidr", "10.11.0.0/24")]).await;
    bad(st, &e, "gateway_ip", "gateway left behind");
    let (st, _) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "reserved"),
                ("start_ip", "10.1.0.10"),
                ("end_ip", "10.1.0.20"),
            ],
        )
        .await;
    assert_eq!(st, 200);
    let (st, e) = r
        .admin
        .put(
            &uri,
            &[("cidr", "10.1.0.128/25"), ("gateway_ip", "10.1.0.129")],
        )
        .await;
    bad(st, &e, "cidr", "range left behind");
    let (st, up) = r
        .admin
        .put(&uri, &[("cidr", "10.1.0.0/23"), ("gateway_ip", "")])
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["cidr"], &up["name"], &up["gateway_ip"]),
        (&"10.1.0.0/23".into(), &"10.1.0.0/23".into(), &Value::Null)
    );
    let (st, up) = r
        .admin
        .put(&uri, &[("vlan", &v10["id"].to_string()), ("name", "moved")])
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["vlan"]["id"], &up["name"]),
        (&v10["id"], &"moved".into())
    );
    assert_eq!(r.admin.put("subnets/99999/", &[("name", "x")]).await.0, 404);

    // Deleting takes its ranges along; unknown subnets are 404.
    assert_eq!(r.admin.delete(&uri).await.0, 204);
    assert_eq!(r.admin.get(&uri, &[]).await.0, 404);
    assert_eq!(r.admin.delete(&uri).await.0, 404);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 0);
}

#[tokio::test]
async fn subnet_reserved_ranges_and_statistics() {
    let r = TestRegion::start().await;
    let s = subnet(
        &r,
        &[
            ("cidr", "10.5.0.0/24"),
            ("gateway_ip", "10.5.0.1"),
            ("dns_servers", "10.5.0.2"),
        ],
    )
    .await;
    let uri = format!("subnets/{}/", id(&s));
    for (t, a, b) in [
        ("dynamic", "10.5.0.100", "10.5.0.199"),
        ("reserved", "10.5.0.10", "10.5.0.19"),
    ] {
        let (st, v) = r
            .admin
            .post(
                "ipranges/",
                &[
                    ("type", t),
                    ("start_ip", a),
                    ("end_ip", b),
                    ("subnet", &id(&s).to_string()),
                ],
            )
            .await;
        assert_eq!(st, 200, "{v}");
    }
    let (st, reserved) = r.alice.get_op(&uri, "reserved_ip_ranges", &[]).await;
    assert_eq!(st, 200, "{reserved}");
    assert_eq!(
        reserved,
        serde_json::json!([
            {"start": "10.5.0.1", "end": "10.5.0.1", "num_addresses": 1, "purpose": ["gateway-ip"]},
            {"start": "10.5.0.2", "end": "10.5.0.2", "num_addresses": 1, "purpose": ["dns-server"]},
            {"start": "10.5.0.10", "end": "10.5.0.19", "num_addresses": 10, "purpose": ["reserved"]},
            {"start": "10.5.0.100", "end": "10.5.0.199", "num_addresses": 100, "purpose": ["dynamic"]},
        ])
    );
    let (st, free) = r.alice.get_op(&uri, "unreserved_ip_ranges", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(
        free,
        serde_json::json!([
            {"start": "10.5.0.3", "end": "10.5.0.9", "num_addresses": 7},
            {"start": "10.5.0.20", "end": "10.5.0.99", "num_addresses": 80},
            {"start": "10.5.0.200", "end": "10.5.0.254", "num_addresses": 55},
        ])
    );
    let (st, stats) = r.alice.get_op(&uri, "statistics", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(stats["total_addresses"], 254);
    assert_eq!(stats["num_unavailable"], 112);
    assert_eq!(stats["num_available"], 142);
    assert_eq!(stats["largest_available"], 80);
    assert_eq!(stats["usage_string"], "44%");
    assert_eq!(stats["available_string"], "56%");
    assert!((stats["usage"].as_f64().unwrap() - 112.0 / 254.0).abs() < 1e-9);
    assert_eq!(stats["ip_version"], 4);
    assert_eq!(stats["first_address"], "10.5.0.1");
    assert_eq!(stats["last_address"], "10.5.0.254");
    assert!(stats.get("ranges").is_none());
    let (_, stats) = r
        .alice
        .get_op(
            &uri,
            "statistics",
            &[("include_ranges", "1"), ("include_suggestions", "true")],
        )
        .await;
    assert_eq!(stats["ranges"].as_array().unwrap().len(), 7, "{stats}");
    assert_eq!(stats["suggested_gateway"], Value::Null, "has one already");
    assert_eq!(
        stats["suggested_dynamic_range"],
        Value::Null,
        "has one already"
    );
    let (st, _) = r
        .alice
        .get_op(&uri, "statistics", &[("include_ranges", "sometimes")])
        .await;
    assert_eq!(st, 400);
    assert_eq!(r.alice.get_op(&uri, "no_such_op", &[]).await.0, 400);
    assert_eq!(
        r.alice.get_op("subnets/99999/", "statistics", &[]).await.0,
        404
    );

    // Edge sizes.
    let fresh = subnet(&r, &[("cidr", "192.168.10.0/24")]).await;
    let (_, st24) = r
        .alice
        .get_op(
            &format!("subnets/{}/", id(&fresh)),
            "statistics",
            &[("include_suggestions", "1")],
        )
        .await;
    assert_eq!(
        (
            &st24["total_addresses"],
            &st24["num_available"],
            &st24["usage_string"]
        ),
        (&254.into(), &254.into(), &"0%".into())
    );
    assert_eq!(st24["suggested_gateway"], "192.168.10.1");
    assert_eq!(st24["suggested_dynamic_range"]["end"], "192.168.10.254");
    for (cidr, total) in [
        ("10.31.0.0/31", 2),
        ("10.32.0.7/32", 1),
        ("10.30.0.0/30", 2),
    ] {
        let s = subnet(&r, &[("cidr", cidr)]).await;
        let (_, st) = r
            .alice
            .get_op(&format!("subnets/{}/", id(&s)), "statistics", &[])
            .await;
        assert_eq!(st["total_addresses"], total, "{cidr}: {st}");
        assert_eq!(st["num_available"], total, "{cidr}: {st}");
        let (_, free) = r
            .alice
            .get_op(&format!("subnets/{}/", id(&s)), "unreserved_ip_ranges", &[])
            .await;
        assert_eq!(free[0]["num_addresses"], total, "{cidr}: {free}");
    }
    let s32 = subnet(&r, &[("cidr", "10.33.0.9/32"), ("gateway_ip", "10.33.0.9")]).await;
    let (_, st) = r
        .alice
        .get_op(&format!("subnets/{}/", id(&s32)), "statistics", &[])
        .await;
    assert_eq!(
        (
            &st["total_addresses"],
            &st["num_unavailable"],
            &st["usage_string"]
        ),
        (&1.into(), &1.into(), &"100%".into())
    );

    // IPv6: MAAS reserves the anycast address and ::1-::ffff:ffff of a /64;
    // totals too big for a JSON number come as strings.
    let v6 = subnet(&r, &[("cidr", "fd00:5::/64")]).await;
    let v6uri = format!("subnets/{}/", id(&v6));
    let (_, st) = r.alice.get_op(&v6uri, "statistics", &[]).await;
    assert_eq!(st["total_addresses"], "18446744073709551616");
    assert_eq!(st["num_unavailable"], 4294967296u64);
    assert_eq!(st["num_available"], "18446744069414584320");
    assert_eq!(st["usage_string"], "0%");
    assert_eq!(st["ip_version"], 6);
    let (_, res) = r.alice.get_op(&v6uri, "reserved_ip_ranges", &[]).await;
    assert_eq!(res[0]["purpose"], serde_json::json!(["rfc-4291-2.6.1"]));
    assert_eq!(res[1]["start"], "fd00:5::1");
    assert_eq!(res[1]["end"], "fd00:5::ffff:ffff");
    let (_, free) = r.alice.get_op(&v6uri, "unreserved_ip_ranges", &[]).await;
    assert_eq!(free[0]["start"], "fd00:5::1:0:0");
    assert_eq!(free[0]["end"], "fd00:5::ffff:ffff:ffff:ffff");
    let v6small = subnet(&r, &[("cidr", "fd00:6::/120")]).await;
    let (_, st) = r
        .alice
        .get_op(&format!("subnets/{}/", id(&v6small)), "statistics", &[])
        .await;
    assert_eq!(
        (&st["total_addresses"], &st["num_unavailable"]),
        (&256.into(), &1.into())
    );
}
