//! IP address management arithmetic, on `std::net` only: CIDR parsing and
//! normalising, containment, ranges, and MAAS's view of which addresses of a
//! subnet are in use (MAAS's `MAASIPSet`): the reserved and unreserved ranges
//! of a subnet, its utilisation statistics, and where a new IP range or a
//! reserved IP may go.
//!
//! Addresses are handled as `u128` values (IPv4 in the low 32 bits) so that
//! one code path serves both families.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("'{0}' is not a valid IP address.")]
    BadAddress(String),
    #[error("'{0}' is not a valid CIDR: give network/prefix, e.g. 10.0.0.0/24 or fd00::/64.")]
    BadCidr(String),
}

/// Parse an IPv4 or IPv6 address (surrounding white space allowed).
pub fn parse_ip(s: &str) -> Result<IpAddr, NetError> {
    let t = s.trim();
    t.parse::<IpAddr>()
        .map_err(|_| NetError::BadAddress(t.to_string()))
}

/// The address as a number (IPv4 in the low 32 bits).
pub fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of value `v` in the given family (IPv4 keeps the low 32 bits).
pub fn u128_to_ip(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

pub fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn bits_of(v4: bool) -> u8 {
    if v4 { 32 } else { 128 }
}

fn all_ones(bits: u8) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn netmask(bits: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (bits - prefix)) & all_ones(bits)
    }
}

/// Addresses that say nothing about which network a host is attached to:
/// loopback, link-local (169.254/16, fe80::/10), unspecified and multicast.
pub fn is_local_only(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_loopback() || a.is_link_local() || a.is_unspecified() || a.is_multicast()
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// A network: its address (host bits clear) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network of `addr/prefix`, host bits cleared.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, NetError> {
        let bits = bits_of(addr.is_ipv4());
        if prefix > bits {
            return Err(NetError::BadCidr(format!("{addr}/{prefix}")));
        }
        let v = ip_to_u128(addr) & netmask(bits, prefix);
        Ok(Cidr {
            net: u128_to_ip(v, addr.is_ipv4()),
            prefix,
        })
    }

    /// Parse `address/prefix` (or an IPv4 `address/netmask`), normalising to
    /// the network address as MAAS does (`10.0.0.7/24` → `10.0.0.0/24`).
    pub fn parse(s: &str) -> Result<Cidr, NetError> {
        Self::parse_with_host(s).map(|(_, c)| c)
    }

    /// Parse `address/prefix` keeping the address too (an interface address
    /// like `10.0.0.2/24` → (10.0.0.2, 10.0.0.0/24)).
    pub fn parse_with_host(s: &str) -> Result<(IpAddr, Cidr), NetError> {
        let t = s.trim();
        let bad = || NetError::BadCidr(t.to_string());
        let (a, p) = t.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let prefix = if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u8>().map_err(|_| bad())?
        } else if addr.is_ipv4() && p.contains('.') {
            // A dotted netmask: its ones must be contiguous.
            let m = u32::from(p.parse::<Ipv4Addr>().map_err(|_| bad())?);
            let ones = m.leading_ones();
            if m.checked_shl(ones).unwrap_or(0) != 0 {
                return Err(bad());
            }
            ones as u8
        } else {
            return Err(bad());
        };
        if prefix > bits_of(addr.is_ipv4()) {
            return Err(bad());
        }
        Ok((addr, Cidr::new(addr, prefix)?))
    }

    pub fn network(&self) -> IpAddr {
        self.net
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv4(&self) -> bool {
        self.net.is_ipv4()
    }

    pub fn version(&self) -> u8 {
        if self.is_ipv4() { 4 } else { 6 }
    }

    /// 32 or 128.
    pub fn bits(&self) -> u8 {
        bits_of(self.is_ipv4())
    }

    /// The first address, as a number.
    pub fn first(&self) -> u128 {
        ip_to_u128(self.net)
    }

    /// The last address (the IPv4 broadcast address), as a number.
    pub fn last(&self) -> u128 {
        self.first() | (!netmask(self.bits(), self.prefix) & all_ones(self.bits()))
    }

    /// How many addresses the network holds (saturating for `::/0`).
    pub fn size(&self) -> u128 {
        (self.last() - self.first()).saturating_add(1)
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        ip.is_ipv4() == self.is_ipv4()
            && (ip_to_u128(*ip) & netmask(self.bits(), self.prefix)) == self.first()
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains_cidr(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(&other.net)
    }

    /// A host-only network (/32 or /128): says nothing about the link.
    pub fn is_host(&self) -> bool {
        self.prefix == self.bits()
    }

    /// The addresses hosts may use, as MAAS counts them: IPv4 skips the
    /// network and broadcast addresses except on /31 and /32 (RFC 3021);
    /// IPv6 skips the subnet-router anycast address except on /127 and /128
    /// (RFC 6164).
    pub fn usable(&self) -> (u128, u128) {
        let (first, last) = (self.first(), self.last());
        let point_to_point = self.prefix + 1 >= self.bits();
        if point_to_point {
            (first, last)
        } else if self.is_ipv4() {
            (first + 1, last - 1)
        } else {
            (first + 1, last)
        }
    }

    pub fn ip(&self, v: u128) -> IpAddr {
        u128_to_ip(v, self.is_ipv4())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Cidr, NetError> {
        Cidr::parse(s)
    }
}

/// Check an address range against its network; returns (field, message)
/// pairs in MAAS's wording, empty when the range is well formed.
pub fn range_problems(cidr: &Cidr, start: &IpAddr, end: &IpAddr) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !same_family(start, end) {
        out.push((
            "end_ip",
            "Start IP address and end IP address must be in the same address family.".to_string(),
        ));
        return out;
    }
    if !cidr.contains(start) {
        out.push((
            "start_ip",
            format!("Start IP address must be within subnet: {cidr}."),
        ));
    }
    if !cidr.contains(end) {
        out.push((
            "end_ip",
            format!("End IP address must be within subnet: {cidr}."),
        ));
    }
    if ip_to_u128(*end) < ip_to_u128(*start) {
        out.push((
            "end_ip",
            "End IP address must not be less than Start IP address.".to_string(),
        ));
    }
    out
}

/// A block of addresses with the reasons it is in use (or "unused").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub first: u128,
    pub last: u128,
    pub purpose: BTreeSet<String>,
}

impl Span {
    pub fn new(first: u128, last: u128, purpose: &str) -> Span {
        Span {
            first,
            last,
            purpose: BTreeSet::from([purpose.to_string()]),
        }
    }

    pub fn size(&self) -> u128 {
        (self.last - self.first).saturating_add(1)
    }

    pub fn contains(&self, v: u128) -> bool {
        self.first <= v && v <= self.last
    }

    pub fn is_unused(&self) -> bool {
        self.purpose.contains(UNUSED)
    }
}

pub const UNUSED: &str = "unused";

/// A sorted set of address blocks, condensed like MAAS's `MAASIPSet`:
/// overlapping blocks merge (their purposes joined) and adjacent blocks with
/// the same purposes coalesce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSet {
    pub v4: bool,
    pub spans: Vec<Span>,
}

impl IpSet {
    pub fn new(v4: bool, mut spans: Vec<Span>) -> IpSet {
        spans.retain(|s| s.first <= s.last);
        spans.sort_by_key(|a| (a.first, a.last));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(p) if s.first <= p.last => {
                    p.last = p.last.max(s.last);
                    p.purpose.extend(s.purpose);
                }
                _ => merged.push(s),
            }
        }
        let mut out: Vec<Span> = Vec::with_capacity(merged.len());
        for s in merged {
            match out.last_mut() {
                Some(p) if p.last.checked_add(1) == Some(s.first) && p.purpose == s.purpose => {
                    p.last = s.last;
                }
                _ => out.push(s),
            }
        }
        IpSet { v4, spans: out }
    }

    pub fn find(&self, v: u128) -> Option<&Span> {
        self.spans.iter().find(|s| s.contains(v))
    }

    pub fn first(&self) -> Option<u128> {
        self.spans.first().map(|s| s.first)
    }

    pub fn last(&self) -> Option<u128> {
        self.spans.last().map(|s| s.last)
    }

    /// The gaps between this set's blocks inside `[start, end]`.
    fn gaps(&self, start: u128, end: u128) -> Vec<Span> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let mut cand = Some(start);
        for s in &self.spans {
            let Some(c) = cand else { break };
            if s.last < c {
                continue;
            }
            if s.first > end {
                break;
            }
            if s.first > c {
                out.push(Span::new(c, s.first - 1, UNUSED));
            }
            cand = s.last.checked_add(1).filter(|n| *n <= end);
        }
        if let Some(c) = cand
            && c <= end
        {
            out.push(Span::new(c, end, UNUSED));
        }
        out
    }

    /// The unused blocks of a network (MAAS's `get_unused_ranges`).
    pub fn unused(&self, cidr: &Cidr) -> IpSet {
        let (start, end) = cidr.usable();
        IpSet::new(self.v4, self.gaps(start, end))
    }

    /// The unused blocks inside the given blocks (unmanaged subnets, where
    /// only reserved ranges are MAAS's to hand out).
    pub fn unused_within(&self, outer: &[Span]) -> IpSet {
        let spans = outer
            .iter()
            .flat_map(|o| self.gaps(o.first, o.last))
            .collect();
        IpSet::new(self.v4, spans)
    }

    /// This set plus the unused blocks: every usable address of the network
    /// appears exactly once (MAAS's `get_full_range`).
    pub fn full(&self, cidr: &Cidr) -> IpSet {
        let mut spans = self.spans.clone();
        spans.extend(self.unused(cidr).spans);
        IpSet::new(self.v4, spans)
    }

    pub fn ip(&self, v: u128) -> IpAddr {
        u128_to_ip(v, self.v4)
    }
}

mod usage;
pub use usage::*;

#[cfg(test)]
mod tests;
