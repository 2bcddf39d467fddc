//! `dnsresources/`: CRUD, filters, implicit machine records.

use serde_json::Value;

use crate::common::TestRegion;
use crate::{bad, check_resource, counts, domain, id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dnsresources_crud_filters_and_implicit_records() {
    let r = TestRegion::start().await;
    let d = domain(&r, "example.com").await;
    let did = id(&d);
    let (st, s) = r.admin.post("subnets/", &[("cidr", "10.5.0.0/24")]).await;
    assert_eq!(st, 200, "{s}");

    // Create with fqdn and addresses: static IPs with their subnet.
    let (st, res) = r
        .admin
        .post(
            "dnsresources/",
            &[
                ("fqdn", "www.example.com"),
                ("ip_addresses", "10.5.0.10 2001:db8::1"),
                ("address_ttl", "0"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{res}");
    check_resource(&res);
    assert_eq!(res["fqdn"], "www.example.com");
    assert_eq!(res["address_ttl"], 0);
    let ips = res["ip_addresses"].as_array().unwrap();
    assert_eq!(ips.len(), 2, "{res}");
    assert_eq!(ips[0]["ip"], "10.5.0.10");
    assert_eq!(ips[0]["subnet"]["cidr"], "10.5.0.0/24");
    assert_eq!(ips[0]["owner"]["username"], "admin");
    assert!(ips[1]["subnet"].is_null());
    assert_eq!(res["resource_records"], Value::Array(vec![]));
    let wid = id(&res);

    // Create with name + domain (by name, then by id), no addresses.
    let (st, mail) = r
        .admin
        .post(
            "dnsresources/",
            &[("name", "mail"), ("domain", "example.com")],
        )
        .await;
    assert_eq!(st, 200, "{mail}");
    check_resource(&mail);
    assert!(mail["address_ttl"].is_null());
    let (st, apex) = r
        .admin
        .post(
            "dnsresources/",
            &[
                ("name", "@"),
                ("domain", &did.to_string()),
                ("ip_addresses", "10.5.0.1"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{apex}");
    assert_eq!(apex["fqdn"], "example.com");
    let (st, inmaas) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "host1.maas"), ("ip_addresses", "10.5.0.20")],
        )
        .await;
    assert_eq!(st, 200, "{inmaas}");

    // Read, list, filters.
    let (st, got) = r.alice.get(&format!("dnsresources/{wid}/"), &[]).await;
    assert_eq!((st, &got), (200, &res));
    let (st, all) = r.alice.get("dnsresources/", &[]).await;
    assert_eq!(st, 200);
    let fq: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(
        fq,
        [
            "host1.maas",
            "example.com",
            "mail.example.com",
            "www.example.com"
        ]
    );
    all.as_array().unwrap().iter().for_each(check_resource);
    let (_, byd) = r
        .alice
        .get("dnsresources/", &[("domain", "example.com")])
        .await;
    assert_eq!(byd.as_array().unwrap().len(), 3);
    let (_, byn) = r
        .alice
        .get(
            "dnsresources/",
            &[("domain", "example.com"), ("name", "www")],
        )
        .await;
    assert_eq!(byn.as_array().unwrap().len(), 1);
    let (_, byf) = r
        .alice
        .get("dnsresources/", &[("fqdn", "www.example.com")])
        .await;
    assert_eq!(byf.as_array().unwrap().len(), 1, "{byf}");
    let (st, _) = r
        .alice
        .get("dnsresources/", &[("domain", "nope.org")])
        .await;
    assert_eq!(st, 404);
    let (st, e) = r.alice.get("dnsresources/", &[("all", "perhaps")]).await;
    bad(st, &e, "all", "all bool");

    // The domain counts its records.
    let (_, d2) = r.admin.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!(d2["resource_record_count"], 3, "{d2}");

    // Machines' link addresses show with all=true only.
    let sid = r.ready_machine("node1", 1, 1024).await;
    let subnet_id = id(&s);
    sqlx::query(
        "INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
         SELECT i.id, $2, 'static', '10.5.0.50' FROM interfaces i JOIN machines m ON m.id = i.machine_id
          WHERE m.system_id = $1 LIMIT 1",
    )
    .bind(&sid)
    .bind(subnet_id)
    .execute(r.db())
    .await
    .unwrap();
    let (_, plain) = r.alice.get("dnsresources/", &[("domain", "maas")]).await;
    assert_eq!(plain.as_array().unwrap().len(), 1);
    let (st, withall) = r
        .alice
        .get("dnsresources/", &[("domain", "maas"), ("all", "true")])
        .await;
    assert_eq!(st, 200, "{withall}");
    let implicit = withall
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["fqdn"] == "node1.maas")
        .unwrap_or_else(|| panic!("node1 in {withall}"));
    assert_eq!(implicit["id"], -1);
    assert!(implicit["ip_addresses"].is_null());
    let rr = &implicit["resource_records"][0];
    assert_eq!(rr["rrtype"], "A");
    assert_eq!(rr["rrdata"], "10.5.0.50");
    assert_eq!(rr["system_id"], sid.as_str());
    let (_, aaaa) = r
        .alice
        .get(
            "dnsresources/",
            &[("all", "true"), ("rrtype", "aaaa"), ("name", "node1")],
        )
        .await;
    assert_eq!(aaaa, Value::Array(vec![]), "{aaaa}");

    // Update: addresses replaced, TTL, rename.
    let (st, u) = r
        .admin
        .put(
            &format!("dnsresources/{wid}/"),
            &[
                ("ip_addresses", "10.5.0.11"),
                ("address_ttl", "120"),
                ("name", "web"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    check_resource(&u);
    assert_eq!(u["fqdn"], "web.example.com");
    assert_eq!(u["address_ttl"], 120);
    let ips: Vec<&str> = u["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ip"].as_str().unwrap())
        .collect();
    assert_eq!(ips, ["10.5.0.11"]);
    let (st, u) = r
        .admin
        .put(&format!("dnsresources/{wid}/"), &[("fqdn", "www.maas")])
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["fqdn"], "www.maas");
    assert_eq!(u["address_ttl"], 120);

    // Refusals write nothing.
    let before = counts(&r).await;
    let (st, _) = r.alice.post("dnsresources/", &[("fqdn", "x.maas")]).await;
    assert_eq!(st, 403);
    let (st, _) = r
        .alice
        .put(&format!("dnsresources/{wid}/"), &[("name", "x")])
        .await;
    assert_eq!(st, 403);
    let (st, _) = r.alice.delete(&format!("dnsresources/{wid}/")).await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("name", "mail"), ("domain", "example.com")],
        )
        .await;
    assert_eq!(
        bad(st, &e, "__all__", "label taken"),
        "Labels must be unique within their zone."
    );
    let (st, e) = r
        .admin
        .post("dnsresources/", &[("name", "x"), ("domain", "nope.org")])
        .await;
    assert_eq!(
        (st, e.as_str()),
        (404, Some("No Domain matches the given query."))
    );
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "y.example.com"), ("ip_addresses", "10.5.0.300")],
        )
        .await;
    bad(st, &e, "ip_addresses", "bad ip");
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "y.example.com"), ("ip_addresses", "99999")],
        )
        .await;
    bad(st, &e, "ip_addresses", "unknown ip id");
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "y.example.com"), ("address_ttl", "-1")],
        )
        .await;
    bad(st, &e, "address_ttl", "ttl range");
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "y.example.com"), ("address_ttl", "x")],
        )
        .await;
    bad(st, &e, "address_ttl", "ttl type");
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[
                ("name", "bad_name"),
                ("domain", "maas"),
                ("ip_addresses", "10.5.0.9"),
            ],
        )
        .await;
    assert_eq!(
        bad(st, &e, "__all__", "bad name"),
        "Invalid dnsresource name: bad_name."
    );
    let (st, e) = r.admin.post("dnsresources/", &[("domain", "maas")]).await;
    bad(st, &e, "name", "no name");
    let (st, e) = r
        .admin
        .put(&format!("dnsresources/{wid}/"), &[("fqdn", "host1.maas")])
        .await;
    bad(st, &e, "__all__", "rename onto a taken label");
    let (st, e) = r.admin.put("dnsresources/9999/", &[("name", "q")]).await;
    assert_eq!(
        (st, e.as_str()),
        (404, Some("No DNSResource matches the given query."))
    );
    let (st, _) = r.admin.get("dnsresources/abc/", &[]).await;
    assert_eq!(st, 404);
    let (st, _) = r.admin.delete("dnsresources/9999/").await;
    assert_eq!(st, 404);
    assert_eq!(counts(&r).await, before);

    // Delete takes its addresses.
    let (st, _) = r.admin.delete(&format!("dnsresources/{wid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get(&format!("dnsresources/{wid}/"), &[]).await;
    assert_eq!(st, 404);
    assert_eq!(counts(&r).await[2], before[2] - 1);

    // A domain with resources cannot be deleted.
    let (st, e) = r.admin.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 400, "{e}");
    assert!(e.as_str().unwrap().contains("'DNSResource.domain'"), "{e}");

    // A new domain `sub.example.com` takes over `sub` of example.com as its
    // apex.
    let (st, sub) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "sub.example.com"), ("ip_addresses", "10.5.0.40")],
        )
        .await;
    assert_eq!(st, 200, "{sub}");
    let nd = domain(&r, "sub.example.com").await;
    let (_, moved) = r
        .admin
        .get(&format!("dnsresources/{}/", id(&sub)), &[])
        .await;
    assert_eq!(moved["fqdn"], "sub.example.com", "{moved}");
    let (_, nd) = r.admin.get(&format!("domains/{}/", id(&nd)), &[]).await;
    assert_eq!(nd["resource_record_count"], 1, "{nd}");
}
