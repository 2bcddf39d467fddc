//! DNS: `domains/` (writes, set_default, set_serial), `dnsresources/`,
//! `dnsresourcerecords/`, a domain's zone content, and python-libmaas's
//! domain calls, against a real PostgreSQL.

use maas_testkit as common;

use common::TestRegion;
use common::shape::{boolean, check_domain, check_subnet, int, nullable, obj, string};

mod domains;
mod libmaas;
mod records;
mod resources;
use serde_json::Value;

pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// Rows in every DNS table (domains, resources, addresses, records).
pub async fn counts(r: &TestRegion) -> [i64; 4] {
    [
        r.count("SELECT count(*) FROM domains").await,
        r.count("SELECT count(*) FROM dnsresources").await,
        r.count("SELECT count(*) FROM dnsresource_ips").await,
        r.count("SELECT count(*) FROM dnsdata").await,
    ]
}

/// A 400 whose JSON body has messages on `field`; returns the first.
pub fn bad(st: u16, body: &Value, field: &str, ctx: &str) -> String {
    assert_eq!(st, 400, "{ctx}: {body}");
    body.get(field)
        .and_then(|m| m.as_array())
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{ctx}: expected an error on {field}: {body}"))
        .to_string()
}

/// gomaasclient's `entity.DNSResourceRecord` (and MAAS's DNSData handler).
pub fn check_record(v: &Value) {
    let o = obj(v, "dnsresourcerecord");
    assert_eq!(o.len(), 6, "dnsresourcerecord keys: {v}");
    int(o, "id", "dnsresourcerecord");
    string(o, "fqdn", "dnsresourcerecord");
    nullable(o, "ttl", "dnsresourcerecord", Value::is_i64);
    string(o, "rrtype", "dnsresourcerecord");
    string(o, "rrdata", "dnsresourcerecord");
    string(o, "resource_uri", "dnsresourcerecord");
    assert_eq!(
        o["resource_uri"],
        format!("/MAAS/api/2.0/dnsresourcerecords/{}/", o["id"])
    );
}

/// gomaasclient's `entity.DNSResource` with its `entity.IPAddress` items.
pub fn check_resource(v: &Value) {
    let o = obj(v, "dnsresource");
    assert_eq!(o.len(), 6, "dnsresource keys: {v}");
    int(o, "id", "dnsresource");
    string(o, "fqdn", "dnsresource");
    nullable(o, "address_ttl", "dnsresource", Value::is_i64);
    string(o, "resource_uri", "dnsresource");
    for ip in o["ip_addresses"].as_array().expect("ip_addresses list") {
        let i = obj(ip, "ip address");
        int(i, "alloc_type", "ip address");
        string(i, "alloc_type_name", "ip address");
        string(i, "created", "ip address");
        string(i, "ip", "ip address");
        string(i, "resource_uri", "ip address");
        assert!(i["interface_set"].is_array(), "{ip}");
        if !i["subnet"].is_null() {
            check_subnet(&i["subnet"]);
        }
        if !i["owner"].is_null() {
            let u = obj(&i["owner"], "owner");
            string(u, "username", "owner");
            boolean(u, "is_superuser", "owner");
        }
    }
    for rr in o["resource_records"].as_array().expect("resource_records") {
        check_record(rr);
    }
}

pub async fn domain(r: &TestRegion, name: &str) -> Value {
    let (st, d) = r.admin.post("domains/", &[("name", name)]).await;
    assert_eq!(st, 200, "{d}");
    check_domain(&d);
    d
}
