//! IP ranges and reserved IPs.

use super::*;

#[tokio::test]
async fn ipranges_crud_and_validation() {
    let r = TestRegion::start().await;
    let s = subnet(&r, &[("cidr", "10.6.0.0/24"), ("gateway_ip", "10.6.0.1")]).await;
    let sid = id(&s);
    subnet(&r, &[("cidr", "10.7.0.0/24")]).await;
    let (st, d) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.6.0.100"),
                ("end_ip", "10.6.0.150"),
                ("comment", "pool"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    let did = id(&d);
    assert_eq!(d["type"], "dynamic");
    assert_eq!(d["start_ip"], "10.6.0.100");
    assert_eq!(d["end_ip"], "10.6.0.150");
    assert_eq!(d["comment"], "pool");
    // The user as an object (gomaasclient decodes it into a User struct).
    assert_eq!(d["user"]["username"], "admin");
    assert_eq!(d["user"]["is_superuser"], true);
    assert_eq!(d["user"]["resource_uri"], "/MAAS/api/2.0/users/admin/");
    assert_eq!(d["subnet"]["id"], sid);
    assert_eq!(d["subnet"]["cidr"], "10.6.0.0/24");
    assert_eq!(d["resource_uri"], format!("/MAAS/api/2.0/ipranges/{did}/"));
    // A reserved range may cover the gateway.
    let (st, rsv) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "reserved"),
                ("start_ip", "10.6.0.1"),
                ("end_ip", "10.6.0.9"),
                ("subnet", "10.6.0.0/24"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rsv}");

    let before = counts(&r).await;
    for (form, field) in [
        (
            vec![("start_ip", "10.6.0.20"), ("end_ip", "10.6.0.30")],
            "type",
        ),
        (
            vec![
                ("type", "static"),
                ("start_ip", "10.6.0.20"),
                ("end_ip", "10.6.0.30"),
            ],
            "type",
        ),
        (
            vec![("type", "dynamic"), ("end_ip", "10.6.0.30")],
            "start_ip",
        ),
        (
            vec![("type", "dynamic"), ("start_ip", "10.6.0.20")],
            "end_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.x"),
                ("end_ip", "10.6.0.30"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.30"),
                ("end_ip", "10.6.0.20"),
            ],
            "end_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.200"),
                ("end_ip", "10.7.0.5"),
            ],
            "end_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.200"),
                ("end_ip", "fd00::5"),
            ],
            "end_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.140"),
                ("end_ip", "10.6.0.160"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "reserved"),
                ("start_ip", "10.6.0.90"),
                ("end_ip", "10.6.0.100"),
            ],
            "end_ip",
        ),
        (
            vec![
                ("type", "reserved"),
                ("start_ip", "10.6.0.5"),
                ("end_ip", "10.6.0.12"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.200"),
                ("end_ip", "10.6.0.255"),
            ],
            "end_ip",
        ),
        (
            vec![
                ("type", "reserved"),
                ("start_ip", "10.6.0.0"),
                ("end_ip", "10.6.0.0"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "192.168.99.5"),
                ("end_ip", "192.168.99.9"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.200"),
                ("end_ip", "10.6.0.210"),
                ("subnet", "10.7.0.0/24"),
            ],
            "start_ip",
        ),
        (
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.6.0.200"),
                ("end_ip", "10.6.0.210"),
                ("subnet", "99999"),
            ],
            "subnet",
        ),
    ] {
        let (st, e) = r.admin.post("ipranges/", &form).await;
        bad(st, &e, field, &format!("{form:?}"));
    }
    assert_eq!(counts(&r).await, before, "nothing written");
    // A dynamic range may not hold the gateway; the message says so.
    let s2 = subnet(&r, &[("cidr", "10.8.0.0/24"), ("gateway_ip", "10.8.0.50")]).await;
    let (st, e) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.8.0.10"),
                ("end_ip", "10.8.0.90"),
            ],
        )
        .await;
    bad(st, &e, "start_ip", "covers gateway");
    assert!(
        e["start_ip"][0].as_str().unwrap().contains("gateway"),
        "{e}"
    );
    // IPv6 ranges.
    subnet(
        &r,
        &[
            ("cidr", "fd00:8::/64"),
            ("fabric", &s2["vlan"]["fabric_id"].to_string()),
        ],
    )
    .await;
    let (st, v6) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "fd00:8::1:0:0"),
                ("end_ip", "fd00:8::1:0:ffff"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v6}");
    let (st, e) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "fd00:8::10"),
                ("end_ip", "fd00:8::20"),
            ],
        )
        .await;
    bad(st, &e, "start_ip", "MAAS reserves ::1-::ffff:ffff of a /64");

    // Reads.
    let (st, list) = r.alice.get("ipranges/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let uri = format!("ipranges/{did}/");
    let (st, got) = r.alice.get(&uri, &[]).await;
    assert_eq!((st, &got), (200, &d));
    assert_eq!(r.alice.get("ipranges/99999/", &[]).await.0, 404);
    assert_eq!(r.alice.get("ipranges/x/", &[]).await.0, 404);

    // Updates are checked like creation, without counting the range itself.
    let (st, up) = r
        .admin
        .put(&uri, &[("end_ip", "10.6.0.160"), ("comment", "bigger")])
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["end_ip"], &up["comment"], &up["start_ip"]),
        (&"10.6.0.160".into(), &"bigger".into(), &"10.6.0.100".into())
    );
    let (st, e) = r.admin.put(&uri, &[("start_ip", "10.6.0.5")]).await;
    bad(st, &e, "start_ip", "onto the reserved range");
    let (st, e) = r.admin.put(&uri, &[("end_ip", "10.6.0.99")]).await;
    bad(st, &e, "end_ip", "end before start");
    let (st, e) = r.admin.put(&uri, &[("type", "other")]).await;
    bad(st, &e, "type", "bad type");
    let (_, got) = r.admin.get(&uri, &[]).await;
    assert_eq!(got, up, "failed updates change nothing");
    let (st, up) = r.admin.put(&uri, &[("type", "reserved")]).await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["type"], "reserved");
    assert_eq!(
        r.admin.put("ipranges/99999/", &[("comment", "x")]).await.0,
        404
    );

    assert_eq!(r.admin.delete(&uri).await.0, 204);
    assert_eq!(r.admin.delete(&uri).await.0, 404);
    assert_eq!(r.admin.get(&uri, &[]).await.0, 404);
}

#[tokio::test]
async fn reserved_ips_crud_and_validation() {
    let r = TestRegion::start().await;
    let s = subnet(&r, &[("cidr", "10.8.0.0/24"), ("gateway_ip", "10.8.0.1")]).await;
    let sid = id(&s);
    let other = subnet(
        &r,
        &[
            ("cidr", "10.9.0.0/24"),
            ("vlan", &s["vlan"]["id"].to_string()),
        ],
    )
    .await;
    let (st, _) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.8.0.100"),
                ("end_ip", "10.8.0.199"),
            ],
        )
        .await;
    assert_eq!(st, 200);
    let (st, rip) = r
        .admin
        .post(
            "reservedips/",
            &[
                ("ip", "10.8.0.50"),
                ("mac_address", "52-54-00-AA-BB-CC"),
                ("comment", "bmc"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rip}");
    let rid = id(&rip);
    assert_eq!(rip["ip"], "10.8.0.50");
    assert_eq!(rip["mac_address"], "52:54:00:aa:bb:cc");
    assert_eq!(rip["comment"], "bmc");
    assert_eq!(rip["subnet"]["id"], sid);
    assert_eq!(rip["vlan"]["id"], s["vlan"]["id"]);
    assert_eq!(
        rip["resource_uri"],
        format!("/MAAS/api/2.0/reservedips/{rid}/")
    );
    // Dual stack: the same MAC may hold an IPv6 reservation too.
    subnet(
        &r,
        &[
            ("cidr", "fd00:8::/64"),
            ("vlan", &s["vlan"]["id"].to_string()),
        ],
    )
    .await;
    let (st, v6) = r
        .admin
        .post(
            "reservedips/",
            &[
                ("ip", "fd00:8::1:0:5"),
                ("mac_address", "52:54:00:aa:bb:cc"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v6}");

    let before = counts(&r).await;
    for (form, field) in [
        (vec![("mac_address", "52:54:00:00:00:01")], "ip"),
        (vec![("ip", "10.8.0.51")], "mac_address"),
        (
            vec![("ip", "10.8.0.51"), ("mac_address", "nope")],
            "mac_address",
        ),
        (
            vec![("ip", "10.8.0.x"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.150"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.50"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.0"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.255"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.1"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "172.16.0.1"), ("mac_address", "52:54:00:00:00:01")],
            "ip",
        ),
        (
            vec![("ip", "10.8.0.60"), ("mac_address", "52:54:00:aa:bb:cc")],
            "mac_address",
        ),
        (
            vec![("ip", "10.9.0.60"), ("mac_address", "52:54:00:aa:bb:cc")],
            "mac_address",
        ),
        (
            vec![
                ("ip", "10.8.0.61"),
                ("mac_address", "52:54:00:00:00:01"),
                ("subnet", &id(&other).to_string()),
            ],
            "ip",
        ),
        (
            vec![
                ("ip", "10.8.0.61"),
                ("mac_address", "52:54:00:00:00:01"),
                ("subnet", "nosuch"),
            ],
            "subnet",
        ),
    ] {
        let (st, e) = r.admin.post("reservedips/", &form).await;
        bad(st, &e, field, &format!("{form:?}"));
    }
    // A new dynamic range may not swallow a reserved IP.
    let (st, e) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.8.0.40"),
                ("end_ip", "10.8.0.60"),
            ],
        )
        .await;
    bad(st, &e, "start_ip", "dynamic over a reserved IP");
    assert_eq!(counts(&r).await, before, "nothing written");

    let (st, list) = r.alice.get("reservedips/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let uri = format!("reservedips/{rid}/");
    let (st, got) = r.alice.get(&uri, &[]).await;
    assert_eq!((st, &got), (200, &rip));
    assert_eq!(r.alice.get("reservedips/99999/", &[]).await.0, 404);

    let (st, up) = r
        .admin
        .put(
            &uri,
            &[
                ("comment", "ipmi"),
                ("mac_address", "52:54:00:aa:bb:dd"),
                ("ip", "10.8.0.51"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["comment"], &up["mac_address"], &up["ip"]),
        (
            &"ipmi".into(),
            &"52:54:00:aa:bb:dd".into(),
            &"10.8.0.51".into()
        )
    );
    // Keeping its own address is no conflict; moving into the pool is.
    let (st, _) = r.admin.put(&uri, &[("comment", "same ip")]).await;
    assert_eq!(st, 200);
    let (st, e) = r.admin.put(&uri, &[("ip", "10.8.0.120")]).await;
    bad(st, &e, "ip", "into the dynamic range");
    let (st, e) = r.admin.put(&uri, &[("mac_address", "zz")]).await;
    bad(st, &e, "mac_address", "bad mac");
    // Moving to another subnet follows the address.
    let (st, up) = r.admin.put(&uri, &[("ip", "10.9.0.7")]).await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["subnet"]["id"], other["id"]);
    assert_eq!(
        r.admin
            .put("reservedips/99999/", &[("comment", "x")])
            .await
            .0,
        404
    );

    assert_eq!(r.admin.delete(&uri).await.0, 204);
    assert_eq!(r.admin.delete(&uri).await.0, 404);
    // Deleting the subnet removes its reservations.
    assert_eq!(r.admin.delete(&format!("subnets/{sid}/")).await.0, 204);
    assert_eq!(r.count("SELECT count(*) FROM reserved_ips").await, 1);
}
