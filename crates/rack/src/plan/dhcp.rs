//! The DHCPv4 subnets this rack serves and what it hands out on each.

use std::net::{IpAddr, Ipv4Addr};

use maas_model::desired::Snapshot;
use maas_model::net::{Cidr, RangeType};

use super::{LocalAddr, local_v4_in};

/// The lease time when the region gives none.
pub const DEFAULT_LEASE_TIME: u32 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Lower-case.
    pub mac: String,
    pub ip: Ipv4Addr,
    pub hostname: Option<String>,
}

/// One subnet the DHCP server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpSubnet {
    pub subnet_id: i64,
    pub cidr: Cidr,
    /// The local interface it is served on directly; None: only through a
    /// relay (the VLAN relays to one this rack serves).
    pub interface: Option<String>,
    /// The rack's address clients reach: on the subnet's interface, or (for
    /// a relayed subnet) on the VLAN it is relayed to.
    pub server_ip: Option<Ipv4Addr>,
    pub router: Option<Ipv4Addr>,
    pub dns_servers: Vec<Ipv4Addr>,
    pub ntp_servers: Vec<Ipv4Addr>,
    pub domain: String,
    pub search: Vec<String>,
    pub mtu: u32,
    pub lease_time: u32,
    /// (destination, gateway) for option 121.
    pub routes: Vec<(Cidr, Ipv4Addr)>,
    /// Dynamic ranges (inclusive).
    pub pools: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Never handed out dynamically: reserved ranges, the gateway, the
    /// rack's own address.
    pub excluded: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub reservations: Vec<Reservation>,
}

fn v4(ip: &IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(*a),
        IpAddr::V6(_) => None,
    }
}

/// The IPv4 subnets on VLANs this rack hands out leases on (served on the
/// local interface with an address on the VLAN), and on VLANs relayed to
/// those (served through the relay). `dns_here`: the rack runs DNS, so a
/// subnet without its own DNS servers that allows DNS gets the rack's
/// address.
pub fn dhcp(s: &Snapshot, addrs: &[LocalAddr], dns_here: bool) -> Vec<DhcpSubnet> {
    let served: Vec<i64> = s
        .vlans
        .iter()
        .filter(|v| v.serve_dhcp)
        .map(|v| v.id)
        .collect();
    // The local interface and address on each served VLAN.
    let on_vlan = |vlan_id: i64| -> Option<(String, Ipv4Addr)> {
        s.subnets
            .iter()
            .filter(|x| x.vlan_id == vlan_id && x.cidr.is_ipv4())
            .find_map(|x| local_v4_in(addrs, &x.cidr))
            .map(|(i, ip)| (i.to_string(), ip))
    };
    let mut out = Vec::new();
    for v in &s.vlans {
        let (interface, vlan_ip) = if served.contains(&v.id) {
            match on_vlan(v.id) {
                Some((i, ip)) => (Some(i), Some(ip)),
                None => {
                    tracing::warn!(vlan = v.id, "no local address on a VLAN to serve DHCP on");
                    continue;
                }
            }
        } else if let Some(target) = v.relay_vlan_id.filter(|t| served.contains(t)) {
            // Relayed to a VLAN this rack cannot serve: nothing to answer with.
            let Some((_, ip)) = on_vlan(target) else {
                continue;
            };
            (None, Some(ip))
        } else {
            continue;
        };
        for sub in s
            .subnets
            .iter()
            .filter(|x| x.vlan_id == v.id && x.cidr.is_ipv4())
        {
            let own = local_v4_in(addrs, &sub.cidr).map(|(_, ip)| ip);
            let server_ip = if interface.is_some() {
                own.or(vlan_ip)
            } else {
                vlan_ip
            };
            let router = sub.gateway_ip.as_ref().and_then(v4);
            let dns_servers: Vec<Ipv4Addr> = {
                let own: Vec<Ipv4Addr> = sub
                    .dns_servers
                    .iter()
                    .filter_map(|d| d.parse().ok())
                    .collect();
                if !own.is_empty() {
                    own
                } else if sub.allow_dns && dns_here {
                    server_ip.into_iter().collect()
                } else {
                    vec![]
                }
            };
            let mut excluded: Vec<(Ipv4Addr, Ipv4Addr)> = s
                .ranges
                .iter()
                .filter(|r| r.subnet_id == sub.id && r.kind == RangeType::Reserved)
                .filter_map(|r| Some((v4(&r.start_ip)?, v4(&r.end_ip)?)))
                .collect();
            excluded.extend(router.map(|r| (r, r)));
            excluded.extend(own.map(|o| (o, o)));
            let mut reservations: Vec<Reservation> = Vec::new();
            for r in s.reservations.iter().filter(|r| r.subnet_id == sub.id) {
                let (Some(ip), false) = (v4(&r.ip), r.mac.is_empty()) else {
                    continue;
                };
                let mac = r.mac.to_ascii_lowercase();
                if reservations.iter().all(|x| x.mac != mac && x.ip != ip) {
                    reservations.push(Reservation {
                        mac,
                        ip,
                        hostname: r.hostname.clone(),
                    });
                }
            }
            let domain = s.network.default_domain.clone();
            out.push(DhcpSubnet {
                subnet_id: sub.id,
                cidr: sub.cidr,
                interface: interface.clone(),
                server_ip,
                router,
                dns_servers,
                ntp_servers: s
                    .network
                    .ntp_servers
                    .iter()
                    .filter_map(|n| n.parse().ok())
                    .collect(),
                search: if domain.is_empty() {
                    vec![]
                } else {
                    vec![domain.clone()]
                },
                domain,
                mtu: v.mtu,
                lease_time: match s.network.lease_time {
                    0 => DEFAULT_LEASE_TIME,
                    t => t,
                },
                routes: sub
                    .static_routes
                    .iter()
                    .filter_map(|r| Some((r.destination, v4(&r.gateway)?)))
                    .filter(|(d, _)| d.is_ipv4())
                    .collect(),
                pools: s
                    .ranges
                    .iter()
                    .filter(|r| r.subnet_id == sub.id && r.kind == RangeType::Dynamic)
                    .filter_map(|r| Some((v4(&r.start_ip)?, v4(&r.end_ip)?)))
                    .collect(),
                excluded,
                reservations,
            });
        }
    }
    out
}
