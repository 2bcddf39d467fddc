//! The network model's MAAS JSON: fabrics, VLANs, subnets, IP ranges,
//! reserved IPs, spaces, and a subnet's address sets and statistics.
//!
//! Objects are `serde_json` maps, so keys come out sorted.

use maas_model::net::{self, IpSet, Statistics};
use serde_json::{Value, json};

use crate::render::{API, FullVlanJson, SubnetJson};
use crate::store::networks::fabrics::FabricRow;
use crate::store::networks::ranges::{IpRangeRow, ReservedIpRow};
use crate::store::networks::spaces::SpaceRow;
use crate::store::networks::subnets::SubnetRow;
use crate::store::networks::vlans::VlanRow;

/// A count that JavaScript clients can hold exactly is a JSON number; a
/// larger one (IPv6) is a decimal string.
pub fn big(n: u128) -> Value {
    if n <= 1u128 << 53 {
        json!(n as u64)
    } else {
        json!(n.to_string())
    }
}

/// A VLAN's name: its own, else `untagged` (vid 0) or its vid.
pub fn vlan_name(name: Option<&str>, vid: i32) -> String {
    match name.filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None if vid == 0 => "untagged".to_string(),
        None => vid.to_string(),
    }
}

pub fn vlan(v: &VlanRow) -> Value {
    let id = v.id;
    json!({
        "id": id,
        "vid": v.vid,
        "name": vlan_name(v.name.as_deref(), v.vid),
        "fabric": v.fabric,
        "fabric_id": v.fabric_id,
        "mtu": v.mtu,
        "dhcp_on": v.dhcp_on,
        "external_dhcp": v.external_dhcp,
        "primary_rack": v.primary_rack,
        "secondary_rack": v.secondary_rack,
        "relay_vlan": v.relay_vlan_id,
        "space": v.space.as_deref().unwrap_or("undefined"),
        "description": v.description,
        "resource_uri": format!("{API}/vlans/{id}/"),
    })
}

/// A fabric with its VLANs (in the order given).
pub fn fabric(f: &FabricRow, vlans: &[&VlanRow]) -> Value {
    let id = f.id;
    json!({
        "id": id,
        "name": f.name,
        "class_type": f.class_type,
        "vlans": vlans.iter().map(|v| vlan(v)).collect::<Vec<_>>(),
        "resource_uri": format!("{API}/fabrics/{id}/"),
    })
}

/// A subnet with its VLAN nested (null if not given) and the VLAN's space.
pub fn subnet(s: &SubnetRow, vlan_row: Option<&VlanRow>) -> Value {
    let id = s.id;
    let vlan = vlan_row.map(vlan).unwrap_or(Value::Null);
    let space = vlan["space"].clone();
    json!({
        "id": id,
        "name": s.name,
        "description": s.description,
        "vlan": vlan,
        "cidr": s.cidr,
        "space": space,
        "gateway_ip": s.gateway_ip,
        "dns_servers": s.dns_servers,
        "rdns_mode": s.rdns_mode,
        "allow_dns": s.allow_dns,
        "allow_proxy": s.allow_proxy,
        "active_discovery": s.active_discovery,
        "managed": s.managed,
        "disabled_boot_architectures": [],
        "resource_uri": format!("{API}/subnets/{id}/"),
    })
}

/// The typed twin of `vlan`, for machine rendering (same keys and values).
pub fn vlan_json(v: VlanRow) -> FullVlanJson {
    FullVlanJson {
        name: vlan_name(v.name.as_deref(), v.vid),
        resource_uri: format!("{API}/vlans/{}/", v.id),
        description: v.description,
        dhcp_on: v.dhcp_on,
        external_dhcp: v.external_dhcp,
        fabric: v.fabric,
        fabric_id: v.fabric_id,
        id: v.id,
        mtu: v.mtu,
        primary_rack: v.primary_rack,
        relay_vlan: v.relay_vlan_id,
        secondary_rack: v.secondary_rack,
        space: v.space.unwrap_or_else(|| "undefined".into()),
        vid: v.vid,
    }
}

/// The typed twin of `subnet` with its VLAN, for machine rendering.
pub fn subnet_json(s: SubnetRow, v: VlanRow) -> SubnetJson {
    let vlan = vlan_json(v);
    SubnetJson {
        resource_uri: format!("{API}/subnets/{}/", s.id),
        space: vlan.space.clone(),
        active_discovery: s.active_discovery,
        allow_dns: s.allow_dns,
        allow_proxy: s.allow_proxy,
        cidr: s.cidr,
        description: s.description,
        disabled_boot_architectures: [],
        dns_servers: s.dns_servers,
        gateway_ip: s.gateway_ip,
        id: s.id,
        managed: s.managed,
        name: s.name,
        rdns_mode: s.rdns_mode,
        vlan,
    }
}

/// An IP range with its subnet (rendered by `subnet`, or null).
pub fn iprange(r: &IpRangeRow, subnet: Value) -> Value {
    let id = r.id;
    json!({
        "id": id,
        "type": r.kind,
        "start_ip": r.start_ip,
        "end_ip": r.end_ip,
        "subnet": subnet,
        "comment": r.comment,
        "user": r.username.as_deref().map(|u| crate::render::user_ref(
            u,
            r.email.as_deref().unwrap_or(""),
            r.is_superuser.unwrap_or(false),
            r.is_local.unwrap_or(true),
        )),
        "resource_uri": format!("{API}/ipranges/{id}/"),
    })
}

/// A reserved IP with its subnet (rendered by `subnet`, or null) and that
/// subnet's VLAN.
pub fn reserved_ip(r: &ReservedIpRow, subnet: Value) -> Value {
    let id = r.id;
    json!({
        "id": id,
        "ip": r.ip,
        "mac_address": r.mac_address,
        "comment": r.comment,
        "vlan": subnet["vlan"].clone(),
        "subnet": subnet,
        "resource_uri": format!("{API}/reservedips/{id}/"),
    })
}

/// A space with its VLANs and subnets (rendered by `subnet`).
pub fn space(s: &SpaceRow, vlans: &[VlanRow], subnets: Vec<Value>) -> Value {
    let id = s.id;
    json!({
        "id": id,
        "name": s.name,
        "description": s.description,
        "vlans": vlans.iter().map(vlan).collect::<Vec<_>>(),
        "subnets": subnets,
        "resource_uri": format!("{API}/spaces/{id}/"),
    })
}

/// Address spans (`start`, `end`, `num_addresses`, and `purpose` if asked).
pub fn ip_set(set: &IpSet, purpose: bool) -> Value {
    Value::Array(
        set.spans
            .iter()
            .map(|s| {
                let mut o = json!({
                    "start": set.ip(s.first).to_string(),
                    "end": set.ip(s.last).to_string(),
                    "num_addresses": big(s.size()),
                });
                if purpose {
                    o["purpose"] = json!(s.purpose.iter().collect::<Vec<_>>());
                }
                o
            })
            .collect(),
    )
}

/// A subnet's `statistics`, optionally with its address spans and the
/// suggested gateway and dynamic range.
pub fn statistics(st: &Statistics, ranges: bool, suggestions: bool) -> Value {
    let mut o = json!({
        "num_available": big(st.num_available),
        "largest_available": big(st.largest_available),
        "num_unavailable": big(st.num_unavailable),
        "total_addresses": big(st.total_addresses),
        "usage": st.usage,
        "usage_string": net::percent_string(st.usage),
        "available_string": net::percent_string(st.available),
        "first_address": st.first_address.map(|a| a.to_string()),
        "last_address": st.last_address.map(|a| a.to_string()),
        "ip_version": st.ip_version,
    });
    if ranges {
        o["ranges"] = ip_set(&st.ranges, true);
    }
    if suggestions {
        o["suggested_gateway"] = json!(st.suggested_gateway.map(|g| g.to_string()));
        o["suggested_dynamic_range"] = match st.suggested_dynamic_range {
            Some((a, b)) => {
                let n = net::ip_to_u128(b) - net::ip_to_u128(a) + 1;
                json!({"start": a.to_string(), "end": b.to_string(), "num_addresses": big(n),
                       "purpose": ["proposed-dynamic"]})
            }
            None => Value::Null,
        };
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vlan_row(vid: i32, name: Option<&str>) -> VlanRow {
        VlanRow {
            id: 3,
            vid,
            name: name.map(str::to_string),
            mtu: 1500,
            dhcp_on: false,
            external_dhcp: None,
            description: String::new(),
            relay_vlan_id: None,
            fabric_id: 1,
            fabric: "fabric-1".into(),
            primary_rack: None,
            secondary_rack: None,
            space: None,
        }
    }

    #[test]
    fn counts_past_2_53_are_strings() {
        assert_eq!(big(1 << 53), json!(9007199254740992u64));
        assert_eq!(big((1 << 53) + 1), json!("9007199254740993"));
    }

    #[test]
    fn vlan_names_default_to_untagged_or_the_vid() {
        assert_eq!(vlan(&vlan_row(0, None))["name"], "untagged");
        assert_eq!(vlan(&vlan_row(10, Some("")))["name"], "10");
        assert_eq!(vlan(&vlan_row(10, Some("ten")))["name"], "ten");
        assert_eq!(vlan(&vlan_row(10, None))["space"], "undefined");
    }

    #[test]
    fn typed_subnet_renders_as_the_subnets_endpoint() {
        let s = SubnetRow {
            id: 7,
            name: "net".into(),
            cidr: "10.0.0.0/24".into(),
            vlan_id: 3,
            gateway_ip: Some("10.0.0.1".into()),
            dns_servers: vec!["10.0.0.2".into()],
            managed: true,
            allow_dns: false,
            allow_proxy: true,
            active_discovery: false,
            rdns_mode: 2,
            description: "d".into(),
        };
        let mut v = vlan_row(10, None);
        v.primary_rack = Some("rack01".into());
        v.space = Some("sp".into());
        let want = serde_json::to_string(&subnet(&s, Some(&v))).unwrap();
        let got = serde_json::to_string(&subnet_json(s, v)).unwrap();
        assert_eq!(got, want);
        let mut v0 = vlan_row(0, None);
        v0.space = None;
        let want = serde_json::to_string(&vlan(&v0)).unwrap();
        assert_eq!(serde_json::to_string(&vlan_json(v0)).unwrap(), want);
    }

    #[test]
    fn keys_are_sorted_on_the_wire() {
        let text = serde_json::to_string(&vlan(&vlan_row(0, None))).unwrap();
        assert!(text.starts_with(r#"{"description":"","dhcp_on":false,"external_dhcp":null,"#));
    }
}
