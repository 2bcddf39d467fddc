//! The deployed OS's network configuration as netplan v2 (what the agent
//! writes to `/etc/netplan/50-maas.yaml`): every enabled interface of the
//! machine with its links, as MAAS's deployments configure them.

use serde_json::{Map, Value, json};

use crate::render::InterfaceJson;

/// A bond's netplan `parameters` from its MAAS `params`: the mode, the
/// MII monitor interval and link delays, and the LACP rate and transmit
/// hash policy only for the modes that use them (netplan refuses them
/// elsewhere).
pub fn bond_parameters(params: &Value) -> Value {
    let s = |k: &str| params.get(k).and_then(Value::as_str);
    let n = |k: &str| params.get(k).and_then(Value::as_i64).unwrap_or(0);
    let mode = s("bond_mode").unwrap_or("balance-rr");
    let mut p = json!({ "mode": mode });
    if n("bond_miimon") > 0 {
        p["mii-monitor-interval"] = json!(n("bond_miimon"));
    }
    for (k, key) in [
        ("bond_updelay", "up-delay"),
        ("bond_downdelay", "down-delay"),
    ] {
        if n(k) > 0 {
            p[key] = json!(n(k));
        }
    }
    if mode == "802.3ad"
        && let Some(r) = s("bond_lacp_rate")
    {
        p["lacp-rate"] = json!(r);
    }
    if matches!(mode, "802.3ad" | "balance-xor" | "balance-tlb")
        && let Some(h) = s("bond_xmit_hash_policy")
    {
        p["transmit-hash-policy"] = json!(h);
    }
    p
}

/// netplan v2: ethernets (matched by MAC, renamed), bonds, bridges and
/// vlans, each with its links: static/auto addresses with the subnet's
/// prefix, the default route from the gateway link, DNS servers, DHCP.
pub fn network(ifaces: &[InterfaceJson]) -> Value {
    let mut ethernets = Map::new();
    let mut bonds = Map::new();
    let mut bridges = Map::new();
    let mut vlans = Map::new();
    // The default route: the link marked as the default gateway, else the
    // first addressed link whose subnet has a gateway.
    let routed = |l: &&crate::render::LinkJson| {
        matches!(l.mode.as_str(), "static" | "auto")
            && l.ip_address.is_some()
            && l.subnet.as_ref().is_some_and(|s| s.gateway_ip.is_some())
    };
    let all = || ifaces.iter().filter(|i| i.enabled).flat_map(|i| &i.links);
    let gw_link = all()
        .filter(routed)
        .find(|l| l.default_gateway)
        .or_else(|| all().find(routed))
        .map(|l| l.id);
    for i in ifaces.iter().filter(|i| i.enabled) {
        let mut o = Map::new();
        match i.type_.as_str() {
            "bond" | "bridge" => {
                o.insert("interfaces".into(), json!(i.parents));
                o.insert("macaddress".into(), json!(i.mac_address));
                if i.type_ == "bond" {
                    o.insert("parameters".into(), bond_parameters(&i.params));
                }
            }
            "vlan" => {
                o.insert("id".into(), json!(i.vlan.as_ref().map_or(0, |v| v.vid)));
                o.insert(
                    "link".into(),
                    json!(i.parents.first().cloned().unwrap_or_default()),
                );
            }
            _ => {
                o.insert("match".into(), json!({"macaddress": i.mac_address}));
                o.insert("set-name".into(), json!(i.name));
            }
        }
        if i.effective_mtu > 0 {
            o.insert("mtu".into(), json!(i.effective_mtu));
        }
        let mut addrs = Vec::new();
        let mut dns: Vec<String> = Vec::new();
        let mut dhcp = false;
        for l in &i.links {
            match l.mode.as_str() {
                "dhcp" => dhcp = true,
                "static" | "auto" => {
                    let (Some(ip), Some(s)) = (&l.ip_address, &l.subnet) else {
                        continue;
                    };
                    let prefix = s.cidr.split_once('/').map_or("32", |x| x.1);
                    addrs.push(format!("{ip}/{prefix}"));
                    for d in &s.dns_servers {
                        if !dns.contains(d) {
                            dns.push(d.clone());
                        }
                    }
                    if let Some(gw) = &s.gateway_ip
                        && gw_link == Some(l.id)
                    {
                        let to = if gw.contains(':') {
                            "::/0"
                        } else {
                            "0.0.0.0/0"
                        };
                        o.insert("routes".into(), json!([{"to": to, "via": gw}]));
                    }
                }
                _ => {}
            }
        }
        o.insert("dhcp4".into(), json!(dhcp));
        if !addrs.is_empty() {
            o.insert("addresses".into(), json!(addrs));
        }
        if !dns.is_empty() {
            o.insert("nameservers".into(), json!({"addresses": dns}));
        }
        let map = match i.type_.as_str() {
            "bond" => &mut bonds,
            "bridge" => &mut bridges,
            "vlan" => &mut vlans,
            _ => &mut ethernets,
        };
        map.insert(i.name.clone(), Value::Object(o));
    }
    let mut n = json!({"version": 2, "ethernets": ethernets});
    for (k, v) in [("bonds", bonds), ("bridges", bridges), ("vlans", vlans)] {
        if !v.is_empty() {
            n[k] = Value::Object(v);
        }
    }
    n
}
