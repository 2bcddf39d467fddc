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

/// Absent, null, or passing `ok` (gomaasapi's `OneOf(Nil, …)`).
pub fn optional(o: &Map<String, Value>, k: &str, what: &str, ok: fn(&Value) -> bool) {
    if let Some(v) = o.get(k) {
        assert!(v.is_null() || ok(v), "{what}.{k}: wrong type: {v}");
    }
}

/// A list whose items pass `ok`.
pub fn list_of(o: &Map<String, Value>, k: &str, what: &str, ok: fn(&Value) -> bool) {
    let v = o.get(k).unwrap_or_else(|| panic!("{what}.{k}: missing"));
    let items = v
        .as_array()
        .unwrap_or_else(|| panic!("{what}.{k}: not a list: {v}"));
    assert!(items.iter().all(ok), "{what}.{k}: wrong item type: {v}");
}

/// A non-negative integer (`ForceUint`).
pub fn uint(o: &Map<String, Value>, k: &str, what: &str) {
    assert!(
        o.get(k).is_some_and(Value::is_u64),
        "{what}.{k}: not a non-negative int: {o:?}"
    );
}

/// gomaasapi `zone_2_0` and `pool_2_0`: `description` is a string, never null.
pub fn check_named(v: &Value, what: &str) {
    let o = obj(v, what);
    string(o, "name", what);
    string(o, "description", what);
    string(o, "resource_uri", what);
}

/// gomaasapi `interface_2_0`.
pub fn check_interface(v: &Value) {
    let o = obj(v, "interface");
    string(o, "resource_uri", "interface");
    int(o, "id", "interface");
    string(o, "name", "interface");
    let kind = o["type"].as_str().expect("interface.type");
    assert!(
        ["physical", "bond", "vlan", "bridge"].contains(&kind),
        "interface.type {kind}"
    );
    boolean(o, "enabled", "interface");
    int(o, "effective_mtu", "interface");
    list_of(o, "parents", "interface", Value::is_string);
    list_of(o, "children", "interface", Value::is_string);
    optional(o, "tags", "interface", |t| {
        t.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    });
    optional(o, "mac_address", "interface", Value::is_string);
    if let Some(vlan) = o.get("vlan").filter(|v| !v.is_null()) {
        check_vlan(vlan);
    }
    for l in o["links"].as_array().expect("interface.links") {
        check_link(l);
    }
}

/// gomaasapi `filesystem_2_0`.
pub fn check_filesystem(v: &Value) {
    let o = obj(v, "filesystem");
    string(o, "fstype", "filesystem");
    string(o, "uuid", "filesystem");
    optional(o, "mount_point", "filesystem", Value::is_string);
    optional(o, "label", "filesystem", Value::is_string);
}

/// gomaasapi `partition_2_0`.
pub fn check_partition(v: &Value) {
    let o = obj(v, "partition");
    string(o, "resource_uri", "partition");
    int(o, "id", "partition");
    string(o, "path", "partition");
    string(o, "used_for", "partition");
    uint(o, "size", "partition");
    optional(o, "uuid", "partition", Value::is_string);
    if let Some(t) = o.get("tags") {
        assert!(
            t.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "partition.tags: {t}"
        );
    }
    if let Some(fs) = o.get("filesystem").filter(|v| !v.is_null()) {
        check_filesystem(fs);
    }
}

/// gomaasapi `blockdevice_2_0`.
pub fn check_blockdevice(v: &Value) {
    let o = obj(v, "blockdevice");
    string(o, "resource_uri", "blockdevice");
    int(o, "id", "blockdevice");
    string(o, "name", "blockdevice");
    string(o, "path", "blockdevice");
    string(o, "used_for", "blockdevice");
    list_of(o, "tags", "blockdevice", Value::is_string);
    uint(o, "block_size", "blockdevice");
    uint(o, "used_size", "blockdevice");
    uint(o, "size", "blockdevice");
    for k in ["uuid", "model", "id_path"] {
        optional(o, k, "blockdevice", Value::is_string);
    }
    if let Some(fs) = o.get("filesystem").filter(|v| !v.is_null()) {
        check_filesystem(fs);
    }
    for p in o["partitions"].as_array().expect("blockdevice.partitions") {
        check_partition(p);
    }
}

/// gomaasapi `machine_2_0`, with everything it embeds.
pub fn check_machine(m: &Value) {
    let o = obj(m, "machine");
    for k in [
        "resource_uri",
        "system_id",
        "hostname",
        "fqdn",
        "osystem",
        "distro_series",
        "power_state",
        "status_name",
    ] {
        string(o, k, "machine");
    }
    assert!(
        o["resource_uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("/MAAS/api/2.0/machines/")),
        "machine.resource_uri is used as a URL: {}",
        o["resource_uri"]
    );
    int(o, "memory", "machine");
    int(o, "cpu_count", "machine");
    list_of(o, "tag_names", "machine", Value::is_string);
    list_of(o, "ip_addresses", "machine", Value::is_string);
    let od = obj(&o["owner_data"], "machine.owner_data");
    assert!(od.values().all(Value::is_string), "owner_data: {od:?}");
    for k in ["architecture", "status_message"] {
        optional(o, k, "machine", Value::is_string);
    }
    optional(o, "hardware_info", "machine", |h| {
        h.as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
    });
    check_named(&o["zone"], "zone");
    if let Some(p) = o.get("pool").filter(|v| !v.is_null()) {
        check_named(p, "pool");
    }
    for i in o["interface_set"].as_array().expect("interface_set") {
        check_interface(i);
    }
    if let Some(b) = o.get("boot_interface").filter(|v| !v.is_null()) {
        check_interface(b);
    }
    for k in ["physicalblockdevice_set", "blockdevice_set"] {
        for d in o[k].as_array().unwrap_or_else(|| panic!("machine.{k}")) {
            check_blockdevice(d);
        }
    }
}
