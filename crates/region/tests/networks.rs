//! The network model API (fabrics, VLANs, subnets, IP ranges, reserved IPs,
//! spaces) and rack interface recording, against a real PostgreSQL.

use maas_testkit as common;

use common::TestRegion;
use maas_model::rack::Interface as RackIface;
use maas_region::services::network::record_rack_interfaces;
use serde_json::Value;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn counts(r: &TestRegion) -> [i64; 6] {
    [
        r.count("SELECT count(*) FROM fabrics").await,
        r.count("SELECT count(*) FROM vlans").await,
        r.count("SELECT count(*) FROM subnets").await,
        r.count("SELECT count(*) FROM ipranges").await,
        r.count("SELECT count(*) FROM reserved_ips").await,
        r.count("SELECT count(*) FROM spaces").await,
    ]
}

/// Create a subnet through the API (admin), asserting success.
async fn subnet(r: &TestRegion, form: &[(&str, &str)]) -> Value {
    let (st, s) = r.admin.post("subnets/", form).await;
    assert_eq!(st, 200, "{form:?}: {s}");
    s
}

async fn fabric(r: &TestRegion, name: &str) -> Value {
    let (st, f) = r.admin.post("fabrics/", &[("name", name)]).await;
    assert_eq!(st, 200, "{f}");
    f
}

async fn rack(r: &TestRegion, system_id: &str) -> i64 {
    sqlx::query_scalar("INSERT INTO racks (system_id, hostname) VALUES ($1, $1) RETURNING id")
        .bind(system_id)
        .fetch_one(r.db())
        .await
        .unwrap()
}

/// Assert a 400 whose JSON body names `field`.
fn bad(st: u16, body: &Value, field: &str, ctx: &str) {
    assert_eq!(st, 400, "{ctx}: {body}");
    assert!(
        body.get(field)
            .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty())),
        "{ctx}: expected an error on {field}: {body}"
    );
}

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
    assert_eq!(d["user"], "admin");
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

#[tokio::test]
async fn users_read_but_only_admins_write() {
    let r = TestRegion::start().await;
    rack(&r, "rack-x").await;
    let s = subnet(&r, &[("cidr", "10.12.0.0/24")]).await;
    let sid = id(&s).to_string();
    let fid = s["vlan"]["fabric_id"].to_string();
    let vid = s["vlan"]["id"].to_string();
    let (_, rng) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "reserved"),
                ("start_ip", "10.12.0.10"),
                ("end_ip", "10.12.0.20"),
            ],
        )
        .await;
    let (_, rip) = r
        .admin
        .post(
            "reservedips/",
            &[("ip", "10.12.0.30"), ("mac_address", "52:54:00:00:00:30")],
        )
        .await;
    let (_, sp) = r.admin.post("spaces/", &[("name", "sp")]).await;
    let rng = format!("ipranges/{}/", id(&rng));
    let rip = format!("reservedips/{}/", id(&rip));
    let spu = format!("spaces/{}/", id(&sp));
    let reads = [
        "fabrics/".to_string(),
        format!("fabrics/{fid}/"),
        format!("fabrics/{fid}/vlans/"),
        format!("fabrics/{fid}/vlans/0/"),
        "vlans/".to_string(),
        format!("vlans/{vid}/"),
        "subnets/".to_string(),
        format!("subnets/{sid}/"),
        "ipranges/".to_string(),
        rng.clone(),
        "reservedips/".to_string(),
        rip.clone(),
        "spaces/".to_string(),
        spu.clone(),
    ];
    for p in &reads {
        let (st, body) = r.alice.get(p, &[]).await;
        assert_eq!(st, 200, "{p}: {body}");
        assert_eq!(r.anon.get(p, &[]).await.0, 401, "{p}");
    }
    for op in ["reserved_ip_ranges", "unreserved_ip_ranges", "statistics"] {
        assert_eq!(
            r.alice.get_op(&format!("subnets/{sid}/"), op, &[]).await.0,
            200,
            "{op}"
        );
    }

    let before = counts(&r).await;
    let snapshot = |r: &TestRegion| {
        let db = r.db().clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT (SELECT string_agg(f::text, ';' ORDER BY id) FROM fabrics f) || '|' ||
                        (SELECT string_agg(v::text, ';' ORDER BY id) FROM vlans v) || '|' ||
                        (SELECT string_agg(s::text, ';' ORDER BY id) FROM subnets s) || '|' ||
                        (SELECT string_agg(i::text, ';' ORDER BY id) FROM ipranges i) || '|' ||
                        (SELECT string_agg(x::text, ';' ORDER BY id) FROM reserved_ips x) || '|' ||
                        (SELECT string_agg(p::text, ';' ORDER BY id) FROM spaces p)",
            )
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let state = snapshot(&r).await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("fabrics/".into(), vec![("name", "mine")]),
        (format!("fabrics/{fid}/vlans/"), vec![("vid", "7")]),
        ("subnets/".into(), vec![("cidr", "10.13.0.0/24")]),
        (
            "ipranges/".into(),
            vec![
                ("type", "dynamic"),
                ("start_ip", "10.12.0.100"),
                ("end_ip", "10.12.0.110"),
            ],
        ),
        (
            "reservedips/".into(),
            vec![("ip", "10.12.0.31"), ("mac_address", "52:54:00:00:00:31")],
        ),
        ("spaces/".into(), vec![("name", "mine")]),
    ];
    for (p, form) in &posts {
        let (st, body) = r.alice.post(p, form).await;
        assert_eq!(st, 403, "POST {p}: {body}");
        assert_eq!(r.anon.post(p, form).await.0, 401, "POST {p}");
    }
    let puts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("fabrics/{fid}/"), vec![("name", "mine")]),
        (
            format!("fabrics/{fid}/vlans/0/"),
            vec![("primary_rack", "rack-x")],
        ),
        (format!("vlans/{vid}/"), vec![("mtu", "9000")]),
        (format!("subnets/{sid}/"), vec![("name", "mine")]),
        (rng.clone(), vec![("comment", "mine")]),
        (rip.clone(), vec![("comment", "mine")]),
        (spu.clone(), vec![("name", "mine")]),
    ];
    for (p, form) in &puts {
        let (st, body) = r.alice.put(p, form).await;
        assert_eq!(st, 403, "PUT {p}: {body}");
    }
    for p in [
        rng.as_str(),
        rip.as_str(),
        spu.as_str(),
        &format!("subnets/{sid}/"),
        &format!("fabrics/{fid}/"),
    ] {
        let (st, body) = r.alice.delete(p).await;
        assert_eq!(st, 403, "DELETE {p}: {body}");
    }
    assert_eq!(counts(&r).await, before);
    assert_eq!(snapshot(&r).await, state, "nothing changed");
    // Unsupported verbs.
    assert_eq!(r.admin.post("vlans/", &[]).await.0, 405);
    assert_eq!(r.admin.delete("subnets/").await.0, 405);
}

fn iface(
    name: &str,
    kind: &str,
    parent: Option<&str>,
    vid: Option<i32>,
    addrs: &[&str],
) -> RackIface {
    RackIface {
        name: name.into(),
        mac: format!("52:54:00:00:{:02X}:01", name.len()),
        kind: kind.into(),
        parent: parent.map(str::to_string),
        vid,
        addresses: addrs.iter().map(|a| a.to_string()).collect(),
    }
}

async fn record(r: &TestRegion, rack_id: i64, ifaces: &[RackIface]) {
    let mut tx = r.db().begin().await.unwrap();
    record_rack_interfaces(&mut tx, rack_id, ifaces)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// (name, vlan_id, fabric_id, vid) of a rack's interfaces, by name.
async fn rack_ifaces(
    r: &TestRegion,
    rack_id: i64,
) -> Vec<(String, Option<i64>, Option<i64>, Option<i32>)> {
    sqlx::query_as(
        "SELECT ri.name, ri.vlan_id, v.fabric_id, v.vid FROM rack_interfaces ri
           LEFT JOIN vlans v ON v.id = ri.vlan_id WHERE ri.rack_id = $1 ORDER BY ri.name",
    )
    .bind(rack_id)
    .fetch_all(r.db())
    .await
    .unwrap()
}

async fn subnet_place(r: &TestRegion, cidr: &str) -> Option<(i64, i64, i32)> {
    sqlx::query_as(
        "SELECT s.vlan_id, v.fabric_id, v.vid FROM subnets s JOIN vlans v ON v.id = s.vlan_id
          WHERE s.cidr = $1::cidr",
    )
    .bind(cidr)
    .fetch_optional(r.db())
    .await
    .unwrap()
}

#[tokio::test]
async fn rack_interfaces_build_the_network_model() {
    let r = TestRegion::start().await;
    let r1 = rack(&r, "rack-one").await;
    let r2 = rack(&r, "rack-two").await;
    let one = vec![
        iface(
            "eth0",
            "physical",
            None,
            None,
            &["10.20.0.2/24", "10.20.0.3/24", "fe80::1/64", "fd20::2/64"],
        ),
        iface(
            "eth0.100",
            "vlan",
            Some("eth0"),
            Some(100),
            &["10.21.0.2/24"],
        ),
        iface("eth1", "physical", None, None, &[]),
        iface("eth2", "physical", None, None, &[]),
        iface("br0", "bridge", Some("eth2"), None, &["10.22.0.2/24"]),
        iface("eth3", "physical", None, None, &[]),
        iface("eth3.200", "vlan", Some("eth3"), Some(200), &[]),
        iface("lo", "physical", None, None, &["127.0.0.1/8", "::1/128"]),
        iface(
            "wg0",
            "physical",
            None,
            None,
            &["10.99.0.1/32", "not-an-address", "169.254.1.1/16"],
        ),
    ];
    record(&r, r1, &one).await;

    let (v20, f20, vid20) = subnet_place(&r, "10.20.0.0/24").await.unwrap();
    assert_eq!(
        vid20, 0,
        "a physical interface's network lands on an untagged VLAN"
    );
    assert_eq!(
        subnet_place(&r, "fd20::/64").await,
        Some((v20, f20, 0)),
        "same link, same VLAN"
    );
    let (_, f21, vid21) = subnet_place(&r, "10.21.0.0/24").await.unwrap();
    assert_eq!(
        (f21, vid21),
        (f20, 100),
        "the VLAN interface is tagged on its parent's fabric"
    );
    let (v22, f22, vid22) = subnet_place(&r, "10.22.0.0/24").await.unwrap();
    assert_ne!(f22, f20, "another link, another fabric");
    assert_eq!(vid22, 0);
    assert_eq!(
        r.count("SELECT count(*) FROM subnets").await,
        4,
        "no loopback, link-local or /32 subnets"
    );
    assert_eq!(
        r.count("SELECT count(*) FROM subnets WHERE name = cidr::text")
            .await,
        4,
        "named after their networks"
    );

    let ifs = rack_ifaces(&r, r1).await;
    let get = |n: &str| ifs.iter().find(|i| i.0 == n).cloned().unwrap();
    assert_eq!(ifs.len(), 9);
    assert_eq!(get("eth0").1, Some(v20));
    assert_eq!(
        (get("eth0.100").2, get("eth0.100").3),
        (Some(f20), Some(100))
    );
    assert_eq!(
        get("eth1").1,
        None,
        "nothing known about an unconnected NIC"
    );
    assert_eq!(get("br0").1, Some(v22));
    assert_eq!(
        get("eth2").1,
        Some(v22),
        "the bridge's member is on the bridge's VLAN"
    );
    let eth3 = get("eth3");
    assert_eq!(eth3.3, Some(0), "a VLAN interface's parent gets a fabric");
    assert_eq!((get("eth3.200").2, get("eth3.200").3), (eth3.2, Some(200)));
    assert_eq!(get("lo").1, None);
    let (mac, addrs): (String, Vec<String>) = sqlx::query_as(
        "SELECT mac_address, addresses FROM rack_interfaces WHERE rack_id = $1 AND name = 'eth0'",
    )
    .bind(r1)
    .fetch_one(r.db())
    .await
    .unwrap();
    assert_eq!(mac, "52:54:00:00:04:01", "normalised");
    assert_eq!(addrs.len(), 4);

    // The API sees the same model.
    let (_, subnet) = r.alice.get("subnets/10.21.0.0%2F24/", &[]).await;
    assert_eq!(subnet["vlan"]["vid"], 100);
    assert_eq!(subnet["vlan"]["fabric_id"], f20);

    // A second rack on the same network shares its fabric.
    let before = counts(&r).await;
    record(
        &r,
        r2,
        &[
            iface("ens3", "physical", None, None, &["10.20.0.9/24"]),
            iface("ens3.100", "vlan", Some("ens3"), Some(100), &[]),
        ],
    )
    .await;
    assert_eq!(
        counts(&r).await,
        before,
        "nothing new: the network is known"
    );
    let ifs2 = rack_ifaces(&r, r2).await;
    assert_eq!(ifs2[0].0, "ens3");
    assert_eq!((ifs2[0].1, ifs2[0].2), (Some(v20), Some(f20)));
    assert_eq!(
        (ifs2[1].2, ifs2[1].3),
        (Some(f20), Some(100)),
        "the known VLAN 100 is reused"
    );

    // Reporting the same again changes nothing, row ids included.
    let ids_before: Vec<i64> = sqlx::query_scalar("SELECT id FROM rack_interfaces ORDER BY id")
        .fetch_all(r.db())
        .await
        .unwrap();
    record(&r, r1, &one).await;
    record(&r, r1, &one).await;
    assert_eq!(counts(&r).await, before);
    assert_eq!(rack_ifaces(&r, r1).await, ifs);
    let ids_after: Vec<i64> = sqlx::query_scalar("SELECT id FROM rack_interfaces ORDER BY id")
        .fetch_all(r.db())
        .await
        .unwrap();
    assert_eq!(ids_before, ids_after);

    // An interface that disappears is dropped; a new address on a known
    // interface creates its subnet on that interface's VLAN.
    let mut changed: Vec<RackIface> = one.iter().filter(|i| i.name != "eth1").cloned().collect();
    changed[0].addresses.push("10.23.0.2/24".into());
    record(&r, r1, &changed).await;
    assert_eq!(rack_ifaces(&r, r1).await.len(), 8);
    assert_eq!(
        subnet_place(&r, "10.23.0.0/24").await.map(|p| p.0),
        Some(v20)
    );
    assert_eq!(counts(&r).await[0], before[0], "no new fabric");

    // A fabric with rack interfaces on it is not deleted from under them.
    sqlx::query("DELETE FROM subnets WHERE vlan_id IN (SELECT id FROM vlans WHERE fabric_id = $1)")
        .bind(eth3.2.unwrap())
        .execute(r.db())
        .await
        .unwrap();
    let (st, msg) = r
        .admin
        .delete(&format!("fabrics/{}/", eth3.2.unwrap()))
        .await;
    assert_eq!(st, 400, "{msg}");
    assert!(msg.as_str().unwrap().contains("rack-one:eth3"), "{msg}");

    // A refused write inside the caller's transaction leaves nothing behind.
    let before = counts(&r).await;
    let mut tx = r.db().begin().await.unwrap();
    record_rack_interfaces(
        &mut tx,
        r2,
        &[iface("new0", "physical", None, None, &["10.40.0.2/24"])],
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(counts(&r).await, before);
    assert_eq!(rack_ifaces(&r, r2).await.len(), 2);
}

#[tokio::test]
async fn describe_lists_the_network_handlers() {
    let r = TestRegion::start().await;
    let (_, d) = r.anon.get("describe/", &[]).await;
    let names: Vec<&str> = d["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    for h in [
        "FabricsHandler",
        "FabricHandler",
        "VlansHandler",
        "VlanHandler",
        "SubnetsHandler",
        "SubnetHandler",
        "IPRangesHandler",
        "IPRangeHandler",
        "ReservedIpsHandler",
        "ReservedIpHandler",
        "SpacesHandler",
        "SpaceHandler",
    ] {
        assert!(names.contains(&h), "{h} missing from describe");
    }
}

#[tokio::test]
async fn concurrent_writes_keep_the_model_consistent() {
    let r = TestRegion::start().await;
    subnet(&r, &[("cidr", "10.50.0.0/24")]).await;
    // Overlapping ranges raced against each other: exactly one wins.
    let mut tasks = Vec::new();
    for k in 0..8u8 {
        let api = r.admin.clone();
        tasks.push(tokio::spawn(async move {
            let start = format!("10.50.0.{}", 100 + k);
            let end = format!("10.50.0.{}", 150 + k);
            api.post(
                "ipranges/",
                &[("type", "dynamic"), ("start_ip", &start), ("end_ip", &end)],
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            st => assert_eq!(st, 400),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 1);

    // Racks registering at once on a new network create it once.
    let mut tasks = Vec::new();
    for k in 0..4 {
        let rack_id = rack(&r, &format!("rack-{k}")).await;
        let db = r.db().clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let ifaces = [iface(
                "eth0",
                "physical",
                None,
                None,
                &[&format!("10.60.0.{}/24", k + 2)],
            )];
            record_rack_interfaces(&mut tx, rack_id, &ifaces)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        r.count("SELECT count(*) FROM subnets WHERE cidr = '10.60.0.0/24'")
            .await,
        1
    );
    assert_eq!(
        r.count("SELECT count(DISTINCT vlan_id) FROM rack_interfaces")
            .await,
        1,
        "all four racks share one VLAN"
    );
}
