//! In-place edits: an IP range, a DNS record, a domain's TTL, authority and
//! default.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn ip_ranges_are_edited_in_place() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, s) = r.admin.post("subnets/", &[("cidr", "10.70.0.0/24")]).await;
    let sid = s["id"].as_i64().unwrap();
    let (st, rg) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "reserved"),
                ("start_ip", "10.70.0.10"),
                ("end_ip", "10.70.0.20"),
                ("subnet", &sid.to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{rg}");
    let id = rg["id"].as_i64().unwrap();
    let (_, page) = get(&r, &admin, &format!("/subnet/{sid}")).await;
    assert!(page.contains(&format!("href=\"/MAAS/r/iprange/{id}\"")));

    let path = format!("/iprange/{id}");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    let (st, page) = get(&r, &admin, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("value=\"10.70.0.20\""));
    let edit = format!("{path}/edit");
    let good = [
        ("type", "reserved"),
        ("start_ip", "10.70.0.11"),
        ("end_ip", "10.70.0.30"),
        ("comment", "edited"),
    ];
    assert_eq!(post(&r, &alice, &edit, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &edit, &good).await, 403);

    // Outside the subnet: the API's message beside the field; unchanged.
    let bad = [("start_ip", "10.70.0.11"), ("end_ip", "10.71.0.5")];
    let (_, e) = r.admin.put(&format!("ipranges/{id}/"), &bad).await;
    let (st, _, page) = post(&r, &admin, &edit, &bad).await;
    assert_eq!(st, 400);
    assert!(!api_msg(&e, "end_ip").is_empty(), "{e}");
    assert_eq!(field_error(&page, "end_ip"), api_msg(&e, "end_ip"));
    assert!(page.contains("value=\"10.71.0.5\""));
    let (st, _, page) = post(&r, &admin, &edit, &[("end_ip", "x")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "end_ip"),
        "Enter a valid IPv4 or IPv6 address."
    );
    assert_eq!(
        api(&r, &format!("ipranges/{id}/")).await["end_ip"],
        "10.70.0.20"
    );

    let (st, loc, _) = post(&r, &admin, &edit, &good).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/subnet/{sid}#ranges")));
    let rg = api(&r, &format!("ipranges/{id}/")).await;
    assert_eq!(
        (
            rg["start_ip"].as_str(),
            rg["end_ip"].as_str(),
            rg["comment"].as_str()
        ),
        (Some("10.70.0.11"), Some("10.70.0.30"), Some("edited"))
    );
}

#[tokio::test]
async fn records_and_domains_are_edited_in_place() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, d) = r.admin.post("domains/", &[("name", "edit.test")]).await;
    let did = d["id"].as_i64().unwrap();
    let (st, x) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[
                ("name", "mail"),
                ("domain", "edit.test"),
                ("rrtype", "MX"),
                ("rrdata", "10 mx.edit.test"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{x}");
    let xid = x["id"].as_i64().unwrap();
    let (_, page) = get(&r, &admin, &format!("/domain/{did}")).await;
    assert!(
        page.contains(&format!("href=\"/MAAS/r/dnsrecord/{xid}\"")),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/MAAS/r/domain/{did}/edit\"")));

    // A record: data and TTL.
    let path = format!("/dnsrecord/{xid}");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    assert_eq!(get(&r, &admin, &path).await.0, 200);
    let edit = format!("{path}/edit");
    let good = [("rrdata", "20 mx2.edit.test"), ("ttl", "300")];
    assert_eq!(post(&r, &alice, &edit, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &edit, &good).await, 403);
    let bad = [("rrdata", "nonsense"), ("ttl", "abc")];
    let (_, e) = r
        .admin
        .put(&format!("dnsresourcerecords/{xid}/"), &bad)
        .await;
    let (st, _, page) = post(&r, &admin, &edit, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "ttl"), api_msg(&e, "ttl"));
    let (_, e) = r
        .admin
        .put(
            &format!("dnsresourcerecords/{xid}/"),
            &[("rrdata", "nonsense")],
        )
        .await;
    let (st, _, page) = post(&r, &admin, &edit, &[("rrdata", "nonsense"), ("ttl", "")]).await;
    assert_eq!(st, 400);
    assert!(!api_msg(&e, "__all__").is_empty(), "{e}");
    assert_eq!(field_error(&page, "rrdata"), api_msg(&e, "__all__"));
    assert!(page.contains("value=\"nonsense\""));
    assert_eq!(
        api(&r, &format!("dnsresourcerecords/{xid}/")).await["rrdata"],
        "10 mx.edit.test"
    );
    let (st, loc, _) = post(&r, &admin, &edit, &good).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/domain/{did}#records")));
    let x = api(&r, &format!("dnsresourcerecords/{xid}/")).await;
    assert_eq!(
        (x["rrdata"].as_str(), x["ttl"].as_i64()),
        (Some("20 mx2.edit.test"), Some(300))
    );

    // The domain: TTL and authority.
    let path = format!("/domain/{did}/edit");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    assert_eq!(get(&r, &admin, &path).await.0, 200);
    let good = [("ttl", "600")];
    assert_eq!(post(&r, &alice, &path, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &path, &good).await, 403);
    let (_, e) = r
        .admin
        .put(&format!("domains/{did}/"), &[("ttl", "0")])
        .await;
    let (st, _, page) = post(&r, &admin, &path, &[("ttl", "0"), ("authoritative", "1")]).await;
    assert_eq!(st, 400);
    assert!(!api_msg(&e, "ttl").is_empty(), "{e}");
    assert_eq!(field_error(&page, "ttl"), api_msg(&e, "ttl"));
    assert!(page.contains("value=\"0\""));
    let d = api(&r, &format!("domains/{did}/")).await;
    assert_eq!(
        (d["ttl"].as_i64(), d["authoritative"].as_bool()),
        (None, Some(true))
    );
    let (st, loc, _) = post(&r, &admin, &path, &good).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/domain/{did}")));
    let d = api(&r, &format!("domains/{did}/")).await;
    assert_eq!(
        (d["ttl"].as_i64(), d["authoritative"].as_bool()),
        (Some(600), Some(false))
    );

    // Set default (as the API's op=set_default).
    let def = format!("/domain/{did}/default");
    assert_eq!(d["is_default"], false);
    assert_eq!(post(&r, &alice, &def, &[]).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &def, &[]).await, 403);
    assert_eq!(
        api(&r, &format!("domains/{did}/")).await["is_default"],
        false
    );
    let (st, _, _) = post(&r, &admin, &def, &[]).await;
    assert_eq!(st, 303);
    assert_eq!(
        api(&r, &format!("domains/{did}/")).await["is_default"],
        true
    );
    let (_, page) = get(&r, &admin, &path).await;
    assert!(page.contains("This is the default domain."));
}

#[tokio::test]
async fn address_records_are_edited_in_place() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, d) = r.admin.post("domains/", &[("name", "addr.test")]).await;
    let did = d["id"].as_i64().unwrap();
    let (st, res) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "www.addr.test"), ("ip_addresses", "10.73.0.5")],
        )
        .await;
    assert_eq!(st, 200, "{res}");
    let id = res["id"].as_i64().unwrap();
    let (_, page) = get(&r, &admin, &format!("/domain/{did}")).await;
    assert!(
        page.contains(&format!("href=\"/MAAS/r/dnsresource/{id}\"")),
        "the A row links to its edit page: {page}"
    );

    let path = format!("/dnsresource/{id}");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    let (st, page) = get(&r, &admin, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("value=\"10.73.0.5\""));
    let edit = format!("{path}/edit");
    let good = [
        ("ip_addresses", "10.73.0.5 10.73.0.6"),
        ("address_ttl", "120"),
    ];
    assert_eq!(post(&r, &alice, &edit, &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, &edit, &good).await, 403);

    // A bad address and a bad TTL: the API's messages beside the fields.
    let bad = [("ip_addresses", "10.73.0.5 nope"), ("address_ttl", "-1")];
    let (st, e) = r.admin.put(&format!("dnsresources/{id}/"), &bad).await;
    assert_eq!(st, 400, "{e}");
    let (st, _, page) = post(&r, &admin, &edit, &bad).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "ip_addresses"),
        api_msg(&e, "ip_addresses")
    );
    assert_eq!(
        field_error(&page, "address_ttl"),
        api_msg(&e, "address_ttl")
    );
    assert!(page.contains("value=\"10.73.0.5 nope\""));
    let now = api(&r, &format!("dnsresources/{id}/")).await;
    assert_eq!(now["address_ttl"], serde_json::Value::Null, "{now}");

    let (st, loc, _) = post(&r, &admin, &edit, &good).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r/domain/{did}#records")));
    let now = api(&r, &format!("dnsresources/{id}/")).await;
    assert_eq!(now["address_ttl"], 120, "{now}");
    let mut ips: Vec<&str> = now["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["ip"].as_str())
        .collect();
    ips.sort();
    assert_eq!(ips, ["10.73.0.5", "10.73.0.6"]);

    // A blank TTL clears it (the domain's applies again).
    let (st, _, _) = post(&r, &admin, &edit, &[("address_ttl", "")]).await;
    assert_eq!(st, 303);
    let now = api(&r, &format!("dnsresources/{id}/")).await;
    assert_eq!(now["address_ttl"], serde_json::Value::Null, "{now}");
    assert_eq!(
        now["ip_addresses"].as_array().unwrap().len(),
        2,
        "addresses kept"
    );
}
