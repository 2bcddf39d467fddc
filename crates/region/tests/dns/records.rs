//! `dnsresourcerecords/`: types, CNAME rules, and the zone content.

use serde_json::Value;

use crate::common::TestRegion;
use crate::{bad, check_record, counts, domain, id};

/// (form, field with the error, its message)
type Refusal<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dnsresourcerecords_types_conflicts_and_zone() {
    let r = TestRegion::start().await;
    let d = domain(&r, "example.com").await;
    let did = id(&d);

    let ok: &[(&str, &str, &str)] = &[
        ("alias.example.com", "cname", "www.example.com."),
        ("example.com", "MX", "10 mail.example.com"),
        ("example.com", "NS", "ns1.example.com"),
        ("_sip._tcp.example.com", "SRV", "0 5 5060 sip.example.com"),
        ("host.example.com", "SSHFP", "1 2 0123456789abcdef"),
        ("host.example.com", "TXT", "v=spf1 -all"),
    ];
    let mut made = Vec::new();
    for (fqdn, t, data) in ok {
        let (st, rec) = r
            .admin
            .post(
                "dnsresourcerecords/",
                &[
                    ("fqdn", fqdn),
                    ("rrtype", t),
                    ("rrdata", data),
                    ("ttl", "0"),
                ],
            )
            .await;
        assert_eq!(st, 200, "{fqdn} {t}: {rec}");
        check_record(&rec);
        assert_eq!(rec["fqdn"], *fqdn);
        assert_eq!(rec["rrtype"], t.to_uppercase());
        assert_eq!(rec["rrdata"], *data);
        assert_eq!(rec["ttl"], 0);
        made.push(rec);
    }
    // name + domain, no ttl.
    let (st, txt) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[
                ("name", "info"),
                ("domain", &did.to_string()),
                ("rrtype", "TXT"),
                ("rrdata", "hello"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{txt}");
    assert!(txt["ttl"].is_null());
    let tid = id(&txt);

    // Records show in their resource and count in the domain.
    let (_, res) = r
        .alice
        .get(
            "dnsresources/",
            &[("domain", "example.com"), ("name", "host")],
        )
        .await;
    let rrs = res[0]["resource_records"].as_array().unwrap();
    assert_eq!(
        rrs.iter()
            .map(|x| x["rrtype"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["SSHFP", "TXT"]
    );
    let (_, byt) = r.alice.get("dnsresources/", &[("rrtype", "mx")]).await;
    assert_eq!(byt.as_array().unwrap().len(), 1, "{byt}");
    assert_eq!(byt[0]["fqdn"], "example.com");
    let (_, d2) = r.admin.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!(d2["resource_record_count"], 7);

    // Listing and filters.
    let (st, all) = r.alice.get("dnsresourcerecords/", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(all.as_array().unwrap().len(), 7);
    all.as_array().unwrap().iter().for_each(check_record);
    let (_, f) = r
        .alice
        .get("dnsresourcerecords/", &[("rrtype", "TXT")])
        .await;
    assert_eq!(f.as_array().unwrap().len(), 2);
    let (_, f) = r
        .alice
        .get(
            "dnsresourcerecords/",
            &[("domain", "example.com"), ("name", "host")],
        )
        .await;
    assert_eq!(f.as_array().unwrap().len(), 2);
    let (_, f) = r
        .alice
        .get("dnsresourcerecords/", &[("fqdn", "info.example.com")])
        .await;
    assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
    let (st, _) = r
        .alice
        .get("dnsresourcerecords/", &[("domain", "nope")])
        .await;
    assert_eq!(st, 404);
    let (st, got) = r
        .alice
        .get(&format!("dnsresourcerecords/{tid}/"), &[])
        .await;
    assert_eq!((st, &got), (200, &txt));

    // Bad input: every refusal writes nothing.
    let before = counts(&r).await;
    let refuse: &[Refusal] = &[
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "A"),
                ("rrdata", "10.0.0.1"),
            ],
            "rrtype",
            "A is not one of CNAME MX NS SRV SSHFP TXT.",
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "AAAA"),
                ("rrdata", "::1"),
            ],
            "rrtype",
            "AAAA is not one of CNAME MX NS SRV SSHFP TXT.",
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "CNAME"),
                ("rrdata", "bad host!"),
            ],
            "__all__",
            "Invalid CNAME: Should be '<server>'.",
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "MX"),
                ("rrdata", "mail.example.com"),
            ],
            "__all__",
            maas_model::dns::INVALID_MX,
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "MX"),
                ("rrdata", "70000 mail.example.com"),
            ],
            "__all__",
            maas_model::dns::INVALID_MX,
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "NS"),
                ("rrdata", "bad_ns"),
            ],
            "__all__",
            "Domain name contains invalid characters.",
        ),
        (
            &[
                ("fqdn", "_x._tcp.example.com"),
                ("rrtype", "SRV"),
                ("rrdata", "0 5 host"),
            ],
            "__all__",
            maas_model::dns::INVALID_SRV,
        ),
        (
            &[
                ("name", "sip"),
                ("domain", "example.com"),
                ("rrtype", "SRV"),
                ("rrdata", "0 5 5060 sip"),
            ],
            "name",
            "Invalid dnsresource name: sip.",
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "SSHFP"),
                ("rrdata", "x y z"),
            ],
            "__all__",
            maas_model::dns::INVALID_SSHFP,
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "TXT"),
                ("rrdata", "t"),
                ("ttl", "x"),
            ],
            "ttl",
            "'x' is not a valid integer.",
        ),
        (
            &[
                ("fqdn", "a.example.com"),
                ("rrtype", "TXT"),
                ("rrdata", "t"),
                ("ttl", "-1"),
            ],
            "ttl",
            "Ensure this value is greater than or equal to 0.",
        ),
        // A CNAME never shares its name, either way.
        (
            &[
                ("fqdn", "host.example.com"),
                ("rrtype", "CNAME"),
                ("rrdata", "www"),
            ],
            "__all__",
            "CNAME records for a name cannot coexist with non-CNAME records.",
        ),
        (
            &[
                ("fqdn", "alias.example.com"),
                ("rrtype", "TXT"),
                ("rrdata", "t"),
            ],
            "__all__",
            "CNAME records for a name cannot coexist with non-CNAME records.",
        ),
        (
            &[
                ("fqdn", "alias.example.com"),
                ("rrtype", "CNAME"),
                ("rrdata", "other"),
            ],
            "__all__",
            "Only one CNAME can be associated with a name.",
        ),
    ];
    for (form, field, msg) in refuse {
        let (st, e) = r.admin.post("dnsresourcerecords/", form).await;
        assert_eq!(bad(st, &e, field, &format!("{form:?}")), *msg, "{form:?}");
    }
    let (st, e) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[("fqdn", "a.example.com"), ("rrdata", "x")],
        )
        .await;
    assert_eq!((st, e.as_str()), (400, Some("rrtype must be provided.")));
    let (st, e) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[("fqdn", "a.example.com"), ("rrtype", "TXT")],
        )
        .await;
    assert_eq!((st, e.as_str()), (400, Some("rrdata must be provided.")));
    let (st, e) = r
        .admin
        .post("dnsresourcerecords/", &[("rrtype", "TXT"), ("rrdata", "x")])
        .await;
    assert_eq!(
        (st, e.as_str()),
        (
            400,
            Some("Either name and domain (or fqdn) must be specified")
        )
    );
    let (st, e) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[
                ("name", "a"),
                ("domain", "nope.org"),
                ("rrtype", "TXT"),
                ("rrdata", "x"),
            ],
        )
        .await;
    assert_eq!(
        (st, e.as_str()),
        (404, Some("No Domain matches the given query."))
    );
    // An address on a CNAME's name.
    let (_, alias) = r
        .alice
        .get(
            "dnsresources/",
            &[("domain", "example.com"), ("name", "alias")],
        )
        .await;
    let (st, e) = r
        .admin
        .put(
            &format!("dnsresources/{}/", id(&alias[0])),
            &[("ip_addresses", "10.9.9.9")],
        )
        .await;
    assert_eq!(
        bad(st, &e, "__all__", "address on CNAME"),
        "Cannot add address: CNAME present."
    );
    // Updates that would break the rules.
    let (st, e) = r
        .admin
        .put(
            &format!("dnsresourcerecords/{}/", id(&made[4])),
            &[("rrtype", "CNAME"), ("rrdata", "x")],
        )
        .await;
    bad(st, &e, "__all__", "TXT beside → CNAME");
    let (st, e) = r
        .admin
        .put(&format!("dnsresourcerecords/{tid}/"), &[("rrdata", "")])
        .await;
    bad(st, &e, "rrdata", "empty data");
    let (st, _) = r
        .alice
        .post(
            "dnsresourcerecords/",
            &[
                ("fqdn", "q.example.com"),
                ("rrtype", "TXT"),
                ("rrdata", "x"),
            ],
        )
        .await;
    assert_eq!(st, 403);
    let (st, _) = r
        .alice
        .put(&format!("dnsresourcerecords/{tid}/"), &[("rrdata", "y")])
        .await;
    assert_eq!(st, 403);
    let (st, _) = r.alice.delete(&format!("dnsresourcerecords/{tid}/")).await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .put("dnsresourcerecords/9999/", &[("rrdata", "y")])
        .await;
    assert_eq!(
        (st, e.as_str()),
        (404, Some("No DNSData matches the given query."))
    );
    let (st, _) = r.admin.get("dnsresourcerecords/x/", &[]).await;
    assert_eq!(st, 404);
    assert_eq!(counts(&r).await, before);

    // Update.
    let (st, u) = r
        .admin
        .put(
            &format!("dnsresourcerecords/{tid}/"),
            &[("rrdata", "bye"), ("ttl", "77")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    check_record(&u);
    assert_eq!(
        (&u["rrdata"], &u["ttl"], &u["rrtype"]),
        (&Value::from("bye"), &Value::from(77), &Value::from("TXT"))
    );
    let (st, u) = r
        .admin
        .put(
            &format!("dnsresourcerecords/{tid}/"),
            &[("rrtype", "mx"), ("rrdata", "5 mx.example.com")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["rrtype"], "MX");
    assert_eq!(u["ttl"], 77);

    // The zone the rack will serve: resources' addresses, records, machines.
    let (st, s) = r.admin.post("subnets/", &[("cidr", "10.7.0.0/24")]).await;
    assert_eq!(st, 200, "{s}");
    let (st, _) = r
        .admin
        .post(
            "dnsresources/",
            &[
                ("fqdn", "www.example.com"),
                ("ip_addresses", "10.7.0.5"),
                ("address_ttl", "90"),
            ],
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = r
        .admin
        .put(&format!("domains/{did}/"), &[("ttl", "600")])
        .await;
    assert_eq!(st, 200);
    let (st, _) = r
        .admin
        .op(&format!("domains/{did}/"), "set_default", &[])
        .await;
    assert_eq!(st, 200);
    let sid = r.ready_machine("node7", 1, 1024).await;
    sqlx::query(
        "INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
         SELECT i.id, $2, 'static', '10.7.0.77' FROM interfaces i JOIN machines m ON m.id = i.machine_id
          WHERE m.system_id = $1 LIMIT 1",
    )
    .bind(&sid)
    .bind(id(&s))
    .execute(r.db())
    .await
    .unwrap();
    let (st, _) = r
        .admin
        .op("domains/", "set_serial", &[("serial", "42")])
        .await;
    assert_eq!(st, 200);
    let mut c = r.db().acquire().await.unwrap();
    let z = maas_region::services::dns::zone_in(&mut c, did)
        .await
        .unwrap();
    assert_eq!(z.name, "example.com");
    assert_eq!(z.ttl, 600);
    assert_eq!(z.serial, 42);
    let got: Vec<(String, String, String, u32)> = z
        .records
        .iter()
        .map(|x| (x.name.clone(), x.rrtype.clone(), x.rrdata.clone(), x.ttl))
        .collect();
    let want: Vec<(String, String, String, u32)> = [
        ("@", "MX", "10 mail.example.com", 0),
        ("@", "NS", "ns1.example.com", 0),
        ("_sip._tcp", "SRV", "0 5 5060 sip.example.com", 0),
        ("alias", "CNAME", "www.example.com.", 0),
        ("host", "SSHFP", "1 2 0123456789abcdef", 0),
        ("host", "TXT", "v=spf1 -all", 0),
        ("info", "MX", "5 mx.example.com", 77),
        ("node7", "A", "10.7.0.77", 600),
        ("www", "A", "10.7.0.5", 90),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), *d))
    .collect();
    assert_eq!(got, want);
    let missing = maas_region::services::dns::zone_in(&mut c, 9999).await;
    assert!(missing.is_err());
    drop(c);

    // Deleting the last record of a name deletes the name.
    let before = counts(&r).await;
    let (st, _) = r.admin.delete(&format!("dnsresourcerecords/{tid}/")).await;
    assert_eq!(st, 204);
    let after = counts(&r).await;
    assert_eq!((after[1], after[3]), (before[1] - 1, before[3] - 1));
    let (st, _) = r
        .admin
        .get(&format!("dnsresourcerecords/{tid}/"), &[])
        .await;
    assert_eq!(st, 404);
    // ... but not while it has another.
    let (st, _) = r
        .admin
        .delete(&format!("dnsresourcerecords/{}/", id(&made[4])))
        .await;
    assert_eq!(st, 204);
    assert_eq!(counts(&r).await[1], after[1]);
}
