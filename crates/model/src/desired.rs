//! A rack's desired state: everything its services (DHCP, DNS, boot) need,
//! complete (not a delta). Power actions are commands, not state
//! (`power::PowerCommand`). The region computes it, the rack applies it and
//! keeps serving it alone. `generation` numbers the versions a rack was
//! pushed; `hash` is a digest of the content (see [`Snapshot`]'s `Serialize`).

use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::net::{Cidr, RangeType};

/// The desired state of one rack.
///
/// Serialises to its content only — without `generation` and `hash` — in a
/// fixed order: the form its content hash is computed over, so equal content
/// has equal hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    #[serde(skip)]
    pub generation: u64,
    #[serde(skip)]
    pub hash: String,
    pub vlans: Vec<Vlan>,
    pub subnets: Vec<Subnet>,
    pub ranges: Vec<IpRange>,
    pub reservations: Vec<Reservation>,
    pub boot: BootSettings,
    pub zones: Vec<DnsZone>,
    pub images: Vec<Image>,
    /// Region-wide settings the rack's DHCP and DNS hand out.
    pub network: NetworkSettings,
    /// The machines that may boot from this rack: what its HTTP boot server
    /// answers for each MAC.
    pub machines: Vec<BootMachine>,
}

/// Region-wide network settings (MAAS's `ntp_servers`, `upstream_dns`, the
/// default domain, DHCP lease time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkSettings {
    pub ntp_servers: Vec<String>,
    pub upstream_dns: Vec<String>,
    /// The default domain's name: DHCP's domain name and search list.
    pub default_domain: String,
    /// Seconds; 0 means the rack's default.
    pub lease_time: u32,
}

/// A machine as the rack's boot server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootMachine {
    pub system_id: String,
    pub hostname: String,
    /// MAAS's status short name (`NodeStatus::short_name`), e.g.
    /// "commissioning", "deployed".
    pub status: String,
    /// Lower-case MACs of its interfaces.
    pub macs: Vec<String>,
    /// e.g. "amd64/generic".
    pub architecture: String,
    pub osystem: String,
    pub distro_series: String,
    /// False once the installed OS should boot from disk (the deploying
    /// environment turned network boot off): the rack answers "local".
    pub netboot: bool,
}

/// A VLAN the rack is attached to, serves DHCP on, or relays to one of those.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vlan {
    pub id: i64,
    /// 0 = untagged, else 1..=4094.
    pub vid: u16,
    pub fabric: String,
    pub mtu: u32,
    pub dhcp_on: bool,
    /// This rack's DHCP role on the VLAN, if any.
    pub dhcp_role: Option<DhcpRole>,
    /// Whether this rack hands out leases on the VLAN now: DHCP is on and it
    /// is the primary, or the secondary while the primary is not connected.
    pub serve_dhcp: bool,
    /// The VLAN whose DHCP requests are relayed to this one.
    pub relay_vlan_id: Option<i64>,
}

/// A rack's part in serving DHCP on a VLAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DhcpRole {
    Primary,
    Secondary,
}

impl DhcpRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            DhcpRole::Primary => "primary",
            DhcpRole::Secondary => "secondary",
        }
    }

    pub fn parse(s: &str) -> Option<DhcpRole> {
        match s {
            "primary" => Some(DhcpRole::Primary),
            "secondary" => Some(DhcpRole::Secondary),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet {
    pub id: i64,
    pub vlan_id: i64,
    #[serde(serialize_with = "display")]
    pub cidr: Cidr,
    pub gateway_ip: Option<IpAddr>,
    pub dns_servers: Vec<String>,
    pub managed: bool,
    pub allow_dns: bool,
    /// Routes machines on this subnet are handed (DHCP option 121).
    pub static_routes: Vec<StaticRoute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaticRoute {
    #[serde(serialize_with = "display")]
    pub destination: Cidr,
    pub gateway: IpAddr,
    pub metric: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpRange {
    pub subnet_id: i64,
    #[serde(serialize_with = "range_type")]
    pub kind: RangeType,
    pub start_ip: IpAddr,
    pub end_ip: IpAddr,
}

/// A fixed address: a reserved IP, or a machine's static address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    pub subnet_id: i64,
    pub mac: String,
    pub ip: IpAddr,
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BootSettings {
    pub default_osystem: String,
    pub default_distro_series: String,
    pub commissioning_osystem: String,
    pub commissioning_distro_series: String,
    pub kernel_opts: String,
    pub maas_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsZone {
    pub name: String,
    pub ttl: u32,
    pub serial: u32,
    pub authoritative: bool,
    pub records: Vec<DnsRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    pub name: String,
    /// "A", "AAAA", …
    pub rtype: String,
    pub data: String,
    pub ttl: u32,
}

/// A boot image file the rack should hold (a file of the newest complete
/// set of a boot resource), stored by the rack as `by-sha256/<sha256>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    /// The boot resource's name, e.g. "ephemeral", "custom/tiny", "ubuntu/jammy".
    pub name: String,
    /// e.g. "amd64/generic".
    pub architecture: String,
    /// MAAS's file type, e.g. "boot-kernel", "boot-initrd", "root-dd.raw".
    pub filetype: String,
    /// The file's name in its set, e.g. "boot-kernel", "root-dd.raw".
    pub filename: String,
    /// 64 lower-case hex digits.
    pub sha256: String,
    pub size: u64,
}

impl Image {
    /// Whether `s` is a sha256 as images are named by: 64 lower-case hex
    /// digits (so it is also a safe file name).
    pub fn valid_sha256(s: &str) -> bool {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

fn display<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn range_type<S: Serializer>(v: &RangeType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_back() {
        for r in [DhcpRole::Primary, DhcpRole::Secondary] {
            assert_eq!(DhcpRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(DhcpRole::parse(""), None);
        assert_eq!(DhcpRole::parse("tertiary"), None);
    }
}
