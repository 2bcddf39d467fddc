//! Devices, `nodes/`, `regioncontrollers/` and `static-routes/` over the
//! API: every endpoint and op, gomaasapi's strict device schema, the
//! python-libmaas devices flow, and refusals that write nothing.

use maas_testkit as common;

mod links;

use std::path::Path;
use std::time::Duration;

use common::TestRegion;
use common::shape::{boolean, check_domain, check_link, int, nullable, obj, string};
use serde_json::Value;

/// gomaasapi's device_2_0 schema (what Juju reads), plus MAAS's other keys.
fn check_device(d: &Value) {
    let o = obj(d, "device");
    for k in [
        "resource_uri",
        "system_id",
        "hostname",
        "fqdn",
        "description",
    ] {
        string(o, k, "device");
    }
    nullable(o, "parent", "device", Value::is_string);
    nullable(o, "owner", "device", Value::is_string);
    nullable(o, "address_ttl", "device", Value::is_i64);
    assert!(
        d["ip_addresses"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert!(d["tag_names"].is_array());
    assert!(d["owner_data"].is_object() && d["workload_annotations"].is_object());
    int(o, "node_type", "device");
    assert_eq!(d["node_type"], 1);
    assert_eq!(d["node_type_name"], "Device");
    check_domain(&d["domain"]);
    let z = obj(&d["zone"], "zone");
    for k in ["name", "description", "resource_uri"] {
        string(z, k, "zone");
    }
    int(z, "id", "zone");
    assert!(!o.contains_key("pool"), "MAAS renders no pool on devices");
    let sid = d["system_id"].as_str().unwrap();
    assert_eq!(d["resource_uri"], format!("/MAAS/api/2.0/devices/{sid}/"));
    for i in d["interface_set"].as_array().expect("interface_set") {
        let io = obj(i, "interface");
        for k in ["name", "type", "mac_address", "resource_uri"] {
            string(io, k, "interface");
        }
        int(io, "id", "interface");
        int(io, "effective_mtu", "interface");
        boolean(io, "enabled", "interface");
        nullable(io, "vlan", "interface", Value::is_object);
        for k in ["tags", "parents", "children"] {
            assert!(
                i[k].as_array().unwrap().iter().all(Value::is_string),
                "interface {k}"
            );
        }
        assert_eq!(i["system_id"], sid);
        i["links"].as_array().unwrap().iter().for_each(check_link);
    }
}

async fn count(r: &TestRegion, sql: &'static str) -> i64 {
    r.count(sql).await
}

#[tokio::test]
async fn devices_crud_and_shapes() {
    let r = TestRegion::start().await;
    let (a, alice) = (&r.admin, &r.alice);
    let m = r.ready_machine("host1", 2, 2048).await;
    r.admin.post("zones/", &[("name", "z2")]).await;
    // Create: alice owns what she creates; parent's domain is inherited.
    let (st, d) = alice
        .post(
            "devices/",
            &[
                ("hostname", "phone"),
                ("mac_addresses", "52:54:00:00:10:01"),
                ("mac_addresses", "52-54-00-00-10-02"),
                ("parent", &m),
                ("description", "a phone"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    check_device(&d);
    let sid = d["system_id"].as_str().unwrap().to_string();
    assert_eq!(d["owner"], "alice");
    assert_eq!(d["parent"], m.as_str());
    assert_eq!(d["fqdn"], "phone.maas");
    assert_eq!(d["description"], "a phone");
    assert_eq!(d["interface_set"].as_array().unwrap().len(), 2);
    assert_eq!(d["interface_set"][1]["mac_address"], "52:54:00:00:10:02");
    assert_eq!(d["interface_set"][0]["name"], "eth0");
    // A generated hostname; no parent.
    let (st, d2) = a
        .post("devices/", &[("mac_addresses", "52:54:00:00:10:03")])
        .await;
    assert_eq!(st, 200, "{d2}");
    check_device(&d2);
    assert!(d2["parent"].is_null());
    assert_eq!(d2["owner"], "admin");
    let sid2 = d2["system_id"].as_str().unwrap().to_string();
    // System ids never collide with machines'.
    assert_ne!(sid, m);

    // Read and list: alice sees only her own in listings, reads any by id.
    let (st, got) = alice.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(got, d);
    let (_, mine) = alice.get("devices/", &[]).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, all) = a.get("devices/", &[]).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (st, _) = alice.get(&format!("devices/{sid2}/"), &[]).await;
    assert_eq!(st, 200);
    for (q, n) in [
        (("hostname", "phone"), 1),
        (("mac_address", "52:54:00:00:10:03"), 1),
        (("id", sid2.as_str()), 1),
        (("domain", "maas"), 2),
        (("zone", "default"), 2),
        (("zone", "z2"), 0),
        (("agent_name", "juju"), 0),
        (("agent_name", ""), 2),
    ] {
        let (st, l) = a.get("devices/", &[q]).await;
        assert_eq!(st, 200);
        assert_eq!(l.as_array().unwrap().len(), n, "{q:?}");
    }
    let (st, _) = a.get("devices/", &[("mac_address", "zz")]).await;
    assert_eq!(st, 400);
    let (st, e) = a.get("devices/NOPE99/", &[]).await;
    assert_eq!(st, 404);
    assert_eq!(e, "No Device matches the given query.");

    // Update (owner), then refused for non-owners.
    let (st, u) = alice
        .put(
            &format!("devices/{sid}/"),
            &[("hostname", "phone2"), ("zone", "z2"), ("description", "d")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    check_device(&u);
    assert_eq!(u["hostname"], "phone2");
    assert_eq!(u["zone"]["name"], "z2");
    let (st, _) = alice
        .put(&format!("devices/{sid2}/"), &[("hostname", "stolen")])
        .await;
    assert_eq!(st, 403);
    let (st, _) = alice.delete(&format!("devices/{sid2}/")).await;
    assert_eq!(st, 403);

    // Owner data: only the owner sets it.
    let (st, od) = alice
        .op(&format!("devices/{sid}/"), "set_owner_data", &[("k", "v")])
        .await;
    assert_eq!(st, 200, "{od}");
    assert_eq!(od["owner_data"]["k"], "v");
    assert_eq!(od["workload_annotations"]["k"], "v");
    let (st, od) = alice
        .op(
            &format!("devices/{sid}/"),
            "set_workload_annotations",
            &[("k", "")],
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(od["owner_data"], serde_json::json!({}));
    let (st, _) = a
        .op(&format!("devices/{sid}/"), "set_owner_data", &[("k", "v")])
        .await;
    assert_eq!(st, 409);

    // Admin-only resets; no storage on devices.
    let (st, _) = alice
        .op(
            &format!("devices/{sid}/"),
            "restore_networking_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 403);
    for op in [
        "restore_networking_configuration",
        "restore_default_configuration",
    ] {
        let (st, v) = a.op(&format!("devices/{sid}/"), op, &[]).await;
        assert_eq!(st, 200, "{op}: {v}");
        check_device(&v);
    }
    let (st, _) = a
        .op(
            &format!("devices/{sid}/"),
            "restore_storage_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 400);
    let (st, p) = a
        .get_op(&format!("devices/{sid}/"), "power_parameters", &[])
        .await;
    assert_eq!((st, p), (200, serde_json::json!({})));

    // Collection ops.
    let (st, v) = a
        .get_op(
            "devices/",
            "is_registered",
            &[("mac_address", "52:54:00:00:10:01")],
        )
        .await;
    assert_eq!((st, v), (200, Value::Bool(true)));
    let (st, _) = alice
        .op("devices/", "set_zone", &[("zone", "z2"), ("nodes", &sid2)])
        .await;
    assert_eq!(st, 403);
    let (st, _) = a
        .op("devices/", "set_zone", &[("zone", "z2"), ("nodes", &sid2)])
        .await;
    assert_eq!(st, 204);
    let (_, d2b) = a.get(&format!("devices/{sid2}/"), &[]).await;
    assert_eq!(d2b["zone"]["name"], "z2");
    // Deleting a zone moves its devices to the default zone.
    let (st, _) = a.post("zones/", &[("name", "z3")]).await;
    assert_eq!(st, 200);
    a.op("devices/", "set_zone", &[("zone", "z3"), ("nodes", &sid2)])
        .await;
    let (st, _) = a.delete("zones/z3/").await;
    assert_eq!(st, 204);
    let (_, d2c) = a.get(&format!("devices/{sid2}/"), &[]).await;
    assert_eq!(d2c["zone"]["name"], "default");

    // nodes/{id}/interfaces/ and nodes/{id}/ serve devices too.
    let (st, ifs) = alice.get(&format!("nodes/{sid}/interfaces/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(ifs, u["interface_set"]);
    let (st, n) = alice.get(&format!("nodes/{sid}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(n["node_type_name"], "Device");
    let (st, n) = alice.get(&format!("nodes/{m}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(n["node_type_name"], "Machine");
    let (st, ifs) = a.get(&format!("nodes/{m}/interfaces/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(ifs.as_array().unwrap().len(), 1);

    // Delete: the owner may; the interfaces go with it.
    let (st, _) = alice.delete(&format!("devices/{sid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = a.get(&format!("devices/{sid}/"), &[]).await;
    assert_eq!(st, 404);
    assert_eq!(
        count(
            &r,
            "SELECT count(*) FROM interfaces WHERE device_id IS NOT NULL"
        )
        .await,
        1
    );
    // Deleting the parent machine deletes its devices.
    let (st, d3) = a
        .post(
            "devices/",
            &[("mac_addresses", "52:54:00:00:10:09"), ("parent", &m)],
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = a.delete(&format!("machines/{m}/")).await;
    assert_eq!(st, 204);
    let (st, _) = a
        .get(
            &format!("devices/{}/", d3["system_id"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    let r = TestRegion::start().await;
    let a = &r.admin;
    let m = r.ready_machine("taken", 1, 1024).await;
    let machine_mac = {
        let (_, j) = a.get(&format!("machines/{m}/"), &[]).await;
        j["interface_set"][0]["mac_address"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (st, _) = a
        .post(
            "devices/",
            &[("hostname", "dev"), ("mac_addresses", "52:54:00:00:20:01")],
        )
        .await;
    assert_eq!(st, 200);
    let before = (
        count(&r, "SELECT count(*) FROM devices").await,
        count(&r, "SELECT count(*) FROM interfaces").await,
    );
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "mac_addresses"),
        (vec![("mac_addresses", "nope")], "mac_addresses"),
        (
            vec![
                ("mac_addresses", "52:54:00:00:20:09"),
                ("mac_addresses", "52:54:00:00:20:09"),
            ],
            "mac_addresses",
        ),
        (
            vec![("mac_addresses", "52:54:00:00:20:01")],
            "mac_addresses",
        ),
        (
            vec![("mac_addresses", machine_mac.as_str())],
            "mac_addresses",
        ),
        (
            vec![("mac_addresses", "52:54:00:00:20:02"), ("hostname", "dev")],
            "hostname",
        ),
        (
            vec![
                ("mac_addresses", "52:54:00:00:20:02"),
                ("hostname", "taken"),
            ],
            "hostname",
        ),
        (
            vec![
                ("mac_addresses", "52:54:00:00:20:02"),
                ("hostname", "bad_name!"),
            ],
            "hostname",
        ),
        (
            vec![("mac_addresses", "52:54:00:00:20:02"), ("parent", "XXXXXX")],
            "parent",
        ),
        (
            vec![("mac_addresses", "52:54:00:00:20:02"), ("zone", "nozone")],
            "zone",
        ),
        (
            vec![
                ("mac_addresses", "52:54:00:00:20:02"),
                ("domain", "nodomain"),
            ],
            "domain",
        ),
    ];
    for (form, field) in cases {
        let (st, e) = a.post("devices/", &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e.get(field).is_some(), "{form:?}: {e}");
    }
    // A machine can't take a device's hostname either.
    let (st, e) = a
        .post(
            "machines/",
            &[
                ("hostname", "dev"),
                ("architecture", "amd64/generic"),
                ("mac_addresses", "52:54:00:00:20:07"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let after = (
        count(&r, "SELECT count(*) FROM devices").await,
        count(&r, "SELECT count(*) FROM interfaces").await,
    );
    assert_eq!(before, after);
    // Unauthenticated: 401.
    let (st, _) = r.anon.get("devices/", &[]).await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn nodes_listing_and_regions() {
    let r = TestRegion::start().await;
    let a = &r.admin;
    let m = r.ready_machine("mach", 1, 1024).await;
    let (_, d) = r
        .alice
        .post(
            "devices/",
            &[("hostname", "dev"), ("mac_addresses", "52:54:00:00:30:01")],
        )
        .await;
    let sid = d["system_id"].as_str().unwrap();
    let (st, all) = a.get("nodes/", &[]).await;
    assert_eq!(st, 200);
    let types: Vec<(&str, i64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["system_id"].as_str().unwrap(),
                n["node_type"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(&types[..2], &[(sid, 1), (m.as_str(), 0)]);
    // Then the region itself (controllers are the admins' to list).
    assert_eq!(types.len(), 3);
    assert_eq!(types[2].1, 3);
    let (_, theirs) = r.alice.get("nodes/", &[]).await;
    assert_eq!(theirs.as_array().unwrap().len(), 2);
    let (_, one) = a.get("nodes/", &[("hostname", "dev")]).await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, one) = a.get("nodes/", &[("id", &m)]).await;
    assert_eq!(one[0]["node_type_name"], "Machine");
    let (st, v) = a
        .get_op(
            "nodes/",
            "is_registered",
            &[("mac_address", "52:54:00:00:30:01")],
        )
        .await;
    assert_eq!((st, v), (200, Value::Bool(true)));
    // nodes/?op=set_zone moves machines and devices.
    a.post("zones/", &[("name", "z9")]).await;
    let (st, _) = r
        .alice
        .op("nodes/", "set_zone", &[("zone", "z9"), ("nodes", sid)])
        .await;
    assert_eq!(st, 403);
    let (st, _) = a
        .op(
            "nodes/",
            "set_zone",
            &[("zone", "z9"), ("nodes", sid), ("nodes", &m)],
        )
        .await;
    assert_eq!(st, 204);
    let (_, z) = a.get("nodes/", &[("zone", "z9")]).await;
    assert_eq!(z.as_array().unwrap().len(), 2);
    // nodes/{id}/ DELETE of a device is admin-only.
    let (st, _) = r.alice.delete(&format!("nodes/{sid}/")).await;
    assert_eq!(st, 403);

    // This region registered itself.
    let (st, none) = r.alice.get("regioncontrollers/", &[]).await;
    assert_eq!((st, none), (200, serde_json::json!([])));
    let (st, regions) = a.get("regioncontrollers/", &[]).await;
    assert_eq!(st, 200);
    let regions = regions.as_array().unwrap().clone();
    assert_eq!(regions.len(), 1);
    let rs = regions[0]["system_id"].as_str().unwrap();
    assert_eq!(regions[0]["node_type_name"], "Region controller");
    assert_eq!(regions[0]["node_type"], 3);
    assert_eq!(
        regions[0]["resource_uri"],
        format!("/MAAS/api/2.0/regioncontrollers/{rs}/")
    );
    let (st, one) = r.alice.get(&format!("regioncontrollers/{rs}/"), &[]).await;
    assert_eq!((st, &one), (200, &regions[0]));
    let (st, _) = a.get("regioncontrollers/nope/", &[]).await;
    assert_eq!(st, 404);
    // A region keeps its system id in its data dir across restarts.
    let dir = std::env::temp_dir().join(format!("maas-region-id-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let first = maas_region::services::regions::register(r.db(), &dir)
        .await
        .unwrap();
    let again = maas_region::services::regions::register(r.db(), &dir)
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(first, again);
    assert_ne!(first, rs);
    let (_, regions) = a.get("regioncontrollers/", &[]).await;
    assert_eq!(regions.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn static_routes() {
    let r = TestRegion::start().await;
    let a = &r.admin;
    let (_, s1) = a.post("subnets/", &[("cidr", "10.1.0.0/24")]).await;
    let (_, s2) = a.post("subnets/", &[("cidr", "10.2.0.0/24")]).await;
    let (_, s6) = a.post("subnets/", &[("cidr", "fd00::/64")]).await;
    let (id1, id2) = (s1["id"].to_string(), s2["id"].to_string());
    let (st, _) = r
        .alice
        .post(
            "static-routes/",
            &[
                ("source", &id1),
                ("destination", &id2),
                ("gateway_ip", "10.1.0.1"),
            ],
        )
        .await;
    assert_eq!(st, 403);
    let (st, rt) = a
        .post(
            "static-routes/",
            &[
                ("source", &id1),
                ("destination", "10.2.0.0/24"),
                ("gateway_ip", "10.1.0.1"),
                ("metric", "5"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rt}");
    assert_eq!(rt["source"], s1);
    assert_eq!(rt["destination"], s2);
    assert_eq!(rt["gateway_ip"], "10.1.0.1");
    assert_eq!(rt["metric"], 5);
    let rid = rt["id"].as_i64().unwrap();
    assert_eq!(
        rt["resource_uri"],
        format!("/MAAS/api/2.0/static-routes/{rid}/")
    );
    let before = count(&r, "SELECT count(*) FROM static_routes").await;
    let id6 = s6["id"].to_string();
    for (form, field) in [
        (
            vec![("destination", id2.as_str()), ("gateway_ip", "10.1.0.1")],
            "source",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id2.as_str()),
                ("gateway_ip", "10.9.0.1"),
            ],
            "gateway_ip",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id2.as_str()),
                ("gateway_ip", "x"),
            ],
            "gateway_ip",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", "999"),
                ("gateway_ip", "10.1.0.1"),
            ],
            "destination",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id6.as_str()),
                ("gateway_ip", "10.1.0.1"),
            ],
            "__all__",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id1.as_str()),
                ("gateway_ip", "10.1.0.1"),
            ],
            "__all__",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id2.as_str()),
                ("gateway_ip", "10.1.0.1"),
            ],
            "__all__",
        ),
        (
            vec![
                ("source", id1.as_str()),
                ("destination", id2.as_str()),
                ("gateway_ip", "10.1.0.2"),
                ("metric", "x"),
            ],
            "metric",
        ),
    ] {
        let (st, e) = a.post("static-routes/", &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e.get(field).is_some(), "{form:?}: {e}");
    }
    assert_eq!(
        count(&r, "SELECT count(*) FROM static_routes").await,
        before
    );
    let (st, l) = r.alice.get("static-routes/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(l, serde_json::json!([rt]));
    let (st, u) = a
        .put(
            &format!("static-routes/{rid}/"),
            &[("metric", "7"), ("gateway_ip", "10.1.0.9")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (u["metric"].as_i64(), u["gateway_ip"].as_str()),
        (Some(7), Some("10.1.0.9"))
    );
    let (st, g) = a.get(&format!("static-routes/{rid}/"), &[]).await;
    assert_eq!((st, &g), (200, &u));
    let (st, _) = r.alice.delete(&format!("static-routes/{rid}/")).await;
    assert_eq!(st, 403);
    let (st, _) = a.delete(&format!("static-routes/{rid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = a.get(&format!("static-routes/{rid}/"), &[]).await;
    assert_eq!(st, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_libmaas_devices() {
    let py = std::env::var("MAAS_TEST_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/var/tmp/maas-venv/bin/python".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/devices_libmaas.py");
    let r = TestRegion::start().await;
    let key = r.admin.key.clone().unwrap();
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script)
        .arg(r.url())
        .arg(&key)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("finished in time")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("DEVICES_RESULT"), "{stdout}");
    assert_eq!(count(&r, "SELECT count(*) FROM devices").await, 0);
    assert_eq!(count(&r, "SELECT count(*) FROM interfaces").await, 0);
}

#[tokio::test]
async fn device_interfaces_addresses_and_dhcp() {
    let r = TestRegion::start().await;
    let (a, alice) = (&r.admin, &r.alice);
    let bob = r.user("bob", false).await;
    let m = r.ready_machine("host", 1, 1024).await;
    let (_, s) = a.post("subnets/", &[("cidr", "10.5.0.0/24")]).await;
    let vlan = s["vlan"]["id"].to_string();
    let (_, d) = alice
        .post(
            "devices/",
            &[
                ("hostname", "ctr"),
                ("mac_addresses", "52:54:00:00:40:01"),
                ("parent", &m),
            ],
        )
        .await;
    let sid = d["system_id"].as_str().unwrap().to_string();
    let ifaces = format!("nodes/{sid}/interfaces/");
    // Juju's CreateInterface: name, mac_address, vlan, tags.
    let (st, i) = alice
        .op(
            &ifaces,
            "create_physical",
            &[
                ("name", "eth5"),
                ("mac_address", "52:54:00:00:40:02"),
                ("vlan", &vlan),
                ("tags", "a,b"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    assert_eq!(i["name"], "eth5");
    assert_eq!(i["vlan"]["id"], s["vlan"]["id"]);
    assert_eq!(i["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(i["system_id"], sid.as_str());
    let before = count(&r, "SELECT count(*) FROM interfaces").await;
    let (st, _) = bob
        .op(
            &ifaces,
            "create_physical",
            &[("mac_address", "52:54:00:00:40:03")],
        )
        .await;
    assert_eq!(st, 403);
    for (form, field) in [
        (vec![("mac_address", "52:54:00:00:40:02")], "mac_address"),
        (vec![("mac_address", "bad")], "mac_address"),
        (vec![], "mac_address"),
        (
            vec![("mac_address", "52:54:00:00:40:04"), ("name", "eth5")],
            "name",
        ),
        (
            vec![("mac_address", "52:54:00:00:40:04"), ("vlan", "99999")],
            "vlan",
        ),
        (
            vec![("mac_address", "52:54:00:00:40:04"), ("vlan", "x")],
            "vlan",
        ),
    ] {
        let (st, e) = alice.op(&ifaces, "create_physical", &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e.get(field).is_some(), "{form:?}: {e}");
    }
    assert_eq!(count(&r, "SELECT count(*) FROM interfaces").await, before);
    // Without a name: the next free ethN.
    let (st, i2) = alice
        .op(
            &ifaces,
            "create_physical",
            &[("mac_address", "52:54:00:00:40:05")],
        )
        .await;
    assert_eq!((st, i2["name"].as_str()), (200, Some("eth1")));

    // A static address (as link_subnet makes it) shows in the device and
    // becomes a DHCP reservation and a DNS address for the rack.
    sqlx::query(
        "INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
         SELECT id, $1, 'static', '10.5.0.10' FROM interfaces WHERE name = 'eth5' AND device_id IS NOT NULL",
    )
    .bind(s["id"].as_i64().unwrap())
    .execute(r.db())
    .await
    .unwrap();
    let (_, d) = alice.get(&format!("devices/{sid}/"), &[]).await;
    check_device(&d);
    assert_eq!(d["ip_addresses"], serde_json::json!(["10.5.0.10"]));
    let mut c = r.db().acquire().await.unwrap();
    let res = maas_region::store::snapshot::reservations(&mut c, &[s["id"].as_i64().unwrap()])
        .await
        .unwrap();
    assert!(
        res.iter().any(|x| x.mac == "52:54:00:00:40:02"
            && x.ip.to_string() == "10.5.0.10"
            && x.hostname.as_deref() == Some("ctr")),
        "{} reservations",
        res.len()
    );
    // The device's address is in its domain's zone, as racks get it.
    let zone = maas_region::services::dns::zone_in(&mut c, 0)
        .await
        .unwrap();
    assert!(
        zone.records
            .iter()
            .any(|x| x.name == "ctr" && x.rrtype == "A" && x.rrdata == "10.5.0.10"),
        "{:?}",
        zone.records
    );
    drop(c);
    // Machines' interfaces never include a device's.
    let (_, mj) = a.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(mj["interface_set"].as_array().unwrap().len(), 1);
    // restore_networking_configuration drops the addresses.
    let (st, d) = a
        .op(
            &format!("devices/{sid}/"),
            "restore_networking_configuration",
            &[],
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(d["ip_addresses"], serde_json::json!([]));
    // An empty parent clears it; an absent one keeps it.
    let (_, d) = alice
        .put(&format!("devices/{sid}/"), &[("description", "x")])
        .await;
    assert_eq!(d["parent"], m.as_str());
    let (st, d) = alice
        .put(&format!("devices/{sid}/"), &[("parent", "")])
        .await;
    assert_eq!(st, 200);
    assert!(d["parent"].is_null());
}
