//! DNS renames from the edit pages: a domain's name, a record's type, an
//! address resource's name and domain — each as the API's PUT takes them,
//! with its messages.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn domains_records_and_resources_are_renamed_and_moved() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let (st, d) = r.admin.post("domains/", &[("name", "lab")]).await;
    assert_eq!(st, 200, "{d}");
    let did = d["id"].to_string();
    let (st, x) = r
        .admin
        .post(
            "dnsresourcerecords/",
            &[("fqdn", "note.lab"), ("rrtype", "TXT"), ("rrdata", "hello")],
        )
        .await;
    assert_eq!(st, 200, "{x}");
    let xid = x["id"].to_string();
    let (st, res) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "web.lab"), ("ip_addresses", "10.0.0.5")],
        )
        .await;
    assert_eq!(st, 200, "{res}");
    let rid = res["id"].to_string();

    // A domain name the API refuses: its message, beside the name.
    let dedit = format!("/domain/{did}/edit");
    let (st, _, page) = post(&r, &admin, &dedit, &[("name", "bad_name!")]).await;
    assert_eq!(st, 400);
    let (_, e) = r
        .admin
        .put(&format!("domains/{did}/"), &[("name", "bad_name!")])
        .await;
    assert_eq!(field_error(&page, "domain-name"), api_msg(&e, "name"));
    let (st, _, page) = post(&r, &admin, &dedit, &[("name", "lab2")]).await;
    assert_eq!(st, 303, "{page}");
    assert_eq!(api(&r, &format!("domains/{did}/")).await["name"], "lab2");

    // A record keeps its name (its resource's, as MAAS's PUT ignores a
    // name); its type and data change.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/dnsrecord/{xid}/edit"),
        &[("rrtype", "TXT"), ("rrdata", "hello again")],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let x = api(&r, &format!("dnsresourcerecords/{xid}/")).await;
    assert_eq!(
        (x["fqdn"].as_str(), x["rrdata"].as_str()),
        (Some("note.lab2"), Some("hello again"))
    );
    let (st, x) = r
        .admin
        .put(
            &format!("dnsresourcerecords/{xid}/"),
            &[("fqdn", "note3.lab2")],
        )
        .await;
    assert_eq!(st, 200, "{x}");
    assert_eq!(x["fqdn"], "note.lab2", "MAAS's PUT does not move a record");
    // A type the API does not know is refused beside the type.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/dnsrecord/{xid}/edit"),
        &[("rrtype", "BOGUS"), ("rrdata", "hello")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(!field_error(&page, "record-rrtype").is_empty(), "{page}");

    // The address resource: renamed and moved.
    let (st, _, page) = post(
        &r,
        &admin,
        &format!("/dnsresource/{rid}/edit"),
        &[
            ("name", "www"),
            ("domain", "maas"),
            ("ip_addresses", "10.0.0.5"),
        ],
    )
    .await;
    assert_eq!(st, 303, "{page}");
    let res = api(&r, &format!("dnsresources/{rid}/")).await;
    assert_eq!(res["fqdn"], "www.maas", "{res}");
}
