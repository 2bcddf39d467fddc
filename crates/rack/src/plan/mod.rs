//! What each network service serves, derived from the applied desired state
//! and this host's interfaces. Pure: the service adapters turn a plan into
//! their crate's configuration; these rules are tested here.

mod dhcp;

pub use dhcp::{DhcpSubnet, Reservation, dhcp};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use maas_model::desired::{BootMachine, DnsZone, Snapshot};
use maas_model::net::Cidr;
use maas_model::rack::Interface;

/// One of this host's addresses with its network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAddr {
    pub interface: String,
    pub ip: IpAddr,
    pub net: Cidr,
}

/// Every global address on the host's interfaces.
pub fn local_addrs(ifaces: &[Interface]) -> Vec<LocalAddr> {
    let mut out = Vec::new();
    for i in ifaces {
        for a in &i.addresses {
            if let Ok((ip, net)) = Cidr::parse_with_host(a) {
                out.push(LocalAddr {
                    interface: i.name.clone(),
                    ip,
                    net,
                });
            }
        }
    }
    out
}

/// The rack's own IPv4 address in `net`, and its interface.
pub fn local_v4_in<'a>(addrs: &'a [LocalAddr], net: &Cidr) -> Option<(&'a str, Ipv4Addr)> {
    addrs.iter().find_map(|a| match a.ip {
        IpAddr::V4(v4) if net.contains(&a.ip) => Some((a.interface.as_str(), v4)),
        _ => None,
    })
}

/// What the DNS server serves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsPlan {
    /// The region's domains (forward zones).
    pub zones: Vec<DnsZone>,
    /// Subnets whose reverse zones are derived from the forward records.
    pub reverse_for: Vec<Cidr>,
    /// Where names outside our zones go.
    pub forwarders: Vec<SocketAddr>,
    /// Clients that may have other names resolved (forwarded): the rack's
    /// subnets that allow DNS, and the host itself.
    pub recursion_allowed: Vec<Cidr>,
}

pub fn dns(s: &Snapshot) -> DnsPlan {
    let mut recursion_allowed: Vec<Cidr> = s
        .subnets
        .iter()
        .filter(|x| x.allow_dns)
        .map(|x| x.cidr)
        .collect();
    for lo in ["127.0.0.0/8", "::1/128"] {
        recursion_allowed.push(Cidr::parse(lo).expect("loopback parses"));
    }
    DnsPlan {
        zones: s.zones.clone(),
        reverse_for: s.subnets.iter().map(|x| x.cidr).collect(),
        forwarders: s
            .network
            .upstream_dns
            .iter()
            .filter_map(|u| {
                u.parse::<SocketAddr>()
                    .ok()
                    .or_else(|| u.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
            })
            .collect(),
        recursion_allowed,
    }
}

/// What the boot server answers: each MAC's machine (lower-case MACs; a
/// MAC on two machines goes to the first by system id).
pub fn boot_machines(s: &Snapshot) -> Vec<(String, BootMachine)> {
    let mut out: Vec<(String, BootMachine)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in &s.machines {
        for mac in &m.macs {
            let mac = mac.to_ascii_lowercase();
            if seen.insert(mac.clone()) {
                out.push((mac, m.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
