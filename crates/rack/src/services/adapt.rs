//! Plans (see [`crate::plan`]) as each service crate's configuration.

use std::collections::BTreeMap;

use maas_model::desired::Snapshot;
use maas_model::net::Cidr;

use crate::plan::{self, DhcpSubnet, LocalAddr};

fn v4net(c: &Cidr) -> Option<ipnet::Ipv4Net> {
    c.to_string().parse().ok()
}

fn ipnet(c: &Cidr) -> Option<ipnet::IpNet> {
    c.to_string().parse().ok()
}

fn dhcp_subnet(s: &DhcpSubnet) -> Option<maas_dhcp::SubnetConfig> {
    let range = |(a, b): &(std::net::Ipv4Addr, std::net::Ipv4Addr)| maas_dhcp::IpRange {
        start: *a,
        end: *b,
    };
    Some(maas_dhcp::SubnetConfig {
        cidr: v4net(&s.cidr)?,
        interface: s.interface.clone(),
        router: s.router,
        dns_servers: s.dns_servers.clone(),
        ntp_servers: s.ntp_servers.clone(),
        domain: (!s.domain.is_empty()).then(|| s.domain.clone()),
        search: s.search.clone(),
        mtu: u16::try_from(s.mtu).ok().filter(|m| *m >= 576),
        lease_time: s.lease_time,
        renew_time: None,
        rebind_time: None,
        static_routes: s
            .routes
            .iter()
            .filter_map(|(d, gw)| {
                Some(maas_dhcp::StaticRoute {
                    destination: v4net(d)?,
                    gateway: *gw,
                })
            })
            .collect(),
        ranges: s.pools.iter().map(range).collect(),
        excluded: s.excluded.iter().map(range).collect(),
        reservations: s
            .reservations
            .iter()
            .map(|r| maas_dhcp::Reservation {
                mac: r.mac.clone(),
                ip: r.ip,
                hostname: r.hostname.clone(),
            })
            .collect(),
        next_server: None,
    })
}

/// The DHCP server's configuration: the planned subnets, loaders named as
/// the boot server serves them on `http_port`.
pub fn dhcp(
    s: &Snapshot,
    addrs: &[LocalAddr],
    dns_here: bool,
    http_port: u16,
) -> maas_dhcp::Config {
    let boot = maas_dhcp::BootConfig {
        http_port,
        ..maas_dhcp::BootConfig::default()
    };
    maas_dhcp::Config {
        subnets: plan::dhcp(s, addrs, dns_here)
            .iter()
            .filter_map(dhcp_subnet)
            .collect(),
        boot,
        ..empty_dhcp()
    }
}

/// Serving nothing (no snapshot yet).
pub fn empty_dhcp() -> maas_dhcp::Config {
    maas_dhcp::Config {
        subnets: vec![],
        boot: maas_dhcp::BootConfig::default(),
        offer_hold_secs: 30,
        decline_quarantine_secs: 3600,
    }
}

/// The DNS server's configuration: the authoritative domains, reverse zones
/// for the rack's subnets, forwarding for its clients.
pub fn dns(s: &Snapshot) -> maas_dns::DnsConfig {
    let p = plan::dns(s);
    maas_dns::DnsConfig {
        zones: p
            .zones
            .iter()
            .filter(|z| z.authoritative)
            .map(|z| maas_dns::ZoneConfig::from_model(z, z.serial.max(1)))
            .collect(),
        forwarders: p.forwarders,
        recursion_allowed: p.recursion_allowed.iter().filter_map(ipnet).collect(),
        reverse_subnets: p.reverse_for.iter().filter_map(ipnet).collect(),
        ..maas_dns::DnsConfig::default()
    }
}

/// The boot server's configuration: each MAC's machine, the region for the
/// metadata proxy, the kernel options.
pub fn boot(s: &Snapshot) -> maas_boot::BootConfig {
    let machines: BTreeMap<String, maas_boot::Machine> = plan::boot_machines(s)
        .into_iter()
        .map(|(mac, m)| {
            (
                mac,
                maas_boot::Machine {
                    system_id: m.system_id,
                    hostname: m.hostname,
                    status: m.status,
                    arch: m.architecture,
                    osystem: m.osystem,
                    distro_series: m.distro_series,
                    kernel_opts: String::new(),
                    local_boot: !m.netboot,
                },
            )
        })
        .collect();
    maas_boot::BootConfig {
        machines,
        region_url: region_base(&s.boot.maas_url),
        rack_url: None,
        kernel_opts: s.boot.kernel_opts.clone(),
        default_arch: None,
    }
}

/// `http://host:5240/MAAS` → `http://host:5240` (the proxy adds the path).
fn region_base(maas_url: &str) -> Option<String> {
    let u = maas_url.trim().trim_end_matches('/');
    if u.is_empty() {
        return None;
    }
    Some(u.strip_suffix("/MAAS").unwrap_or(u).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_urls_lose_their_maas_path() {
        assert_eq!(
            region_base("http://10.0.0.5:5240/MAAS/").as_deref(),
            Some("http://10.0.0.5:5240")
        );
        assert_eq!(
            region_base("http://r:5240").as_deref(),
            Some("http://r:5240")
        );
        assert_eq!(region_base(" "), None);
    }
}
