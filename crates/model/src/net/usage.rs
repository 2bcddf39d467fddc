//! What occupies a subnet's addresses: ranges, reserved and dynamic
//! blocks, and the utilisation statistics MAAS reports.

use super::*;

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
