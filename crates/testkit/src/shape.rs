//! Responses checked the way Juju's gomaasapi reads them: every key its
//! schema requires, with the type it requires (a `null` where a string is
//! wanted fails the whole response). Primitives for any object, and the
//! shared objects (VLAN, subnet, link, domain) from gomaasapi's 2.0 readers.

use serde_json::{Map, Value};

pub fn obj<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v}"))
}

pub fn int(o: &Map<String, Value>, k: &str, what: &str) {
    assert!(
        o.get(k).is_some_and(Value::is_i64),
        "{what}.{k}: not an int: {o:?}"
    );
}

pub fn string(o: &Map<String, Value>, k: &str, what: &str) {
    assert!(
        o.get(k).is_some_and(Value::is_string),
        "{what}.{k}: not a string: {o:?}"
    );
}

pub fn boolean(o: &Map<String, Value>, k: &str, what: &str) {
    assert!(
        o.get(k).is_some_and(Value::is_boolean),
        "{what}.{k}: not a bool: {o:?}"
    );
}

/// Present, and null or passing `ok`.
pub fn nullable(o: &Map<String, Value>, k: &str, what: &str, ok: fn(&Value) -> bool) {
    let v = o
        .get(k)
        .unwrap_or_else(|| panic!("{what}.{k}: missing: {o:?}"));
    assert!(v.is_null() || ok(v), "{what}.{k}: wrong type: {v}");
}

/// gomaasapi `vlan_2_0`.
pub fn check_vlan(v: &Value) {
    let o = obj(v, "vlan");
    int(o, "id", "vlan");
    string(o, "resource_uri", "vlan");
    nullable(o, "name", "vlan", Value::is_string);
    string(o, "fabric", "vlan");
    int(o, "vid", "vlan");
    int(o, "mtu", "vlan");
    boolean(o, "dhcp_on", "vlan");
    nullable(o, "primary_rack", "vlan", Value::is_string);
    nullable(o, "secondary_rack", "vlan", Value::is_string);
}

/// gomaasapi `subnet_2_0`.
pub fn check_subnet(s: &Value) {
    let o = obj(s, "subnet");
    string(o, "resource_uri", "subnet");
    int(o, "id", "subnet");
    string(o, "name", "subnet");
    string(o, "space", "subnet");
    nullable(o, "gateway_ip", "subnet", Value::is_string);
    string(o, "cidr", "subnet");
    nullable(o, "dns_servers", "subnet", |v| {
        v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    });
    check_vlan(&s["vlan"]);
}

/// gomaasapi `link_2_0`: `ip_address` may be absent but never null;
/// `subnet` may be absent, else a full subnet.
pub fn check_link(l: &Value) {
    let o = obj(l, "link");
    int(o, "id", "link");
    string(o, "mode", "link");
    if let Some(ip) = o.get("ip_address") {
        assert!(ip.is_string(), "link.ip_address: {ip}");
    }
    if let Some(s) = o.get("subnet") {
        check_subnet(s);
    }
}

/// gomaasapi `domain_2_0`.
pub fn check_domain(d: &Value) {
    let o = obj(d, "domain");
    boolean(o, "authoritative", "domain");
    int(o, "resource_record_count", "domain");
    nullable(o, "ttl", "domain", Value::is_i64);
    string(o, "resource_uri", "domain");
    int(o, "id", "domain");
    string(o, "name", "domain");
}
