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

/// The two kinds of IP range MAAS knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeType {
    /// A DHCP pool.
    Dynamic,
    /// Kept out of MAAS's allocation (managed subnets), or the only place it
    /// allocates (unmanaged subnets).
    Reserved,
}

impl RangeType {
    pub fn parse(s: &str) -> Option<RangeType> {
        match s.trim() {
            "dynamic" => Some(RangeType::Dynamic),
            "reserved" => Some(RangeType::Reserved),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            RangeType::Dynamic => "dynamic",
            RangeType::Reserved => "reserved",
        }
    }
}

/// Everything that occupies addresses of one subnet.
#[derive(Debug, Clone)]
pub struct SubnetUsage {
    pub cidr: Cidr,
    pub managed: bool,
    pub gateway: Option<IpAddr>,
    pub dns_servers: Vec<IpAddr>,
    /// IP ranges: (type, start, end).
    pub ranges: Vec<(RangeType, IpAddr, IpAddr)>,
    /// Addresses assigned to interfaces.
    pub assigned: Vec<IpAddr>,
    /// Reserved IPs (static DHCP leases).
    pub reserved_ips: Vec<IpAddr>,
}

impl SubnetUsage {
    pub fn new(cidr: Cidr) -> SubnetUsage {
        SubnetUsage {
            cidr,
            managed: true,
            gateway: None,
            dns_servers: Vec::new(),
            ranges: Vec::new(),
            assigned: Vec::new(),
            reserved_ips: Vec::new(),
        }
    }

    fn point(&self, ip: &IpAddr, purpose: &str) -> Option<Span> {
        self.cidr
            .contains(ip)
            .then(|| Span::new(ip_to_u128(*ip), ip_to_u128(*ip), purpose))
    }

    /// What MAAS reserves on IPv6 networks by itself: `::1`–`::ffff:ffff` on a
    /// /64 (for static assignment by the administrator), and the
    /// subnet-router anycast address (RFC 4291 §2.6.1) below /127.
    fn automatic(&self) -> Vec<Span> {
        let mut out = Vec::new();
        if self.cidr.is_ipv4() {
            return out;
        }
        let first = self.cidr.first();
        if self.cidr.prefix() == 64 {
            out.push(Span::new(first + 1, first + 0xffff_ffff, "reserved"));
        }
        if self.cidr.prefix() < 127 {
            out.push(Span::new(first, first, "rfc-4291-2.6.1"));
        }
        out
    }

    fn range_spans(&self, kind: Option<RangeType>) -> Vec<Span> {
        self.ranges
            .iter()
            .filter(|(t, s, e)| {
                kind.is_none_or(|k| k == *t) && self.cidr.contains(s) && self.cidr.contains(e)
            })
            .map(|(t, s, e)| Span::new(ip_to_u128(*s), ip_to_u128(*e), t.as_str()))
            .collect()
    }

    fn subnet_ips(&self) -> Vec<Span> {
        let mut out: Vec<Span> = self
            .dns_servers
            .iter()
            .filter_map(|d| self.point(d, "dns-server"))
            .collect();
        out.extend(self.gateway.and_then(|g| self.point(&g, "gateway-ip")));
        out
    }

    fn points(&self, ips: &[IpAddr], purpose: &str) -> Vec<Span> {
        ips.iter().filter_map(|i| self.point(i, purpose)).collect()
    }

    /// Everything in use: the subnet's `reserved_ip_ranges`.
    pub fn in_use(&self) -> IpSet {
        let mut spans = self.automatic();
        spans.extend(self.subnet_ips());
        spans.extend(self.range_spans(None));
        spans.extend(self.points(&self.assigned, "assigned-ip"));
        spans.extend(self.points(&self.reserved_ips, "reserved-ip"));
        IpSet::new(self.cidr.is_ipv4(), spans)
    }

    /// The subnet's `unreserved_ip_ranges`.
    pub fn not_in_use(&self) -> IpSet {
        self.in_use().unused(&self.cidr)
    }

    /// Where a new range of `kind` may go (MAAS's
    /// `get_ipranges_available_for_{reserved,dynamic}_range`).
    pub fn available_for(&self, kind: RangeType) -> IpSet {
        let v4 = self.cidr.is_ipv4();
        let mut spans = self.automatic();
        match (kind, self.managed) {
            (RangeType::Reserved, true) => {
                spans.extend(self.range_spans(None));
                IpSet::new(v4, spans).unused(&self.cidr)
            }
            (RangeType::Reserved, false) => {
                spans.extend(self.range_spans(Some(RangeType::Reserved)));
                IpSet::new(v4, spans).unused(&self.cidr)
            }
            (RangeType::Dynamic, managed) => {
                spans.extend(self.subnet_ips());
                spans.extend(self.points(&self.assigned, "assigned-ip"));
                spans.extend(self.points(&self.reserved_ips, "reserved-ip"));
                if managed {
                    spans.extend(self.range_spans(None));
                    IpSet::new(v4, spans).unused(&self.cidr)
                } else {
                    spans.extend(self.range_spans(Some(RangeType::Dynamic)));
                    let reserved = IpSet::new(v4, self.range_spans(Some(RangeType::Reserved)));
                    IpSet::new(v4, spans).unused_within(&reserved.spans)
                }
            }
        }
    }

    /// Whether a new range (already checked with [`range_problems`]) fits;
    /// the error is MAAS's message, reported on both start_ip and end_ip.
    pub fn check_new_range(
        &self,
        kind: RangeType,
        start: &IpAddr,
        end: &IpAddr,
    ) -> Result<(), String> {
        let (s, e) = (ip_to_u128(*start), ip_to_u128(*end));
        let avail = self.available_for(kind);
        if avail.spans.is_empty() {
            return Err(format!(
                "There is no room for any {} ranges on this subnet.",
                kind.as_str()
            ));
        }
        if avail.find(s).is_some_and(|span| span.contains(e)) {
            return Ok(());
        }
        if kind == RangeType::Dynamic
            && let Some(g) = self.gateway.filter(|g| self.cidr.contains(g))
            && (s..=e).contains(&ip_to_u128(g))
        {
            return Err(format!(
                "A dynamic range cannot include the subnet's gateway IP address ({g})."
            ));
        }
        if kind == RangeType::Dynamic && !self.managed {
            return Err(
                "On an unmanaged subnet a dynamic range must lie inside a reserved range and not conflict with an existing IP address or range."
                    .to_string(),
            );
        }
        Err(match kind {
            RangeType::Reserved => {
                "Requested reserved range conflicts with an existing range.".to_string()
            }
            RangeType::Dynamic => {
                "Requested dynamic range conflicts with an existing IP address or range."
                    .to_string()
            }
        })
    }

    /// Whether `ip` may be pinned to a MAC (a reserved IP / static lease):
    /// a usable address of the subnet, not its gateway, not in a dynamic
    /// range.
    pub fn check_reserved_ip(&self, ip: &IpAddr) -> Result<(), String> {
        if !self.cidr.contains(ip) {
            return Err(format!(
                "The IP address {ip} is not within subnet {}.",
                self.cidr
            ));
        }
        let v = ip_to_u128(*ip);
        let (lo, hi) = self.cidr.usable();
        if v < lo || v > hi {
            return Err(format!(
                "{ip} is the network or broadcast address of {}; it cannot be reserved.",
                self.cidr
            ));
        }
        if self.gateway.as_ref() == Some(ip) {
            return Err(format!(
                "{ip} is the subnet's gateway; it cannot be reserved."
            ));
        }
        for (t, s, e) in &self.ranges {
            if *t == RangeType::Dynamic && (ip_to_u128(*s)..=ip_to_u128(*e)).contains(&v) {
                return Err(format!(
                    "The reserved IP {ip} must be outside the dynamic range {s} - {e}."
                ));
            }
        }
        Ok(())
    }
}

/// Utilisation of a subnet (MAAS's `IPRangeStatistics`).
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    pub num_available: u128,
    pub largest_available: u128,
    pub num_unavailable: u128,
    pub total_addresses: u128,
    /// Fraction in use, 0.0..=1.0.
    pub usage: f64,
    pub available: f64,
    pub first_address: Option<IpAddr>,
    pub last_address: Option<IpAddr>,
    pub ip_version: u8,
    pub suggested_gateway: Option<IpAddr>,
    pub suggested_dynamic_range: Option<(IpAddr, IpAddr)>,
    /// Every usable address exactly once, with its purposes.
    pub ranges: IpSet,
}

/// A fraction as Python's `"{:.0%}"` prints it.
pub fn percent_string(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

impl Statistics {
    pub fn of(usage: &SubnetUsage) -> Statistics {
        let cidr = &usage.cidr;
        let full = usage.in_use().full(cidr);
        let (mut avail, mut unavail, mut largest) = (0u128, 0u128, 0u128);
        for s in &full.spans {
            if s.is_unused() {
                avail = avail.saturating_add(s.size());
                largest = largest.max(s.size());
            } else {
                unavail = unavail.saturating_add(s.size());
            }
        }
        let total = avail.saturating_add(unavail);
        let frac = |n: u128| {
            if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            }
        };
        let has = |p: &str| full.spans.iter().any(|s| s.purpose.contains(p));
        let (has_gateway, has_dynamic) = (has("gateway-ip"), has("dynamic"));
        let mut st = Statistics {
            num_available: avail,
            largest_available: largest,
            num_unavailable: unavail,
            total_addresses: total,
            usage: frac(unavail),
            available: frac(avail),
            first_address: full.first().map(|v| full.ip(v)),
            last_address: full.last().map(|v| full.ip(v)),
            ip_version: cidr.version(),
            suggested_gateway: None,
            suggested_dynamic_range: None,
            ranges: full,
        };
        if !has_gateway {
            st.suggested_gateway = st.recommended_gateway(cidr);
        }
        if !has_dynamic {
            st.suggested_dynamic_range = st.recommended_dynamic_range();
        }
        st
    }

    fn is_unused(&self, v: u128) -> bool {
        self.ranges.find(v).is_some_and(Span::is_unused)
    }

    /// IPv6: the subnet-router anycast address. IPv4: the first usable
    /// address if free, else the last, else the first free one.
    fn recommended_gateway(&self, cidr: &Cidr) -> Option<IpAddr> {
        let (first, last) = (self.ranges.first()?, self.ranges.last()?);
        if !cidr.is_ipv4() {
            return (self.total_addresses > 2).then(|| cidr.network());
        }
        let pick = if self.is_unused(first) {
            Some(first)
        } else if self.is_unused(last) {
            Some(last)
        } else {
            self.ranges
                .spans
                .iter()
                .find(|s| s.is_unused())
                .map(|s| s.first)
        };
        pick.map(|v| cidr.ip(v))
    }

    /// The end of the largest free block, at most a quarter of the subnet and
    /// at most half of what is free.
    fn recommended_dynamic_range(&self) -> Option<(IpAddr, IpAddr)> {
        let largest =
            self.ranges
                .spans
                .iter()
                .filter(|s| s.is_unused())
                .fold(None::<&Span>, |best, s| match best {
                    Some(b) if b.size() > s.size() => Some(b),
                    _ => Some(s),
                })?;
        let (mut first, mut last) = (largest.first, largest.last);
        if let Some(g) = self.suggested_gateway {
            if largest.size() == 1 {
                return None;
            }
            let g = ip_to_u128(g);
            if g == first {
                first += 1;
            } else if g == last {
                last -= 1;
            }
        }
        let size = last - first + 1;
        let quarter = self.total_addresses >> 2;
        let half_free = self.num_available >> 1;
        if size > quarter {
            first = last - quarter;
        } else if size >= half_free {
            if half_free == 0 {
                return None;
            }
            first = last - (half_free - 1);
        }
        if first >= last {
            return None;
        }
        Some((self.ranges.ip(first), self.ranges.ip(last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    #[test]
    fn cidrs_parse_and_normalise() {
        assert_eq!(c("10.0.0.7/24").to_string(), "10.0.0.0/24");
        assert_eq!(c(" 10.1.2.3/8 ").to_string(), "10.0.0.0/8");
        assert_eq!(c("192.168.1.1/255.255.255.0").to_string(), "192.168.1.0/24");
        assert_eq!(c("fd00:1:2:3::9/64").to_string(), "fd00:1:2:3::/64");
        assert_eq!(c("2001:db8::1/128").to_string(), "2001:db8::1/128");
        assert_eq!(c("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(c("::/0").size(), u128::MAX);
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0/24",
            "x/24",
            "10.0.0.0/255.0.255.0",
            "fd00::/255.255.0.0",
            "",
            "/",
            "10.0.0.0/",
            "10.0.0.0/0024",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        let (h, n) = Cidr::parse_with_host("10.0.0.2/24").unwrap();
        assert_eq!(h, ip("10.0.0.2"));
        assert_eq!(n, c("10.0.0.0/24"));
        assert_eq!(c("10.0.0.0/24").version(), 4);
        assert_eq!(c("fd00::/64").version(), 6);
    }

    #[test]
    fn containment_and_bounds() {
        let n = c("10.0.0.0/24");
        assert!(n.contains(&ip("10.0.0.0")));
        assert!(n.contains(&ip("10.0.0.255")));
        assert!(!n.contains(&ip("10.0.1.0")));
        assert!(!n.contains(&ip("::ffff:10.0.0.1")));
        assert_eq!(n.size(), 256);
        assert_eq!(
            n.usable(),
            (ip_to_u128(ip("10.0.0.1")), ip_to_u128(ip("10.0.0.254")))
        );
        assert!(c("10.0.0.0/8").contains_cidr(&n));
        assert!(!n.contains_cidr(&c("10.0.0.0/8")));
        let n31 = c("10.0.0.0/31");
        assert_eq!(n31.usable(), (n31.first(), n31.last()));
        let n32 = c("10.0.0.9/32");
        assert_eq!(n32.size(), 1);
        assert!(n32.is_host());
        let v6 = c("fd00::/64");
        assert!(v6.contains(&ip("fd00::ffff:1")));
        assert!(!v6.contains(&ip("fd00:0:0:1::1")));
        assert!(!v6.contains(&ip("10.0.0.1")));
        assert_eq!(v6.usable().0, v6.first() + 1);
        assert_eq!(v6.usable().1, v6.last());
        let v127 = c("fd00::/127");
        assert_eq!(v127.usable(), (v127.first(), v127.last()));
        assert!(c("0.0.0.0/0").contains(&ip("255.255.255.255")));
        assert!(c("::/0").contains(&ip("ffff::1")));
    }

    #[test]
    fn local_only_addresses() {
        for a in [
            "127.0.0.1",
            "169.254.3.4",
            "fe80::1",
            "febf::1",
            "::1",
            "0.0.0.0",
            "224.0.0.1",
            "ff02::1",
        ] {
            assert!(is_local_only(&ip(a)), "{a}");
        }
        for a in [
            "10.0.0.1",
            "fd00::1",
            "2001:db8::1",
            "fec0::1",
            "192.168.0.1",
        ] {
            assert!(!is_local_only(&ip(a)), "{a}");
        }
    }

    #[test]
    fn range_shapes() {
        let n = c("10.0.0.0/24");
        assert!(range_problems(&n, &ip("10.0.0.10"), &ip("10.0.0.20")).is_empty());
        assert!(range_problems(&n, &ip("10.0.0.10"), &ip("10.0.0.10")).is_empty());
        let p = range_problems(&n, &ip("10.0.0.20"), &ip("10.0.0.10"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "end_ip");
        let p = range_problems(&n, &ip("10.0.1.1"), &ip("10.0.2.1"));
        assert_eq!(
            p.iter().map(|x| x.0).collect::<Vec<_>>(),
            vec!["start_ip", "end_ip"]
        );
        let p = range_problems(&n, &ip("10.0.0.1"), &ip("fd00::1"));
        assert_eq!(p.len(), 1);
        assert!(p[0].1.contains("family"));
    }

    #[test]
    fn sets_condense_like_maas() {
        let s = IpSet::new(
            true,
            vec![
                Span::new(10, 20, "dynamic"),
                Span::new(15, 25, "reserved"),
                Span::new(30, 30, "gateway-ip"),
                Span::new(31, 32, "gateway-ip"),
                Span::new(5, 4, "bogus"),
            ],
        );
        assert_eq!(s.spans.len(), 2);
        assert_eq!((s.spans[0].first, s.spans[0].last), (10, 25));
        assert_eq!(s.spans[0].purpose.len(), 2);
        assert_eq!((s.spans[1].first, s.spans[1].last), (30, 32));
    }

    fn usage(cidr: &str) -> SubnetUsage {
        SubnetUsage::new(c(cidr))
    }

    fn spans(set: &IpSet) -> Vec<(String, String)> {
        set.spans
            .iter()
            .map(|s| (set.ip(s.first).to_string(), set.ip(s.last).to_string()))
            .collect()
    }

    #[test]
    fn reserved_and_unreserved_ipv4() {
        let mut u = usage("10.0.0.0/24");
        u.gateway = Some(ip("10.0.0.1"));
        u.dns_servers = vec![ip("10.0.0.2"), ip("8.8.8.8")];
        u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
        let used = u.in_use();
        assert_eq!(
            spans(&used),
            vec![
                ("10.0.0.1".into(), "10.0.0.1".into()),
                ("10.0.0.2".into(), "10.0.0.2".into()),
                ("10.0.0.100".into(), "10.0.0.199".into())
            ]
        );
        assert_eq!(
            spans(&u.not_in_use()),
            vec![
                ("10.0.0.3".into(), "10.0.0.99".into()),
                ("10.0.0.200".into(), "10.0.0.254".into())
            ]
        );
        let st = Statistics::of(&u);
        assert_eq!(st.total_addresses, 254);
        assert_eq!(st.num_unavailable, 102);
        assert_eq!(st.num_available, 152);
        assert_eq!(st.largest_available, 97);
        assert_eq!(percent_string(st.usage), "40%");
        assert_eq!(st.first_address, Some(ip("10.0.0.1")));
        assert_eq!(st.last_address, Some(ip("10.0.0.254")));
        assert_eq!(st.suggested_gateway, None);
        assert_eq!(st.suggested_dynamic_range, None);
    }

    #[test]
    fn statistics_edges() {
        let st = Statistics::of(&usage("10.0.0.0/24"));
        assert_eq!(st.total_addresses, 254);
        assert_eq!(st.num_available, 254);
        assert_eq!(st.usage, 0.0);
        assert_eq!(percent_string(st.usage), "0%");
        assert_eq!(st.suggested_gateway, Some(ip("10.0.0.1")));
        let (a, b) = st.suggested_dynamic_range.unwrap();
        assert_eq!(b, ip("10.0.0.254"));
        assert_eq!(ip_to_u128(b) - ip_to_u128(a), 254 >> 2);

        let st = Statistics::of(&usage("10.0.0.0/31"));
        assert_eq!((st.total_addresses, st.num_available), (2, 2));
        let st = Statistics::of(&usage("10.0.0.5/32"));
        assert_eq!((st.total_addresses, st.num_available), (1, 1));
        assert_eq!(st.suggested_dynamic_range, None);
        let mut u = usage("10.0.0.4/32");
        u.gateway = Some(ip("10.0.0.4"));
        let st = Statistics::of(&u);
        assert_eq!(
            (st.total_addresses, st.num_unavailable, st.usage),
            (1, 1, 1.0)
        );
        assert_eq!(percent_string(st.usage), "100%");
        let st = Statistics::of(&usage("10.0.0.0/30"));
        assert_eq!(st.total_addresses, 2);

        // IPv6 /64: the anycast address and ::1-::ffff:ffff are MAAS's.
        let st = Statistics::of(&usage("fd00::/64"));
        assert_eq!(st.total_addresses, 1u128 << 64);
        assert_eq!(st.num_unavailable, 1 + 0xffff_ffff);
        assert_eq!(st.suggested_gateway, Some(ip("fd00::")));
        assert_eq!(percent_string(st.usage), "0%");
        let st = Statistics::of(&usage("fd00::/48"));
        assert_eq!(st.total_addresses, 1u128 << 80);
        assert_eq!(st.num_unavailable, 1);
        let st = Statistics::of(&usage("fd00::/127"));
        assert_eq!((st.total_addresses, st.num_available), (2, 2));
        let st = Statistics::of(&usage("fd00::1/128"));
        assert_eq!((st.total_addresses, st.num_available), (1, 1));
        let st = Statistics::of(&usage("::/0"));
        assert!(st.total_addresses > 1u128 << 127);
    }

    #[test]
    fn new_ranges_on_managed_subnets() {
        let mut u = usage("10.0.0.0/24");
        u.gateway = Some(ip("10.0.0.1"));
        u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
        u.reserved_ips = vec![ip("10.0.0.50")];
        let d = RangeType::Dynamic;
        let r = RangeType::Reserved;
        assert!(
            u.check_new_range(d, &ip("10.0.0.200"), &ip("10.0.0.254"))
                .is_ok()
        );
        assert!(
            u.check_new_range(d, &ip("10.0.0.200"), &ip("10.0.0.255"))
                .is_err()
        );
        assert!(
            u.check_new_range(d, &ip("10.0.0.150"), &ip("10.0.0.220"))
                .is_err()
        );
        assert!(
            u.check_new_range(d, &ip("10.0.0.90"), &ip("10.0.0.100"))
                .is_err()
        );
        let e = u
            .check_new_range(d, &ip("10.0.0.1"), &ip("10.0.0.20"))
            .unwrap_err();
        assert!(e.contains("gateway"), "{e}");
        assert!(
            u.check_new_range(d, &ip("10.0.0.40"), &ip("10.0.0.60"))
                .is_err()
        );
        // Reserved ranges may cover the gateway and reserved IPs, not ranges.
        assert!(
            u.check_new_range(r, &ip("10.0.0.1"), &ip("10.0.0.60"))
                .is_ok()
        );
        assert!(
            u.check_new_range(r, &ip("10.0.0.199"), &ip("10.0.0.200"))
                .is_err()
        );
        assert!(
            u.check_new_range(r, &ip("10.0.0.0"), &ip("10.0.0.10"))
                .is_err()
        );
        // A full subnet.
        u.ranges
            .push((RangeType::Reserved, ip("10.0.0.1"), ip("10.0.0.99")));
        u.ranges
            .push((RangeType::Reserved, ip("10.0.0.200"), ip("10.0.0.254")));
        let e = u
            .check_new_range(r, &ip("10.0.0.5"), &ip("10.0.0.6"))
            .unwrap_err();
        assert!(e.contains("no room"), "{e}");
    }

    #[test]
    fn new_ranges_on_unmanaged_and_ipv6_subnets() {
        let mut u = usage("10.0.0.0/24");
        u.managed = false;
        u.ranges = vec![(RangeType::Reserved, ip("10.0.0.10"), ip("10.0.0.50"))];
        let d = RangeType::Dynamic;
        assert!(
            u.check_new_range(d, &ip("10.0.0.20"), &ip("10.0.0.30"))
                .is_ok()
        );
        assert!(
            u.check_new_range(d, &ip("10.0.0.40"), &ip("10.0.0.60"))
                .is_err()
        );
        assert!(
            u.check_new_range(d, &ip("10.0.0.100"), &ip("10.0.0.110"))
                .is_err()
        );
        assert!(
            u.check_new_range(RangeType::Reserved, &ip("10.0.0.60"), &ip("10.0.0.70"))
                .is_ok()
        );

        let v6 = usage("fd00::/64");
        assert!(
            v6.check_new_range(d, &ip("fd00::1:0:0"), &ip("fd00::1:0:ff"))
                .is_ok()
        );
        assert!(
            v6.check_new_range(d, &ip("fd00::10"), &ip("fd00::20"))
                .is_err()
        );
        assert!(v6.check_new_range(d, &ip("fd00::"), &ip("fd00::")).is_err());
        let v6 = usage("fd00::/80");
        assert!(
            v6.check_new_range(d, &ip("fd00::10"), &ip("fd00::20"))
                .is_ok()
        );
    }

    #[test]
    fn reserved_ips() {
        let mut u = usage("10.0.0.0/24");
        u.gateway = Some(ip("10.0.0.1"));
        u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
        assert!(u.check_reserved_ip(&ip("10.0.0.5")).is_ok());
        assert!(u.check_reserved_ip(&ip("10.0.0.1")).is_err());
        assert!(u.check_reserved_ip(&ip("10.0.0.0")).is_err());
        assert!(u.check_reserved_ip(&ip("10.0.0.255")).is_err());
        assert!(u.check_reserved_ip(&ip("10.0.1.5")).is_err());
        let e = u.check_reserved_ip(&ip("10.0.0.150")).unwrap_err();
        assert!(e.contains("dynamic range"), "{e}");
    }

    #[test]
    fn percentages_round_like_python() {
        assert_eq!(percent_string(0.0), "0%");
        assert_eq!(percent_string(1.0), "100%");
        assert_eq!(percent_string(0.404), "40%");
        assert_eq!(percent_string(0.996), "100%");
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in ".{0,60}") {
            let _ = Cidr::parse(&s);
            let _ = parse_ip(&s);
        }

        #[test]
        fn full_range_partitions_the_usable_addresses(
            prefix in 20u8..=32,
            ranges in proptest::collection::vec((0u32..4096, 0u32..64), 0..6),
        ) {
            let cidr = Cidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), prefix).unwrap();
            let mut u = SubnetUsage::new(cidr);
            let (lo, hi) = cidr.usable();
            for (off, len) in ranges {
                let s = lo + off as u128;
                let e = s + len as u128;
                if e <= hi {
                    u.ranges.push((RangeType::Reserved, cidr.ip(s), cidr.ip(e)));
                }
            }
            let st = Statistics::of(&u);
            proptest::prop_assert_eq!(st.total_addresses, hi - lo + 1);
            let mut next = lo;
            for s in &st.ranges.spans {
                proptest::prop_assert_eq!(s.first, next);
                next = s.last + 1;
            }
            proptest::prop_assert_eq!(next, hi + 1);
        }
    }
}
