//! Reverse zones (in-addr.arpa / ip6.arpa) derived from forward zones'
//! address records for a list of subnets.
//!
//! A subnet's zone is its network rounded out to the enclosing octet (IPv4)
//! or nibble (IPv6) boundary: 10.1.2.0/25 → `2.1.10.in-addr.arpa`,
//! 10.1.0.0/22 → `1.10.in-addr.arpa`. No classless (RFC 2317) delegation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::config::{RecordConfig, ZoneConfig};

/// The reverse name of an address, without the trailing dot
/// (`4.3.2.1.in-addr.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                s.push(nibble(b & 0xf));
                s.push('.');
                s.push(nibble(b >> 4));
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

fn nibble(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

/// The reverse zone holding a subnet's PTR records (None for prefixes
/// shorter than /8 or /4, which would swallow whole address families).
pub fn reverse_zone_name(subnet: &IpNet) -> Option<String> {
    let (step, labels_total) = match subnet {
        IpNet::V4(_) => (8, 4),
        IpNet::V6(_) => (4, 32),
    };
    let prefix = subnet.prefix_len();
    let keep = usize::from(prefix / step);
    if keep == 0 {
        return None;
    }
    let full = reverse_name(subnet.network());
    // full = labels_total address labels, then the arpa suffix.
    let labels: Vec<&str> = full.split('.').collect();
    Some(labels[labels_total - keep..].join("."))
}

/// One reverse zone per distinct rounded subnet, with a PTR for every A
/// or AAAA record of `forward` whose address lies in one of `subnets`.
/// Zones get `ttl` and `serial`; PTRs keep their address record's TTL.
pub fn derive_reverse_zones(
    forward: &[ZoneConfig],
    subnets: &[IpNet],
    ttl: u32,
    serial: u32,
) -> Vec<ZoneConfig> {
    let mut zones: BTreeMap<String, BTreeSet<(String, String, Option<u32>)>> = BTreeMap::new();
    let mut zone_of_subnet = Vec::new();
    for s in subnets {
        if let Some(z) = reverse_zone_name(s) {
            zones.entry(z.clone()).or_default();
            zone_of_subnet.push((s.trunc(), z));
        }
    }
    for zone in forward {
        let origin = zone.name.trim_end_matches('.');
        for r in &zone.records {
            let rt = r.rtype.to_ascii_uppercase();
            if rt != "A" && rt != "AAAA" {
                continue;
            }
            let Ok(ip) = r.rdata.trim().parse::<IpAddr>() else {
                continue;
            };
            let fqdn = if r.name == "@" || r.name.is_empty() {
                format!("{origin}.")
            } else if r.name.ends_with('.') {
                r.name.clone()
            } else {
                format!("{}.{origin}.", r.name)
            };
            for (subnet, zname) in &zone_of_subnet {
                if subnet.contains(&ip) {
                    let rev = reverse_name(ip);
                    let rel = rev
                        .strip_suffix(zname.as_str())
                        .map(|p| p.trim_end_matches('.').to_string())
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "@".into());
                    if let Some(set) = zones.get_mut(zname) {
                        set.insert((rel, fqdn.to_ascii_lowercase(), r.ttl));
                    }
                    break;
                }
            }
        }
    }
    zones
        .into_iter()
        .map(|(name, ptrs)| ZoneConfig {
            name,
            ttl,
            serial,
            records: ptrs
                .into_iter()
                .map(|(n, target, t)| RecordConfig {
                    name: n,
                    rtype: "PTR".into(),
                    rdata: target,
                    ttl: t,
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("cidr")
    }

    #[test]
    fn zone_names_round_to_boundaries() {
        assert_eq!(
            reverse_zone_name(&net("10.1.2.0/24")).as_deref(),
            Some("2.1.10.in-addr.arpa")
        );
        assert_eq!(
            reverse_zone_name(&net("10.1.2.128/25")).as_deref(),
            Some("2.1.10.in-addr.arpa")
        );
        assert_eq!(
            reverse_zone_name(&net("10.1.0.0/22")).as_deref(),
            Some("1.10.in-addr.arpa")
        );
        assert_eq!(
            reverse_zone_name(&net("10.0.0.0/8")).as_deref(),
            Some("10.in-addr.arpa")
        );
        assert_eq!(reverse_zone_name(&net("0.0.0.0/4")), None);
        assert_eq!(
            reverse_zone_name(&net("2001:db8::/64")).as_deref(),
            Some("0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        );
        assert_eq!(
            reverse_zone_name(&net("2001:db8::/62")).as_deref(),
            Some("0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        );
    }

    #[test]
    fn ptrs_for_addresses_in_subnets_only() {
        let mut z = ZoneConfig::new("maas");
        z.records.push(RecordConfig::new("web", "A", "10.1.2.3"));
        z.records.push(RecordConfig::new("@", "A", "10.1.2.4"));
        z.records
            .push(RecordConfig::new("other", "A", "192.168.0.1"));
        z.records
            .push(RecordConfig::new("v6", "AAAA", "2001:db8::1"));
        z.records.push(RecordConfig::new("mail", "MX", "10 web"));
        let zones = derive_reverse_zones(&[z], &[net("10.1.2.0/24"), net("2001:db8::/64")], 60, 7);
        assert_eq!(zones.len(), 2);
        let v4 = zones
            .iter()
            .find(|z| z.name == "2.1.10.in-addr.arpa")
            .expect("v4 zone");
        assert_eq!(v4.records.len(), 2);
        assert!(
            v4.records
                .iter()
                .any(|r| r.name == "3" && r.rdata == "web.maas." && r.rtype == "PTR")
        );
        assert!(
            v4.records
                .iter()
                .any(|r| r.name == "4" && r.rdata == "maas.")
        );
        let v6 = zones
            .iter()
            .find(|z| z.name.ends_with("ip6.arpa"))
            .expect("v6 zone");
        assert_eq!(v6.records[0].name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0");
        assert_eq!(v6.serial, 7);
    }
}
