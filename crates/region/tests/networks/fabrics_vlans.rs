//! Fabrics, VLANs (with the DHCP, rack and relay rules) and spaces.

use super::*;

#[tokio::test]
async fn fabrics_crud_with_default_vlan() {
    let r = TestRegion::start().await;
    let (st, f) = r.admin.post("fabrics/", &[]).await;
    assert_eq!(st, 200, "{f}");
    let fid = id(&f);
    assert_eq!(f["name"], format!("fabric-{fid}"));
    assert_eq!(f["class_type"], Value::Null);
    assert_eq!(f["resource_uri"], format!("/MAAS/api/2.0/fabrics/{fid}/"));
    let vlans = f["vlans"].as_array().unwrap();
    assert_eq!(vlans.len(), 1);
    assert_eq!(vlans[0]["vid"], 0);
    assert_eq!(vlans[0]["name"], "untagged");
    assert_eq!(vlans[0]["fabric"], f["name"]);
    assert_eq!(vlans[0]["fabric_id"], fid);
    assert_eq!(vlans[0]["mtu"], 1500);
    assert_eq!(vlans[0]["space"], "undefined");

    let (st, lab) = r
        .admin
        .post(
            "fabrics/",
            &[("name", "lab"), ("class_type", "10g"), ("description", "x")],
        )
        .await;
    assert_eq!(st, 200, "{lab}");
    assert_eq!(lab["class_type"], "10g");
    let lid = id(&lab);

    let before = counts(&r).await;
    let (st, e) = r.admin.post("fabrics/", &[("name", "lab")]).await;
    bad(st, &e, "name", "duplicate");
    let (st, e) = r.admin.post("fabrics/", &[("name", "bad name!")]).await;
    bad(st, &e, "name", "invalid");
    assert_eq!(counts(&r).await, before, "nothing written");

    let (st, list) = r.alice.get("fabrics/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (st, by_name) = r.alice.get("fabrics/lab/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(by_name, lab);
    let (st, by_id) = r.alice.get(&format!("fabrics/{lid}/"), &[]).await;
    assert_eq!((st, &by_id), (200, &lab));
    assert_eq!(r.alice.get("fabrics/99999/", &[]).await.0, 404);

    let (st, up) = r
        .admin
        .put(
            &format!("fabrics/{lid}/"),
            &[("name", "lab2"), ("class_type", "")],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["name"], "lab2");
    assert_eq!(up["class_type"], Value::Null);
    let (st, e) = r
        .admin
        .put(
            &format!("fabrics/{lid}/"),
            &[("name", f["name"].as_str().unwrap())],
        )
        .await;
    bad(st, &e, "name", "rename onto another");
    assert_eq!(r.admin.put("fabrics/99999/", &[("name", "x")]).await.0, 404);

    // A fabric whose VLANs carry subnets cannot go.
    let s = subnet(&r, &[("cidr", "10.9.0.0/24"), ("fabric", &lid.to_string())]).await;
    let (st, msg) = r.admin.delete(&format!("fabrics/{lid}/")).await;
    assert_eq!(st, 400, "{msg}");
    assert!(msg.as_str().unwrap().contains("10.9.0.0/24"), "{msg}");
    assert_eq!(r.admin.delete(&format!("subnets/{}/", id(&s))).await.0, 204);
    assert_eq!(r.admin.delete(&format!("fabrics/{lid}/")).await.0, 204);
    assert_eq!(r.admin.get(&format!("fabrics/{lid}/"), &[]).await.0, 404);
    assert_eq!(r.admin.delete(&format!("fabrics/{lid}/")).await.0, 404);
    assert_eq!(
        r.count("SELECT count(*) FROM vlans").await,
        1,
        "the fabric's VLANs went with it"
    );
}

#[tokio::test]
async fn vlans_crud_and_validation() {
    let r = TestRegion::start().await;
    let f = fabric(&r, "f1").await;
    let fid = id(&f);
    let base = format!("fabrics/{fid}/vlans/");
    let (st, v) = r
        .admin
        .post(
            &base,
            &[
                ("vid", "10"),
                ("name", "ten"),
                ("mtu", "9000"),
                ("description", "d"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let vlan_id = id(&v);
    assert_eq!(v["vid"], 10);
    assert_eq!(v["name"], "ten");
    assert_eq!(v["mtu"], 9000);
    assert_eq!(v["fabric"], "f1");
    assert_eq!(v["fabric_id"], fid);
    assert_eq!(v["dhcp_on"], false);
    assert_eq!(v["external_dhcp"], Value::Null);
    assert_eq!(v["primary_rack"], Value::Null);
    assert_eq!(v["secondary_rack"], Value::Null);
    assert_eq!(v["relay_vlan"], Value::Null);
    assert_eq!(v["space"], "undefined");
    assert_eq!(v["resource_uri"], format!("/MAAS/api/2.0/vlans/{vlan_id}/"));
    // Without a name a VLAN is known by its vid.
    let (st, v20) = r.admin.post(&base, &[("vid", "20")]).await;
    assert_eq!(st, 200, "{v20}");
    assert_eq!(v20["name"], "20");
    assert_eq!(v20["mtu"], 1500);

    let before = counts(&r).await;
    for (form, field) in [
        (vec![("name", "x")], "vid"),
        (vec![("vid", "0")], "vid"),
        (vec![("vid", "4095")], "vid"),
        (vec![("vid", "ten")], "vid"),
        (vec![("vid", "10")], "vid"),
        (vec![("vid", "30"), ("mtu", "551")], "mtu"),
        (vec![("vid", "30"), ("mtu", "65536")], "mtu"),
        (vec![("vid", "30"), ("space", "nosuch")], "space"),
    ] {
        let (st, e) = r.admin.post(&base, &form).await;
        bad(st, &e, field, &format!("{form:?}"));
    }
    assert_eq!(counts(&r).await, before, "nothing written");
    assert_eq!(
        r.admin.post("fabrics/999/vlans/", &[("vid", "5")]).await.0,
        404
    );

    let (st, by_vid) = r.alice.get(&format!("{base}10/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(by_vid, v);
    let (st, by_id) = r.alice.get(&format!("vlans/{vlan_id}/"), &[]).await;
    assert_eq!((st, &by_id), (200, &v));
    let (st, by_name) = r.alice.get("fabrics/f1/vlans/10/", &[]).await;
    assert_eq!((st, &by_name), (200, &v));
    let (_, list) = r.alice.get(&base, &[]).await;
    let vids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vid"].as_i64().unwrap())
        .collect();
    assert_eq!(vids, vec![0, 10, 20]);
    let f2 = fabric(&r, "f2").await;
    let (_, all) = r.alice.get("vlans/", &[]).await;
    assert_eq!(all.as_array().unwrap().len(), 4);
    assert_eq!(r.alice.get(&format!("{base}11/"), &[]).await.0, 404);
    assert_eq!(r.alice.get("vlans/99999/", &[]).await.0, 404);
    assert_eq!(r.alice.get("vlans/abc/", &[]).await.0, 404);

    // Spaces attach to VLANs.
    let (st, sp) = r.admin.post("spaces/", &[("name", "storage")]).await;
    assert_eq!(st, 200, "{sp}");
    let (st, up) = r
        .admin
        .put(
            &format!("{base}10/"),
            &[("name", "tenth"), ("mtu", "1400"), ("space", "storage")],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["name"], &up["mtu"], &up["space"]),
        (&"tenth".into(), &1400.into(), &"storage".into())
    );
    let (st, up) = r
        .admin
        .put(&format!("vlans/{vlan_id}/"), &[("space", "")])
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["space"], "undefined");
    // vid changes stay unique; the default VLAN keeps vid 0.
    let (st, e) = r.admin.put(&format!("{base}10/"), &[("vid", "20")]).await;
    bad(st, &e, "vid", "duplicate vid");
    let (st, e) = r.admin.put(&format!("{base}0/"), &[("vid", "5")]).await;
    bad(st, &e, "vid", "default vid");
    let (st, e) = r.admin.put(&format!("{base}10/"), &[("mtu", "10")]).await;
    bad(st, &e, "mtu", "mtu");
    let (st, up) = r.admin.put(&format!("{base}10/"), &[("vid", "11")]).await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["vid"], 11);
    assert_eq!(up["mtu"], 1400, "unchanged by a failed update");

    // Deleting: not the default VLAN, not with subnets.
    let (st, msg) = r.admin.delete(&format!("{base}0/")).await;
    assert_eq!(st, 400, "{msg}");
    subnet(
        &r,
        &[("cidr", "10.3.0.0/24"), ("vlan", &v20["id"].to_string())],
    )
    .await;
    assert_eq!(r.admin.delete(&format!("{base}20/")).await.0, 400);
    assert_eq!(r.admin.delete(&format!("{base}11/")).await.0, 204);
    assert_eq!(r.admin.get(&format!("vlans/{vlan_id}/"), &[]).await.0, 404);
    assert_eq!(r.admin.delete(&format!("vlans/{vlan_id}/")).await.0, 404);
    assert_eq!(
        r.admin
            .delete(&format!("vlans/{}/", id(&f2["vlans"][0])))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn vlan_dhcp_racks_and_relay_rules() {
    let r = TestRegion::start().await;
    rack(&r, "rack-a").await;
    rack(&r, "rack-b").await;
    let f = fabric(&r, "dc").await;
    let fid = id(&f);
    let untagged = format!("fabrics/{fid}/vlans/0/");
    let s = subnet(
        &r,
        &[
            ("cidr", "10.0.0.0/24"),
            ("fabric", "dc"),
            ("gateway_ip", "10.0.0.1"),
        ],
    )
    .await;
    assert_eq!(s["vlan"]["vid"], 0);

    let (st, e) = r.admin.put(&untagged, &[("dhcp_on", "true")]).await;
    bad(st, &e, "__all__", "dhcp without a primary rack");
    let (st, e) = r.admin.put(&untagged, &[("primary_rack", "nosuch")]).await;
    bad(st, &e, "primary_rack", "unknown rack");
    let (st, e) = r.admin.put(&untagged, &[("dhcp_on", "perhaps")]).await;
    bad(st, &e, "dhcp_on", "not a boolean");
    let (st, v) = r.admin.put(&untagged, &[("primary_rack", "rack-a")]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["primary_rack"], "rack-a");
    let (st, e) = r.admin.put(&untagged, &[("dhcp_on", "true")]).await;
    bad(st, &e, "dhcp_on", "dhcp without a dynamic range");
    assert!(
        !sqlx::query_scalar::<_, bool>(
            "SELECT dhcp_on FROM vlans WHERE fabric_id = $1 AND vid = 0"
        )
        .bind(fid)
        .fetch_one(r.db())
        .await
        .unwrap()
    );
    let (st, rng) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.0.0.100"),
                ("end_ip", "10.0.0.200"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rng}");
    let (st, v) = r.admin.put(&untagged, &[("dhcp_on", "true")]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["dhcp_on"], true);

    let (st, e) = r
        .admin
        .put(&untagged, &[("secondary_rack", "rack-a")])
        .await;
    bad(st, &e, "__all__", "secondary = primary");
    let (st, v) = r
        .admin
        .put(&untagged, &[("secondary_rack", "rack-b")])
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (&v["primary_rack"], &v["secondary_rack"]),
        (&"rack-a".into(), &"rack-b".into())
    );
    // Removing the primary promotes the secondary (MAAS).
    let (st, v) = r.admin.put(&untagged, &[("primary_rack", "")]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (&v["primary_rack"], &v["secondary_rack"]),
        (&"rack-b".into(), &Value::Null)
    );
    // Removing the last primary while DHCP is on is refused.
    let (st, e) = r.admin.put(&untagged, &[("primary_rack", "")]).await;
    bad(st, &e, "__all__", "dhcp on without a primary");

    // The last dynamic range of a DHCP VLAN stays.
    let (st, _) = r.admin.delete(&format!("ipranges/{}/", id(&rng))).await;
    assert_eq!(st, 400);
    let (st, _) = r
        .admin
        .put(&format!("ipranges/{}/", id(&rng)), &[("type", "reserved")])
        .await;
    assert_eq!(st, 400);
    assert_eq!(r.admin.delete(&format!("subnets/{}/", id(&s))).await.0, 400);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 1);

    // Relays: another VLAN relays DHCP to this one.
    let (st, v30) = r
        .admin
        .post(&format!("fabrics/{fid}/vlans/"), &[("vid", "30")])
        .await;
    assert_eq!(st, 200, "{v30}");
    let untagged_id = v["id"].as_i64().unwrap().to_string();
    let v30_uri = format!("vlans/{}/", id(&v30));
    let (st, e) = r
        .admin
        .put(&v30_uri, &[("relay_vlan", &id(&v30).to_string())])
        .await;
    bad(st, &e, "relay_vlan", "relay to itself");
    let (st, e) = r.admin.put(&v30_uri, &[("relay_vlan", "99999")]).await;
    bad(st, &e, "relay_vlan", "relay to nothing");
    let (st, up) = r.admin.put(&v30_uri, &[("relay_vlan", &untagged_id)]).await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["relay_vlan"], v["id"]);
    // A relay target cannot relay itself; a DHCP VLAN relays nowhere.
    let (st, e) = r
        .admin
        .put(&untagged, &[("relay_vlan", &id(&v30).to_string())])
        .await;
    bad(st, &e, "relay_vlan", "dhcp VLAN relaying");
    let (st, up) = r.admin.put(&v30_uri, &[("relay_vlan", "")]).await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(up["relay_vlan"], Value::Null);

    // Turning DHCP off is always allowed; the racks stay.
    let (st, v) = r.admin.put(&untagged, &[("dhcp_on", "false")]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (&v["dhcp_on"], &v["primary_rack"]),
        (&false.into(), &"rack-b".into())
    );
    assert_eq!(
        r.admin.delete(&format!("ipranges/{}/", id(&rng))).await.0,
        204
    );
    // A deleted rack leaves the VLAN (ON DELETE SET NULL).
    sqlx::query("DELETE FROM racks WHERE system_id = 'rack-b'")
        .execute(r.db())
        .await
        .unwrap();
    let (_, v) = r.admin.get(&untagged, &[]).await;
    assert_eq!(v["primary_rack"], Value::Null);
}

#[tokio::test]
async fn spaces_group_vlans_and_subnets() {
    let r = TestRegion::start().await;
    let (st, sp) = r
        .admin
        .post("spaces/", &[("name", "dmz"), ("description", "edge")])
        .await;
    assert_eq!(st, 200, "{sp}");
    let spid = id(&sp);
    assert_eq!(sp["name"], "dmz");
    assert_eq!(sp["description"], "edge");
    assert_eq!(sp["vlans"], serde_json::json!([]));
    assert_eq!(sp["subnets"], serde_json::json!([]));
    assert_eq!(sp["resource_uri"], format!("/MAAS/api/2.0/spaces/{spid}/"));
    let (st, auto) = r.admin.post("spaces/", &[]).await;
    assert_eq!(st, 200, "{auto}");
    assert_eq!(auto["name"], format!("space-{}", id(&auto)));
    let before = counts(&r).await;
    let (st, e) = r.admin.post("spaces/", &[("name", "dmz")]).await;
    bad(st, &e, "name", "duplicate");
    let (st, e) = r.admin.post("spaces/", &[("name", "no spaces")]).await;
    bad(st, &e, "name", "invalid");
    let (st, e) = r.admin.post("spaces/", &[("name", "undefined")]).await;
    bad(st, &e, "name", "reserved");
    assert_eq!(counts(&r).await, before);

    let s = subnet(&r, &[("cidr", "10.10.0.0/24")]).await;
    let vlan_uri = format!("vlans/{}/", s["vlan"]["id"]);
    let (st, _) = r.admin.put(&vlan_uri, &[("space", "dmz")]).await;
    assert_eq!(st, 200);
    let (_, s2) = r.alice.get(&format!("subnets/{}/", id(&s)), &[]).await;
    assert_eq!(s2["space"], "dmz");
    assert_eq!(s2["vlan"]["space"], "dmz");
    let (st, got) = r.alice.get("spaces/dmz/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(got["vlans"].as_array().unwrap().len(), 1);
    assert_eq!(got["subnets"][0]["cidr"], "10.10.0.0/24");
    let (_, list) = r.alice.get("spaces/", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(r.alice.get("spaces/nosuch/", &[]).await.0, 404);

    let (st, up) = r
        .admin
        .put(
            &format!("spaces/{spid}/"),
            &[("name", "edge"), ("description", "")],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (&up["name"], &up["description"]),
        (&"edge".into(), &"".into())
    );
    let (st, e) = r
        .admin
        .put(
            &format!("spaces/{spid}/"),
            &[("name", auto["name"].as_str().unwrap())],
        )
        .await;
    bad(st, &e, "name", "rename onto another");
    assert_eq!(r.admin.delete("spaces/edge/").await.0, 204);
    assert_eq!(r.admin.delete("spaces/edge/").await.0, 404);
    let (_, v) = r.alice.get(&vlan_uri, &[]).await;
    assert_eq!(v["space"], "undefined");
}
