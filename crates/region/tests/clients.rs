//! The request sequences Juju's MAAS provider (gomaasapi 2.0) and the
//! Terraform provider (gomaasclient) send, replayed with their parameter
//! encodings, each answer checked the way those clients read it.

use maas_testkit as common;

use base64::Engine;
use common::shape::{check_domain, check_interface, check_machine, check_named, obj};
use common::{Api, TestRegion, node_api};
use serde_json::Value;

/// A space with a VLAN on a new fabric and a subnet: (space id, vlan id,
/// subnet id).
async fn space_with_subnet(api: &Api, name: &str, cidr: &str) -> (String, String, String) {
    let (st, sp) = api.post("spaces/", &[("name", name)]).await;
    assert_eq!(st, 200, "{sp}");
    let (st, f) = api
        .post("fabrics/", &[("name", &format!("fab-{name}"))])
        .await;
    assert_eq!(st, 200, "{f}");
    let vlan = f["vlans"][0]["id"].as_i64().unwrap().to_string();
    let (st, v) = api.put(&format!("vlans/{vlan}/"), &[("space", name)]).await;
    assert_eq!(st, 200, "{v}");
    let (st, s) = api
        .post("subnets/", &[("cidr", cidr), ("vlan", &vlan)])
        .await;
    assert_eq!(st, 200, "{s}");
    (
        sp["id"].as_i64().unwrap().to_string(),
        vlan,
        s["id"].as_i64().unwrap().to_string(),
    )
}

/// Juju: controller open, bootstrap checks, StartInstance (allocate with
/// space and storage constraints, deploy with gzip user data), wait for
/// Deployed, then StopInstances (release through the collection op and the
/// provider-state file lookup).
#[tokio::test]
async fn juju_sequence() {
    let r = TestRegion::start().await;
    let api = &r.admin;
    let model = "0f3c7c5e-8d2b-4a7c-9d6e-2b1f0a9e4c11";

    // 1-2. version (anonymous ping and authenticated), whoami.
    for who in [&r.anon, api] {
        let (st, v) = who.get("version/", &[]).await;
        assert_eq!(st, 200);
        let o = obj(&v, "version");
        assert!(o["capabilities"].as_array().is_some_and(|c| {
            c.iter().all(Value::is_string) && c.contains(&"networks-management".into())
        }));
        assert!(o["version"].is_string() && o["subversion"].is_string());
    }
    let (st, _) = api.get_op("users/", "whoami", &[]).await;
    assert_eq!(st, 200);

    // 3. boot-resources/: the architectures Juju validates constraints with.
    let (st, res) = r
        .admin
        .post(
            "boot-resources/",
            &[
                ("name", "ubuntu/noble"),
                ("architecture", "amd64/generic"),
                ("title", "Ubuntu 24.04"),
                (
                    "sha256",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                ),
                ("size", "0"),
            ],
        )
        .await;
    assert!(st == 200 || st == 201, "{res}");
    let (st, res) = api.get("boot-resources/", &[]).await;
    assert_eq!(st, 200);
    let arches: Vec<&str> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let o = obj(b, "boot-resource");
            for k in ["resource_uri", "name", "type", "architecture"] {
                assert!(o[k].is_string(), "boot-resource.{k}: {b}");
            }
            assert!(o["id"].is_i64());
            o["architecture"]
                .as_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
        })
        .collect();
    assert!(arches.contains(&"amd64"), "{res}");

    // 4. zones/: at least one, descriptions strings.
    let (st, zones) = api.get("zones/", &[]).await;
    assert_eq!(st, 200);
    assert!(!zones.as_array().unwrap().is_empty());
    zones
        .as_array()
        .unwrap()
        .iter()
        .for_each(|z| check_named(z, "zone"));

    // A machine on space "app" with a root disk and a 40 GB ssd; space "dmz"
    // holds another machine Juju must avoid.
    let (app_space, app_vlan, app_subnet) = space_with_subnet(api, "app", "10.60.0.0/24").await;
    let (dmz_space, dmz_vlan, dmz_subnet) = space_with_subnet(api, "dmz", "10.61.0.0/24").await;
    let good = r.ready_machine("juju-good", 4, 8192).await;
    let avoid = r.ready_machine("juju-avoid", 1, 8192).await;
    for (sid, vlan, subnet) in [
        (&good, &app_vlan, &app_subnet),
        (&avoid, &dmz_vlan, &dmz_subnet),
    ] {
        let (st, i) = api
            .op(
                &format!("nodes/{sid}/interfaces/"),
                "create_physical",
                &[("mac_address", &common::random_mac()), ("vlan", vlan)],
            )
            .await;
        assert_eq!(st, 200, "{i}");
        let iid = i["id"].as_i64().unwrap();
        let (st, l) = api
            .op(
                &format!("nodes/{sid}/interfaces/{iid}/"),
                "link_subnet",
                &[("mode", "AUTO"), ("subnet", subnet)],
            )
            .await;
        assert_eq!(st, 200, "{l}");
        for (name, size, tags) in [("sda", "20000000000", ""), ("sdb", "40000000000", "ssd")] {
            let (st, d) = api
                .post(
                    &format!("nodes/{sid}/blockdevices/"),
                    &[("name", name), ("size", size), ("tags", tags)],
                )
                .await;
            assert_eq!(st, 200, "{d}");
        }
    }

    // 5. spaces/: each with its full subnets.
    let (st, spaces) = api.get("spaces/", &[]).await;
    assert_eq!(st, 200);
    for s in spaces.as_array().unwrap() {
        let o = obj(s, "space");
        assert!(o["id"].is_i64() && o["name"].is_string() && o["resource_uri"].is_string());
        for sub in o["subnets"].as_array().unwrap() {
            common::shape::check_subnet(sub);
        }
    }

    // 6. allocate: interfaces labelled by space id, not_subnets for the
    // avoided space, storage root:0 plus a tagged volume.
    let iface = format!("{app_space}:space={app_space}");
    let not = format!("space:{dmz_space}");
    let (st, m) = api
        .op(
            "machines/",
            "allocate",
            &[
                ("agent_name", model),
                ("interfaces", &iface),
                ("not_subnets", &not),
                ("storage", "root:0,0:32(ssd)"),
                ("zone", "default"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    check_machine(&m);
    assert_eq!(m["system_id"], good.as_str());
    let cbt = obj(&m["constraints_by_type"], "constraints_by_type");
    let iface_ids: Vec<&Value> = m["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    for id in cbt["interfaces"][app_space.as_str()].as_array().unwrap() {
        assert!(iface_ids.contains(&id), "{id} not in interface_set");
    }
    let disk_ids: Vec<&Value> = m["blockdevice_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    let volume = cbt["storage"]["0"].as_array().unwrap();
    assert_eq!(volume.len(), 1);
    assert!(disk_ids.contains(&&volume[0]));
    // Nothing else matches: 409, which Juju reads as "try the next zone".
    let (st, _) = api
        .op(
            "machines/",
            "allocate",
            &[("agent_name", model), ("interfaces", &iface)],
        )
        .await;
    assert_eq!(st, 409);

    // 8. deploy at the machine's resource_uri with gzip+base64 user data.
    let uri = m["resource_uri"].as_str().unwrap().to_string();
    let gz: &[u8] = &[
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x53, 0x4e, 0xce, 0xc9, 0x2f,
        0x4d, 0xd1, 0x4d, 0xce, 0xcf, 0x4b, 0xcb, 0x4c, 0xe7, 0x02, 0x00, 0x85, 0x52, 0x06, 0x6b,
        0x0e, 0x00, 0x00, 0x00,
    ];
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz);
    let full = Api::new(&r.url(), api.key.clone());
    let (st, d) = full
        .op(
            &uri,
            "deploy",
            &[("distro_series", "noble"), ("user_data", &b64)],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    check_machine(&d);
    assert_eq!(d["status_name"], "Deploying");

    // 9. domains/.
    let (st, domains) = api.get("domains/", &[]).await;
    assert_eq!(st, 200);
    domains.as_array().unwrap().iter().for_each(check_domain);

    // 10. set_owner_data: Juju's tags, answered with the machine.
    let (st, o) = full
        .op(
            &uri,
            "set_owner_data",
            &[
                ("juju-controller-uuid", model),
                ("juju-is-controller", "true"),
                ("juju-model-uuid", model),
            ],
        )
        .await;
    assert_eq!(st, 200, "{o}");
    check_machine(&o);
    assert_eq!(o["owner_data"]["juju-is-controller"], "true");

    // 11. The deployed OS fetches its user data (the exact bytes), which
    // marks it Deployed; Juju polls the filtered listing.
    let node = node_api(&r, &good).await;
    let raw = node
        .http
        .get(node.url("/MAAS/metadata/latest/user-data"))
        .header("Authorization", node.auth_header().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.bytes().await.unwrap().as_ref(), gz);
    let (st, list) = api
        .get("machines/", &[("agent_name", model), ("id", &good)])
        .await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    check_machine(&list[0]);
    assert_eq!(list[0]["status_name"], "Deployed");
    // Interfaces read from the machine JSON: the link's subnet names a space.
    let links: Vec<&Value> = list[0]["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["links"].as_array().unwrap())
        .collect();
    assert!(links.iter().any(|l| l["subnet"]["space"] == "app"));
    list[0]["interface_set"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(check_interface);

    // 12. StopInstances: release through the collection op (a JSON answer),
    // then the provider-state file is looked up and must be a 404.
    let (st, rel) = api
        .op(
            "machines/",
            "release",
            &[
                ("machines", &good),
                ("comment", "Released by Juju MAAS provider"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rel}");
    let (st, _) = api
        .get(&format!("files/{model}-provider-state/"), &[])
        .await;
    assert_eq!(st, 404);
    let status = r.status_of(&good).await;
    assert!(status == 4 || status == 14, "released to {status}");
    let _ = avoid;
    r.stop().await;
}

/// gomaasclient rebuilds every PUT answer from its `resource_uri`.
fn put_ok(st: u16, v: &Value, what: &str) {
    assert_eq!(st, 200, "{what}: {v}");
    assert!(
        v["resource_uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("/MAAS/api/2.0/")),
        "{what}: PUT answer without resource_uri: {v}"
    );
}

/// Terraform: the requests the provider's resources send (create = POST
/// with an empty `op`, then PUT, then GET), from a fabric to a deployed and
/// released machine, then the teardown.
#[tokio::test]
async fn terraform_sequence() {
    let r = TestRegion::start().await;
    let api = &r.admin;
    let create = |path: &'static str, form: Vec<(&'static str, String)>| {
        let api = api.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.op(path, "", &form).await
        }
    };

    // 1-2. maas_fabric.
    let (st, fabric) = create("fabrics/", vec![("name", "tf-fabric".into())]).await;
    assert_eq!(st, 200, "{fabric}");
    let fid = fabric["id"].as_i64().unwrap();
    let (st, v) = api
        .put(&format!("fabrics/{fid}/"), &[("name", "tf-fabric")])
        .await;
    put_ok(st, &v, "fabric");

    // 3. maas_vlan, addressed by VID under its fabric.
    let vlan_form = [
        ("dhcp_on", "false"),
        ("mtu", "1500"),
        ("name", "tf-vlan"),
        ("vid", "42"),
    ];
    let (st, vlan) = api
        .op(&format!("fabrics/{fid}/vlans/"), "", &vlan_form)
        .await;
    assert_eq!(st, 200, "{vlan}");
    let vlan_id = vlan["id"].as_i64().unwrap().to_string();
    assert_eq!(vlan["fabric_id"], fid);
    let (st, v) = api
        .put(&format!("fabrics/{fid}/vlans/42/"), &vlan_form)
        .await;
    put_ok(st, &v, "vlan");

    // 4. maas_subnet with every field the provider always sends.
    let subnet_form = [
        ("allow_dns", "true"),
        ("allow_proxy", "true"),
        ("cidr", "10.77.0.0/24"),
        ("dns_servers", "10.77.0.2"),
        ("fabric", &fid.to_string()),
        ("gateway_ip", "10.77.0.1"),
        ("managed", "true"),
        ("name", "tf-subnet"),
        ("rdns_mode", "2"),
        ("vid", "42"),
        ("vlan", &vlan_id),
    ];
    let (st, subnet) = api.op("subnets/", "", &subnet_form).await;
    assert_eq!(st, 200, "{subnet}");
    assert!(subnet["vlan"].is_object());
    let sid = subnet["id"].as_i64().unwrap().to_string();
    let (st, v) = api.put(&format!("subnets/{sid}/"), &subnet_form).await;
    put_ok(st, &v, "subnet");

    // 5. maas_subnet_ip_range.
    let range_form = [
        ("comment", "tf"),
        ("end_ip", "10.77.0.50"),
        ("start_ip", "10.77.0.10"),
        ("subnet", sid.as_str()),
        ("type", "reserved"),
    ];
    let (st, range) = api.op("ipranges/", "", &range_form).await;
    assert_eq!(st, 200, "{range}");
    assert!(range["subnet"].is_object() && range["user"].is_object());
    let rid = range["id"].as_i64().unwrap();
    let (st, v) = api.put(&format!("ipranges/{rid}/"), &range_form).await;
    put_ok(st, &v, "iprange");

    // 6. maas_dns_record A: a DNS resource with its address.
    let a_form = [
        ("address_ttl", "0"),
        ("domain", "maas"),
        ("ip_addresses", "10.77.0.60"),
        ("name", "www"),
    ];
    let (st, a) = api.op("dnsresources/", "", &a_form).await;
    assert_eq!(st, 200, "{a}");
    let aid = a["id"].as_i64().unwrap();
    let (st, v) = api.put(&format!("dnsresources/{aid}/"), &a_form).await;
    put_ok(st, &v, "dnsresource");
    let (st, a) = api.get(&format!("dnsresources/{aid}/"), &[]).await;
    assert_eq!(st, 200);
    assert_eq!(a["fqdn"], "www.maas");
    assert_eq!(a["ip_addresses"][0]["ip"], "10.77.0.60");

    // 7. maas_dns_record CNAME.
    let c_form = [
        ("domain", "maas"),
        ("name", "alias"),
        ("rrdata", "www"),
        ("rrtype", "CNAME"),
        ("ttl", "0"),
    ];
    let (st, c) = api.op("dnsresourcerecords/", "", &c_form).await;
    assert_eq!(st, 200, "{c}");
    let cid = c["id"].as_i64().unwrap();
    let (st, v) = api
        .put(&format!("dnsresourcerecords/{cid}/"), &c_form)
        .await;
    put_ok(st, &v, "dnsresourcerecord");

    // 8. maas_device, then a static IP the way Juju links container devices.
    let dev_mac = common::random_mac();
    let (st, dev) = api
        .op(
            "devices/",
            "",
            &[("hostname", "tf-dev"), ("mac_addresses", &dev_mac)],
        )
        .await;
    assert_eq!(st, 200, "{dev}");
    let dev_id = dev["system_id"].as_str().unwrap().to_string();
    let dev_iface = dev["interface_set"][0]["id"].as_i64().unwrap();
    let dev_iface_uri = format!("nodes/{dev_id}/interfaces/{dev_iface}/");
    let (st, v) = api
        .put(&dev_iface_uri, &[("name", "eth0"), ("vlan", &vlan_id)])
        .await;
    put_ok(st, &v, "device interface");
    let (st, l) = api
        .op(
            &dev_iface_uri,
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &sid),
                ("ip_address", "10.77.0.70"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    let (st, devices) = api.get("devices/", &[]).await;
    assert_eq!(st, 200);
    let found = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["system_id"] == dev_id.as_str())
        .expect("device listed");
    assert_eq!(found["ip_addresses"], serde_json::json!(["10.77.0.70"]));

    // 9. maas_network_interface_link STATIC on a machine's interface.
    let msid = r.ready_machine("tf-machine", 2, 4096).await;
    let (st, ifaces) = api.get(&format!("nodes/{msid}/interfaces/"), &[]).await;
    assert_eq!(st, 200);
    let iid = ifaces[0]["id"].as_i64().unwrap();
    let iface_uri = format!("nodes/{msid}/interfaces/{iid}/");
    let (st, d) = api.op(&iface_uri, "disconnect", &[]).await;
    assert_eq!(st, 200, "{d}");
    let (st, linked) = api
        .op(
            &iface_uri,
            "link_subnet",
            &[
                ("default_gateway", "false"),
                ("ip_address", "10.77.0.80"),
                ("mode", "STATIC"),
                ("subnet", &sid),
            ],
        )
        .await;
    assert_eq!(st, 200, "{linked}");
    check_interface(&linked);
    // The provider takes the new link's id from links[0].
    assert_eq!(linked["links"][0]["ip_address"], "10.77.0.80");
    assert_eq!(linked["links"][0]["mode"], "static");
    let link_id = linked["links"][0]["id"].as_i64().unwrap().to_string();
    let (st, v) = api
        .op(&format!("machines/{msid}/"), "clear_default_gateways", &[])
        .await;
    assert_eq!(st, 200, "{v}");
    // An address in the reserved range, one a device holds, or one a DNS
    // resource holds, is refused as MAAS refuses it (404,
    // `StaticIPAddressUnavailable`).
    for ip in ["10.77.0.20", "10.77.0.70", "10.77.0.60"] {
        let (st, e) = api
            .op(
                &iface_uri,
                "link_subnet",
                &[("ip_address", ip), ("mode", "STATIC"), ("subnet", &sid)],
            )
            .await;
        assert_eq!(st, 404, "{ip}: {e}");
        assert_eq!(e, format!("The IP address {ip} is already in use."));
    }

    // 10. maas_tag on the machine.
    let (st, t) = api
        .op("tags/", "", &[("comment", "tf"), ("name", "tf-tag")])
        .await;
    assert_eq!(st, 200, "{t}");
    let (st, v) = api
        .put("tags/tf-tag/", &[("comment", "tf"), ("name", "tf-tag")])
        .await;
    put_ok(st, &v, "tag");
    let (st, _) = api
        .op("tags/tf-tag/", "update_nodes", &[("add", &msid)])
        .await;
    assert_eq!(st, 200);
    let (st, tagged) = api.get_op("tags/tf-tag/", "machines", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(tagged[0]["system_id"], msid.as_str());

    // 11. maas_instance: allocate (no agent_name), deploy with base64 user
    // data and a kernel, then poll: Deploying … Deployed, nothing else.
    let (st, m) = api
        .op(
            "machines/",
            "allocate",
            &[
                ("cpu_count", "1"),
                ("mem", "2048"),
                ("tags", "tf-tag"),
                ("zone", "default"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        (m["system_id"].as_str(), m["status_name"].as_str()),
        (Some(msid.as_str()), Some("Allocated"))
    );
    let path = format!("machines/{msid}/");
    let (st, d) = api
        .op(
            &path,
            "deploy",
            &[
                ("distro_series", "jammy"),
                ("user_data", "I2Nsb3VkLWNvbmZpZwo="),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["status_name"], "Deploying");
    let node = node_api(&r, &msid).await;
    let (st, body) = node.get("/MAAS/metadata/latest/user-data", &[]).await;
    assert_eq!((st, body), (200, Value::String("#cloud-config\n".into())));
    let (st, m) = api.get(&path, &[]).await;
    assert_eq!((st, m["status_name"].as_str()), (200, Some("Deployed")));
    assert_eq!(m["ip_addresses"], serde_json::json!(["10.77.0.80"]));

    // 12. release, then Releasing … Ready.
    let (st, _) = api
        .op(
            "machines/",
            "release",
            &[("comment", "Released by Terraform"), ("machines", &msid)],
        )
        .await;
    assert_eq!(st, 200);
    let (_, m) = api.get(&path, &[]).await;
    assert!(
        ["Releasing", "Ready"].contains(&m["status_name"].as_str().unwrap()),
        "{}",
        m["status_name"]
    );

    // Destroying the link, the records and the A record's address.
    let (st, _) = api
        .op(&iface_uri, "unlink_subnet", &[("id", &link_id)])
        .await;
    assert_eq!(st, 200);
    assert_eq!(api.delete(&format!("dnsresources/{aid}/")).await.0, 204);
    let (st, e) = api
        .op("ipaddresses/", "release", &[("ip", "10.77.0.60")])
        .await;
    assert!(st == 200 || st == 204, "{st} {e}");
    assert_eq!(
        api.delete(&format!("dnsresourcerecords/{cid}/")).await.0,
        204
    );

    // 13. Teardown in reverse.
    assert_eq!(api.delete("tags/tf-tag/").await.0, 204);
    assert_eq!(api.delete(&format!("devices/{dev_id}/")).await.0, 204);
    assert_eq!(api.delete(&format!("ipranges/{rid}/")).await.0, 204);
    let (st, e) = api.delete(&format!("subnets/{sid}/")).await;
    assert_eq!(st, 204, "{e}");
    assert_eq!(api.delete(&format!("fabrics/{fid}/vlans/42/")).await.0, 204);
    assert_eq!(api.delete(&format!("fabrics/{fid}/")).await.0, 204);
    r.stop().await;
}
