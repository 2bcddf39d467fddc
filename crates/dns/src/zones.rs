//! The authoritative data: zones parsed from [`DnsConfig`] into hickory
//! records, and [`ZoneSet::resolve`], which answers one question the way
//! an authoritative server does (AA, NXDOMAIN/NODATA with the SOA, CNAME
//! chasing through our zones, wildcards, referrals, additional addresses).

use std::collections::{BTreeMap, HashMap};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, NS, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;
use thiserror::Error;
use tracing::warn;

use crate::config::{DnsConfig, RecordConfig, ZoneConfig};
use crate::reverse::derive_reverse_zones;

/// Why a configuration could not be turned into zones.
#[derive(Debug, Error)]
pub enum ZoneError {
    #[error("zone name {name:?} is not a domain name: {reason}")]
    ZoneName { name: String, reason: String },
    #[error("primary name server {0:?} is not a domain name")]
    PrimaryNs(String),
    #[error("hostmaster {0:?} is not a domain name")]
    Hostmaster(String),
    #[error("zone {0} is configured twice")]
    Duplicate(String),
}

/// The records at one name, by type. An empty node is an empty
/// non-terminal (a name with nothing but descendants).
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub rrsets: BTreeMap<RecordType, Vec<Record>>,
}

/// One parsed zone.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Lower-case, fully qualified.
    pub origin: Name,
    pub soa: Record,
    pub nodes: HashMap<Name, Node>,
    /// Records that did not parse (skipped, logged).
    pub rejected: usize,
}

/// Every zone we serve, longest origin first.
#[derive(Debug, Clone, Default)]
pub struct ZoneSet {
    pub zones: Vec<Zone>,
}

/// What an authoritative lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The name is in none of our zones.
    NotOurs,
    Answer(Answer),
}

/// An authoritative (or referral) answer's sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub rcode: ResponseCodeEq,
    pub authoritative: bool,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// `ResponseCode` with a default (NOERROR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCodeEq(pub ResponseCode);

impl Default for ResponseCodeEq {
    fn default() -> Self {
        ResponseCodeEq(ResponseCode::NoError)
    }
}

const MAX_CHASE: usize = 8;

fn name_of(s: &str) -> Result<Name, String> {
    let mut n = Name::from_ascii(s).map_err(|e| e.to_string())?;
    n.set_fqdn(true);
    Ok(n.to_lowercase())
}

/// Parses one record with hickory's zone-file parser (relative names are
/// relative to `origin`).
fn parse_record(origin: &Name, default_ttl: u32, r: &RecordConfig) -> Result<Vec<Record>, String> {
    let owner = if r.name.is_empty() {
        "@"
    } else {
        r.name.as_str()
    };
    if owner.contains(['\n', '\r', ';', '(', ')', '$']) || r.rdata.contains(['\n', '\r']) {
        return Err("line breaks and zone-file directives are not allowed".into());
    }
    let rtype: RecordType = r
        .rtype
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("unknown record type {:?}", r.rtype))?;
    if matches!(
        rtype,
        RecordType::SOA | RecordType::OPT | RecordType::Unknown(_)
    ) {
        return Err(format!("record type {rtype} cannot be configured"));
    }
    let ttl = r.ttl.unwrap_or(default_ttl);
    let text = format!("{owner} {ttl} IN {rtype} {}\n", r.rdata);
    let (_, sets) = Parser::new(text, None, Some(origin.clone()))
        .parse()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for set in sets.values() {
        for rec in set.records_without_rrsigs() {
            let mut rec = rec.clone();
            rec.name = rec.name.to_lowercase();
            out.push(rec);
        }
    }
    if out.is_empty() {
        return Err("no record parsed".into());
    }
    Ok(out)
}

impl Zone {
    fn build(
        cfg: &ZoneConfig,
        primary: &Name,
        hostmaster: &Name,
        ns_addrs: &[std::net::IpAddr],
    ) -> Result<Zone, ZoneError> {
        let origin = name_of(&cfg.name).map_err(|reason| ZoneError::ZoneName {
            name: cfg.name.clone(),
            reason,
        })?;
        let soa = Record::from_rdata(
            origin.clone(),
            cfg.ttl,
            RData::SOA(SOA::new(
                primary.clone(),
                hostmaster.clone(),
                cfg.serial,
                600,
                1800,
                604_800,
                cfg.ttl,
            )),
        );
        let mut zone = Zone {
            origin: origin.clone(),
            soa: soa.clone(),
            nodes: HashMap::new(),
            rejected: 0,
        };
        zone.insert(soa);
        zone.insert(Record::from_rdata(
            origin.clone(),
            cfg.ttl,
            RData::NS(NS(primary.clone())),
        ));
        for r in &cfg.records {
            match parse_record(&origin, cfg.ttl, r) {
                Ok(recs) => {
                    for rec in recs {
                        if !origin.zone_of(&rec.name) {
                            warn!(zone = %origin, name = %rec.name, "record outside its zone skipped");
                            zone.rejected += 1;
                            continue;
                        }
                        zone.insert(rec);
                    }
                }
                Err(e) => {
                    warn!(zone = %origin, name = %r.name, rtype = %r.rtype, rdata = %r.rdata, error = %e, "record skipped");
                    zone.rejected += 1;
                }
            }
        }
        if origin.zone_of(primary) {
            let node = zone.nodes.get(primary);
            let has_addr = node.is_some_and(|n| {
                n.rrsets.contains_key(&RecordType::A) || n.rrsets.contains_key(&RecordType::AAAA)
            });
            if !has_addr {
                for ip in ns_addrs {
                    let rdata = match ip {
                        std::net::IpAddr::V4(v4) => RData::A(A(*v4)),
                        std::net::IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                    };
                    zone.insert(Record::from_rdata(primary.clone(), cfg.ttl, rdata));
                }
            }
        }
        Ok(zone)
    }

    fn insert(&mut self, rec: Record) {
        // Empty non-terminals between the record and the apex.
        let mut parent = rec.name.base_name();
        while self.origin.zone_of(&parent) && parent.num_labels() > self.origin.num_labels() {
            self.nodes.entry(parent.clone()).or_default();
            parent = parent.base_name();
        }
        let set = self
            .nodes
            .entry(rec.name.clone())
            .or_default()
            .rrsets
            .entry(rec.record_type())
            .or_default();
        if !set.iter().any(|r| r.data == rec.data) {
            set.push(rec);
        }
    }

    fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let RData::SOA(s) = &soa.data {
            soa.ttl = soa.ttl.min(s.minimum);
        }
        soa
    }

    /// The closest ancestor (not the apex) holding NS records: a delegation.
    fn delegation(&self, qname: &Name, qtype: RecordType) -> Option<&Vec<Record>> {
        let mut n = qname.clone();
        while n.num_labels() > self.origin.num_labels() {
            if let Some(ns) = self
                .nodes
                .get(&n)
                .and_then(|node| node.rrsets.get(&RecordType::NS))
                && !(n == *qname && qtype == RecordType::DS)
            {
                return Some(ns);
            }
            n = n.base_name();
        }
        None
    }
}

impl ZoneSet {
    /// Builds every zone of `cfg` (reverse zones derived as configured).
    /// Records that don't parse are skipped and logged, never fatal.
    pub fn build(cfg: &DnsConfig) -> Result<ZoneSet, ZoneError> {
        let primary =
            name_of(&cfg.primary_ns).map_err(|_| ZoneError::PrimaryNs(cfg.primary_ns.clone()))?;
        let hostmaster =
            name_of(&cfg.hostmaster).map_err(|_| ZoneError::Hostmaster(cfg.hostmaster.clone()))?;
        let mut all: Vec<ZoneConfig> = cfg.zones.clone();
        if !cfg.reverse_subnets.is_empty() {
            let ttl = cfg.zones.iter().map(|z| z.ttl).min().unwrap_or(30);
            let serial = cfg.zones.iter().map(|z| z.serial).max().unwrap_or(1);
            for rz in derive_reverse_zones(&cfg.zones, &cfg.reverse_subnets, ttl, serial) {
                // A configured zone of the same name wins; its records merge.
                if let Some(existing) = all
                    .iter_mut()
                    .find(|z| z.name.trim_end_matches('.').eq_ignore_ascii_case(&rz.name))
                {
                    existing.records.extend(rz.records);
                } else {
                    all.push(rz);
                }
            }
        }
        let mut zones: Vec<Zone> = Vec::with_capacity(all.len());
        for z in &all {
            let zone = Zone::build(z, &primary, &hostmaster, &cfg.primary_ns_addresses)?;
            if zones.iter().any(|o| o.origin == zone.origin) {
                return Err(ZoneError::Duplicate(zone.origin.to_ascii()));
            }
            zones.push(zone);
        }
        zones.sort_by_key(|z| std::cmp::Reverse(z.origin.num_labels()));
        Ok(ZoneSet { zones })
    }

    /// The zone holding `name` (longest match).
    pub fn find_zone(&self, name: &Name) -> Option<&Zone> {
        self.zones.iter().find(|z| z.origin.zone_of(name))
    }

    pub fn record_count(&self) -> usize {
        self.zones
            .iter()
            .flat_map(|z| z.nodes.values())
            .map(|n| n.rrsets.values().map(Vec::len).sum::<usize>())
            .sum()
    }

    /// Answers `qname`/`qtype` (class IN) from our zones.
    pub fn resolve(&self, qname: &Name, qtype: RecordType) -> Outcome {
        let qname = {
            let mut n = qname.to_lowercase();
            n.set_fqdn(true);
            n
        };
        let Some(zone) = self.find_zone(&qname) else {
            return Outcome::NotOurs;
        };
        let mut ans = Answer {
            authoritative: true,
            ..Answer::default()
        };
        if let Some(ns) = zone.delegation(&qname, qtype) {
            ans.authoritative = false;
            ans.authority.extend(ns.iter().cloned());
            self.add_glue(&mut ans);
            return Outcome::Answer(ans);
        }
        let mut current = qname;
        let mut zone = zone;
        let mut visited: Vec<Name> = Vec::new();
        for _ in 0..MAX_CHASE {
            match self.lookup_in(zone, &current, qtype, &mut ans) {
                Step::Done => break,
                Step::Chase(target) => {
                    visited.push(current);
                    if visited.contains(&target) {
                        break; // a CNAME loop: what we have is the answer
                    }
                    match self.find_zone(&target) {
                        Some(z) if z.delegation(&target, qtype).is_none() => {
                            zone = z;
                            current = target;
                        }
                        _ => break,
                    }
                }
            }
        }
        self.add_glue(&mut ans);
        Outcome::Answer(ans)
    }

    fn lookup_in(&self, zone: &Zone, name: &Name, qtype: RecordType, ans: &mut Answer) -> Step {
        let (node, synth_owner) = match zone.nodes.get(name) {
            Some(node) => (node, None),
            None => match wildcard(zone, name) {
                Some(node) => (node, Some(name)),
                None => {
                    ans.rcode = ResponseCodeEq(ResponseCode::NXDomain);
                    ans.authority.push(zone.negative_soa());
                    return Step::Done;
                }
            },
        };
        let owned = |r: &Record| {
            let mut r = r.clone();
            if let Some(owner) = synth_owner {
                r.name = owner.clone();
            }
            r
        };
        if qtype == RecordType::ANY {
            let before = ans.answers.len();
            for set in node.rrsets.values() {
                ans.answers.extend(set.iter().map(owned));
            }
            if ans.answers.len() == before {
                ans.authority.push(zone.negative_soa());
            }
            return Step::Done;
        }
        if let Some(set) = node.rrsets.get(&qtype) {
            ans.answers.extend(set.iter().map(owned));
            return Step::Done;
        }
        if let Some(cname) = node.rrsets.get(&RecordType::CNAME).and_then(|s| s.first()) {
            ans.answers.push(owned(cname));
            if let RData::CNAME(target) = &cname.data {
                let mut t = target.0.to_lowercase();
                t.set_fqdn(true);
                return Step::Chase(t);
            }
            return Step::Done;
        }
        ans.authority.push(zone.negative_soa());
        Step::Done
    }

    /// A/AAAA of MX, NS and SRV targets that lie in our zones.
    fn add_glue(&self, ans: &mut Answer) {
        let mut targets: Vec<Name> = Vec::new();
        for r in ans.answers.iter().chain(ans.authority.iter()) {
            let t = match &r.data {
                RData::MX(mx) => &mx.exchange,
                RData::NS(ns) => &ns.0,
                RData::SRV(srv) => &srv.target,
                _ => continue,
            };
            let t = t.to_lowercase();
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        for t in targets {
            let Some(zone) = self.find_zone(&t) else {
                continue;
            };
            if let Some(node) = zone.nodes.get(&t) {
                for rt in [RecordType::A, RecordType::AAAA] {
                    if let Some(set) = node.rrsets.get(&rt) {
                        ans.additional.extend(set.iter().cloned());
                    }
                }
            }
        }
    }
}

enum Step {
    Done,
    Chase(Name),
}

/// The wildcard node covering `name`: `*.` + its closest encloser.
fn wildcard<'z>(zone: &'z Zone, name: &Name) -> Option<&'z Node> {
    let mut n = name.base_name();
    while zone.origin.zone_of(&n) {
        if zone.nodes.contains_key(&n) {
            let star = n.prepend_label("*").ok()?;
            return zone.nodes.get(&star);
        }
        n = n.base_name();
    }
    None
}

/// `true` for the class we serve.
pub fn is_in_class(c: DNSClass) -> bool {
    c == DNSClass::IN
}
