//! The web UI's network and DNS pages over plain HTTP: subnets grouped by
//! fabric and VLAN, IP ranges added (errors beside the fields, with the
//! API's messages) and deleted after a confirm step, a VLAN's DHCP with the
//! API's refusals, domains and records; admin-only writes, CSRF. The
//! browser flow is in `tests/ui/networks.mjs`.

use maas_testkit as common;

use common::TestRegion;

/// Sign in: the cookie header value and the CSRF token.
async fn sign_in(r: &TestRegion, user: &str) -> (String, String) {
    let s = common::ui::sign_in(r, user, "/dns").await;
    (s.cookie, s.csrf)
}

use common::ui::get;

/// POST a form: status, Location (if any), body.
async fn post(
    r: &TestRegion,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    common::ui::post(r, cookie, path, form, None).await
}

fn field_error(page: &str, id: &str) -> String {
    common::ui::field_error(page, id).unwrap_or_default()
}

async fn subnet(r: &TestRegion, cidr: &str) -> (i64, i64) {
    let (st, s) = r.admin.post("subnets/", &[("cidr", cidr)]).await;
    assert_eq!(st, 200, "{s}");
    (s["id"].as_i64().unwrap(), s["vlan"]["id"].as_i64().unwrap())
}

#[tokio::test]
async fn subnets_and_ip_ranges() {
    let r = TestRegion::start().await;
    let (sid, vlan) = subnet(&r, "10.9.0.0/24").await;
    let (st, _) = r
        .admin
        .op("ipaddresses/", "reserve", &[("ip", "10.9.0.50")])
        .await;
    assert_eq!(st, 200);
    let (admin, csrf) = sign_in(&r, "admin").await;
    let (alice, alice_csrf) = sign_in(&r, "alice").await;

    // The list: fabric → VLAN (a link) → subnet (a link).
    let (st, page) = get(&r, &alice, "/subnets").await;
    assert_eq!(st, 200);
    assert!(
        page.contains(&format!("href=\"/MAAS/r/vlan/{vlan}\"")),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/MAAS/r/subnet/{sid}\">10.9.0.0/24<")));
    assert!(page.contains("aria-current=\"page\">Subnets"));

    // The subnet: a user sees it and the used address with its owner, but
    // no add form.
    let path = format!("/subnet/{sid}");
    let (st, page) = get(&r, &alice, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("<td>10.9.0.50</td>"), "{page}");
    assert!(
        page.contains("<td>reservation</td><td>admin</td>"),
        "{page}"
    );
    assert!(!page.contains("Add range"));
    assert_eq!(get(&r, &alice, "/subnet/999999").await.0, 404);
    assert_eq!(get(&r, &alice, "/subnet/x").await.0, 404);

    // Adding: a user is refused like the API refuses them; nothing written.
    let ranges = format!("{path}/ranges");
    let good = [
        ("csrf", alice_csrf.as_str()),
        ("type", "dynamic"),
        ("start_ip", "10.9.0.100"),
        ("end_ip", "10.9.0.150"),
        ("comment", "pool"),
    ];
    assert_eq!(post(&r, &alice, &ranges, &good).await.0, 403);
    // No or a wrong token: refused.
    assert_eq!(post(&r, &admin, &ranges, &good[1..]).await.0, 403);
    assert_eq!(post(&r, &admin, &ranges, &good).await.0, 403);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 0);

    // Bad fields: 400, the API's messages beside the fields.
    let (st, _, page) = post(
        &r,
        &admin,
        &ranges,
        &[
            ("csrf", &csrf),
            ("type", "dynamic"),
            ("start_ip", "10.9.0.300"),
            ("end_ip", ""),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "start_ip"),
        "Enter a valid IPv4 or IPv6 address."
    );
    assert_eq!(field_error(&page, "end_ip"), "This field is required.");
    assert!(
        page.contains("value=\"10.9.0.300\""),
        "typed values come back"
    );
    // Outside the subnet, and over the reserved address: the service's.
    let (_, e1) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.9.0.10"),
                ("end_ip", "10.9.1.20"),
                ("subnet", &sid.to_string()),
            ],
        )
        .await;
    let (st, _, page) = post(
        &r,
        &admin,
        &ranges,
        &[
            ("csrf", &csrf),
            ("type", "dynamic"),
            ("start_ip", "10.9.0.10"),
            ("end_ip", "10.9.1.20"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    let api_msg = e1["end_ip"][0].as_str().unwrap().to_string();
    assert_eq!(field_error(&page, "end_ip"), api_msg);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 0);

    // A good one.
    let mut ok = good;
    ok[0].1 = &csrf;
    let (st, loc, _) = post(&r, &admin, &ranges, &ok).await;
    assert_eq!(
        (st, loc.as_str()),
        (303, format!("/MAAS/r/subnet/{sid}#ranges").as_str())
    );
    let (_, list) = r.admin.get("ipranges/", &[]).await;
    let rid = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["start_ip"], "10.9.0.100");
    assert_eq!(list[0]["comment"], "pool");
    let page = get(&r, &admin, &path).await.1;
    assert!(page.contains(&format!("action=\"/MAAS/r/iprange/{rid}/delete\"")));

    // Deleting asks first; a user cannot.
    let del = format!("/iprange/{rid}/delete");
    assert_eq!(
        post(
            &r,
            &alice,
            &del,
            &[("csrf", &alice_csrf), ("confirmed", "1")]
        )
        .await
        .0,
        403
    );
    let (st, _, page) = post(&r, &admin, &del, &[("csrf", &csrf)]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""), "{page}");
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 1);
    let (st, loc, _) = post(&r, &admin, &del, &[("csrf", &csrf), ("confirmed", "1")]).await;
    assert_eq!((st, loc.contains(&format!("/subnet/{sid}"))), (303, true));
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 0);
    assert_eq!(post(&r, &admin, &del, &[("csrf", &csrf)]).await.0, 404);
}

/// The VLAN form: DHCP on with rack rk7777.
fn dhcp_form<'a>(csrf: &'a str, mtu: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("dhcp_on", "1"),
        ("primary_rack", "rk7777"),
        ("secondary_rack", ""),
        ("relay_vlan", ""),
        ("mtu", mtu),
    ]
}

#[tokio::test]
async fn vlan_dhcp_follows_the_apis_rules() {
    let r = TestRegion::start().await;
    let (sid, vlan) = subnet(&r, "10.7.0.0/24").await;
    sqlx::query("INSERT INTO racks (system_id, hostname) VALUES ('rk7777', 'rack7')")
        .execute(r.db())
        .await
        .unwrap();
    let (admin, csrf) = sign_in(&r, "admin").await;
    let (alice, alice_csrf) = sign_in(&r, "alice").await;
    let path = format!("/vlan/{vlan}");
    let (st, page) = get(&r, &alice, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("href=\"/MAAS/r/subnet/{sid}\">10.7.0.0/24<")));
    assert!(!page.contains("Save VLAN"), "no form for a user");
    let page = get(&r, &admin, &path).await.1;
    assert!(
        page.contains("<option value=\"rk7777\">rack7 (rk7777)</option>"),
        "{page}"
    );

    let edit = format!("{path}/edit");
    assert_eq!(
        post(&r, &alice, &edit, &dhcp_form(&alice_csrf, "1500"))
            .await
            .0,
        403
    );
    // No dynamic range: refused with the API's message beside the checkbox.
    let (st, _, page) = post(&r, &admin, &edit, &dhcp_form(&csrf, "1500")).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "dhcp_on"),
        "dhcp can only be turned on when a dynamic IP range is defined."
    );
    // A bad MTU: the API's message beside the field.
    let (st, _, page) = post(&r, &admin, &edit, &dhcp_form(&csrf, "100")).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "mtu"),
        "Ensure this value is greater than or equal to 552."
    );
    let (_, v) = r.admin.get(&format!("vlans/{vlan}/"), &[]).await;
    assert_eq!(v["dhcp_on"], false);
    // Relaying to itself, and the same rack twice: the API's refusals.
    let vid = vlan.to_string();
    let self_relay = [
        ("csrf", csrf.as_str()),
        ("relay_vlan", vid.as_str()),
        ("mtu", "1500"),
    ];
    let (st, _, page) = post(&r, &admin, &edit, &self_relay).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "relay_vlan"),
        "A VLAN cannot relay DHCP to itself."
    );
    let twice = [
        ("csrf", csrf.as_str()),
        ("primary_rack", "rk7777"),
        ("secondary_rack", "rk7777"),
    ];
    let (st, _, page) = post(&r, &admin, &edit, &twice).await;
    assert_eq!(st, 400);
    assert!(
        page.contains("The primary and secondary rack must be different."),
        "{page}"
    );
    let (_, v) = r.admin.get(&format!("vlans/{vlan}/"), &[]).await;
    assert_eq!(
        (v["relay_vlan"].is_null(), v["primary_rack"].is_null()),
        (true, true)
    );

    // With a dynamic range DHCP goes on, with the rack.
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("/subnet/{sid}/ranges"),
        &[
            ("csrf", &csrf),
            ("type", "dynamic"),
            ("start_ip", "10.7.0.100"),
            ("end_ip", "10.7.0.200"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let (st, loc, _) = post(&r, &admin, &edit, &dhcp_form(&csrf, "1500")).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/vlan/{vlan}")));
    let (_, v) = r.admin.get(&format!("vlans/{vlan}/"), &[]).await;
    assert_eq!(v["dhcp_on"], true);
    assert_eq!(v["primary_rack"], "rk7777");
    assert!(get(&r, &admin, &path).await.1.contains("DHCP on"));

    // Its only dynamic range cannot go now: the confirm page says why.
    let (_, list) = r.admin.get("ipranges/", &[]).await;
    let rid = list[0]["id"].as_i64().unwrap();
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/iprange/{rid}/delete"),
        &[("csrf", &csrf), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(page.contains("turn DHCP off first"), "{page}");
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 1);
}

/// POST a record form: (csrf, name, type, data).
async fn rec(
    r: &TestRegion,
    cookie: &str,
    path: &str,
    (csrf, name, t, data): (&str, &str, &str, &str),
) -> (u16, String, String) {
    let f = [
        ("csrf", csrf),
        ("name", name),
        ("rrtype", t),
        ("rrdata", data),
        ("ttl", ""),
    ];
    post(r, cookie, path, &f).await
}

#[tokio::test]
async fn domains_and_records() {
    let r = TestRegion::start().await;
    let (admin, csrf) = sign_in(&r, "admin").await;
    let (alice, alice_csrf) = sign_in(&r, "alice").await;
    let (st, page) = get(&r, &alice, "/dns").await;
    assert_eq!(st, 200);
    assert!(page.contains(">maas</a>"), "{page}");
    assert!(!page.contains("Add domain"));

    // Domains: a user is refused; a bad name's message is the API's.
    assert_eq!(
        post(
            &r,
            &alice,
            "/dns/add",
            &[("csrf", &alice_csrf), ("name", "example.test")]
        )
        .await
        .0,
        403
    );
    let (_, api_err) = r.admin.post("domains/", &[("name", "bad_name!")]).await;
    let (st, _, page) = post(
        &r,
        &admin,
        "/dns/add",
        &[("csrf", &csrf), ("name", "bad_name!")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "name"),
        api_err["name"][0].as_str().unwrap()
    );
    let (st, _, page) = post(
        &r,
        &admin,
        "/dns/add",
        &[("csrf", &csrf), ("name", "example.test"), ("ttl", "0")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "ttl"),
        "Ensure this value is greater than or equal to 1."
    );
    let (st, loc, _) = post(
        &r,
        &admin,
        "/dns/add",
        &[("csrf", &csrf), ("name", "example.test"), ("ttl", "300")],
    )
    .await;
    assert_eq!(st, 303);
    let did: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let (_, d) = r.admin.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!(
        (d["ttl"].as_i64(), d["authoritative"].as_bool()),
        (Some(300), Some(false))
    );

    // Records: A (a DNS resource's address), TXT and MX (DNSData).
    let recs = format!("/domain/{did}/records");
    assert_eq!(
        rec(&r, &alice, &recs, (&alice_csrf, "www", "A", "10.0.0.5"))
            .await
            .0,
        403
    );
    let (st, _, page) = rec(&r, &admin, &recs, (&csrf, "www", "A", "10.0.0.999")).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "rrdata"),
        "'10.0.0.999' is not a valid IP address."
    );
    assert_eq!(
        rec(&r, &admin, &recs, (&csrf, "www", "A", "10.0.0.5"))
            .await
            .0,
        303
    );
    assert_eq!(
        rec(&r, &admin, &recs, (&csrf, "www", "A", "10.0.0.6"))
            .await
            .0,
        303
    );
    assert_eq!(
        rec(&r, &admin, &recs, (&csrf, "www", "TXT", "hello"))
            .await
            .0,
        303
    );
    let (_, api_err) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[
                ("name", "mail"),
                ("domain", "example.test"),
                ("rrtype", "MX"),
                ("rrdata", "x"),
            ],
        )
        .await;
    let (st, _, page) = rec(&r, &admin, &recs, (&csrf, "mail", "MX", "x")).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "rrdata"),
        api_err["__all__"][0].as_str().unwrap()
    );
    let (_, res) = r
        .admin
        .get("dnsresources/", &[("domain", "example.test")])
        .await;
    assert_eq!(res[0]["fqdn"], "www.example.test");
    assert_eq!(res[0]["ip_addresses"].as_array().unwrap().len(), 2);
    assert_eq!(res[0]["resource_records"][0]["rrdata"], "hello");
    let page = get(&r, &admin, &format!("/domain/{did}")).await.1;
    for s in ["<td>10.0.0.5</td>", "<td>10.0.0.6</td>", "<td>TXT</td>"] {
        assert!(page.contains(s), "{s} in {page}");
    }

    // Deleting: an address (confirm first), a record, then the domain.
    let rid = res[0]["id"].as_i64().unwrap();
    let del = format!("/dnsresource/{rid}/address/delete");
    let (st, _, page) = post(&r, &admin, &del, &[("csrf", &csrf), ("ip", "10.0.0.5")]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"ip\" value=\"10.0.0.5\""));
    assert_eq!(
        post(
            &r,
            &alice,
            &del,
            &[
                ("csrf", &alice_csrf),
                ("ip", "10.0.0.5"),
                ("confirmed", "1")
            ]
        )
        .await
        .0,
        403
    );
    let (st, _, _) = post(
        &r,
        &admin,
        &del,
        &[("csrf", &csrf), ("ip", "10.0.0.5"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    let (_, res) = r.admin.get(&format!("dnsresources/{rid}/"), &[]).await;
    assert_eq!(res["ip_addresses"].as_array().unwrap().len(), 1);
    // The domain still has a resource: the service's refusal, nothing gone.
    let ddel = format!("/domain/{did}/delete");
    let (st, _, page) = post(&r, &admin, &ddel, &[("csrf", &csrf), ("confirmed", "1")]).await;
    assert_eq!(st, 400);
    assert!(page.contains("confirm-error"), "{page}");
    let xid = res["resource_records"][0]["id"].as_i64().unwrap();
    let (st, _, _) = post(
        &r,
        &admin,
        &format!("/dnsrecord/{xid}/delete"),
        &[("csrf", &csrf), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    let (st, _, _) = post(
        &r,
        &admin,
        &del,
        &[("csrf", &csrf), ("ip", "10.0.0.6"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert_eq!(
        r.admin.get(&format!("dnsresources/{rid}/"), &[]).await.0,
        404
    );
    let (st, loc, _) = post(&r, &admin, &ddel, &[("csrf", &csrf), ("confirmed", "1")]).await;
    assert_eq!((st, loc.as_str()), (303, "/MAAS/r/dns"));
    assert_eq!(r.admin.get(&format!("domains/{did}/"), &[]).await.0, 404);
}
