//! One query in, one action out: the precomputed answer table (built when
//! a configuration is swapped in) and the slow path on hickory's codec.
//!
//! [`Served`] is immutable once built; the server swaps whole `Served`
//! values, so every query sees one version of every zone.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use ipnet::IpNet;

use crate::config::DnsConfig;
use crate::metrics::Metrics;
use crate::wire::{MAX_KEY, Parsed, parse_query};
use crate::zones::{Answer, Outcome, ZoneError, ZoneSet};

/// The UDP payload size we advertise and never exceed.
pub const OUR_UDP_PAYLOAD: u16 = 1232;
/// Plain DNS over UDP (RFC 1035).
const PLAIN_UDP: usize = 512;

/// Where a query came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What to do with a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send the bytes written to the output buffer.
    Respond,
    /// Outside our zones and the client may recurse: forward it.
    Forward,
    /// Send nothing.
    Drop,
}

/// FxHash-style hasher: keys are short and not attacker-chosen in a way
/// that matters (the table is fixed between swaps).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Precomputed responses for one (name, type): without EDNS (≤ 512 bytes,
/// truncated if need be) and with our OPT record (full).
#[derive(Debug, Clone)]
pub struct Entry {
    pub plain: Box<[u8]>,
    pub edns: Box<[u8]>,
}

type Table = HashMap<Box<[u8]>, Entry, BuildHasherDefault<KeyHasher>>;

/// Everything a query is answered from; replaced whole on a new config.
#[derive(Debug)]
pub struct Served {
    pub zones: ZoneSet,
    table: Table,
    pub recursion_allowed: Vec<IpNet>,
    pub forwarders: Vec<SocketAddr>,
}

/// Types precomputed at every name (besides those present there): the
/// NODATA answers clients ask for most.
const COMMON: [RecordType; 2] = [RecordType::A, RecordType::AAAA];
/// Types precomputed at a CNAME (the chased answer differs per type).
const AT_CNAME: [RecordType; 9] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::MX,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::SSHFP,
    RecordType::PTR,
    RecordType::NS,
    RecordType::CNAME,
];

impl Served {
    /// Parses the zones and precomputes the answer table.
    pub fn build(cfg: &DnsConfig) -> Result<Served, ZoneError> {
        let zones = ZoneSet::build(cfg)?;
        let mut table = Table::default();
        for zone in &zones.zones {
            for (name, node) in &zone.nodes {
                let mut types: Vec<RecordType> = node.rrsets.keys().copied().collect();
                types.extend(COMMON);
                if node.rrsets.contains_key(&RecordType::CNAME) {
                    types.extend(AT_CNAME);
                }
                types.sort();
                types.dedup();
                let mut key = Vec::with_capacity(MAX_KEY);
                key.extend_from_slice(&name_wire(name));
                let name_len = key.len();
                for t in types {
                    key.truncate(name_len);
                    key.extend_from_slice(&u16::from(t).to_be_bytes());
                    let Outcome::Answer(ans) = zones.resolve(name, t) else {
                        continue;
                    };
                    let q = Query::query(name.clone(), t);
                    let (Ok(plain), Ok(edns)) = (
                        encode(&q, &ans, 0, None, PLAIN_UDP),
                        encode(&q, &ans, 0, Some(false), usize::from(u16::MAX)),
                    ) else {
                        continue;
                    };
                    table.insert(
                        key.clone().into_boxed_slice(),
                        Entry {
                            plain: plain.into_boxed_slice(),
                            edns: edns.into_boxed_slice(),
                        },
                    );
                }
            }
        }
        Ok(Served {
            zones,
            table,
            recursion_allowed: cfg.recursion_allowed.clone(),
            forwarders: cfg.forwarders.clone(),
        })
    }

    /// How many (name, type) answers are precomputed.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Whether `ip` may have names outside our zones forwarded.
    pub fn may_recurse(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.recursion_allowed.iter().any(|n| n.contains(&ip))
    }

    /// Answers one query into `out` (cleared first).
    pub fn handle(
        &self,
        pkt: &[u8],
        client: IpAddr,
        transport: Transport,
        out: &mut Vec<u8>,
        metrics: &Metrics,
    ) -> Action {
        out.clear();
        let action = match parse_query(pkt) {
            Parsed::Drop => {
                metrics.malformed_dropped.inc();
                return Action::Drop;
            }
            Parsed::Fast(q) => match self.table.get(q.key()) {
                Some(entry) => {
                    let (resp, fits) = match (q.edns, transport) {
                        (None, Transport::Udp) => (&entry.plain, true),
                        (Some(e), Transport::Udp) => (
                            &entry.edns,
                            entry.edns.len() <= usize::from(e.payload.clamp(512, OUR_UDP_PAYLOAD)),
                        ),
                        (Some(_), Transport::Tcp) => (&entry.edns, true),
                        (None, Transport::Tcp) => (&entry.plain, entry.plain[2] & 0x02 == 0),
                    };
                    if fits && resp.len() >= q.qname_end {
                        out.extend_from_slice(resp);
                        out[0..2].copy_from_slice(&q.id.to_be_bytes());
                        out[2] |= q.flags[0] & 0x01; // RD
                        out[3] |= q.flags[1] & 0x10; // CD
                        if self.may_recurse(client) {
                            out[3] |= 0x80; // RA
                        }
                        out[12..q.qname_end].copy_from_slice(&pkt[12..q.qname_end]);
                        if q.edns.is_some_and(|e| e.dnssec_ok) {
                            let n = out.len();
                            out[n - 4] |= 0x80;
                        }
                        metrics.fast_path.inc();
                        Action::Respond
                    } else {
                        self.slow(pkt, client, transport, out, metrics)
                    }
                }
                None => self.slow(pkt, client, transport, out, metrics),
            },
            Parsed::Slow => self.slow(pkt, client, transport, out, metrics),
        };
        if action == Action::Respond && out.len() >= 4 {
            metrics.count_rcode(out[3] & 0x0f);
            if out[2] & 0x02 != 0 {
                metrics.truncated.inc();
            }
        }
        action
    }

    fn slow(
        &self,
        pkt: &[u8],
        client: IpAddr,
        transport: Transport,
        out: &mut Vec<u8>,
        metrics: &Metrics,
    ) -> Action {
        metrics.slow_path.inc();
        let msg = match Message::from_vec(pkt) {
            Ok(m) => m,
            Err(_) => {
                metrics.malformed_dropped.inc();
                if pkt.len() >= 12 && pkt[2] & 0x80 == 0 {
                    // FORMERR with the header only: ID and opcode echoed.
                    out.extend_from_slice(&pkt[0..2]);
                    out.push(0x80 | (pkt[2] & 0x78));
                    out.push(ResponseCode::FormErr.low());
                    out.extend_from_slice(&[0; 8]);
                    return Action::Respond;
                }
                return Action::Drop;
            }
        };
        if msg.metadata.message_type == MessageType::Response {
            metrics.malformed_dropped.inc();
            return Action::Drop;
        }
        let id = msg.metadata.id;
        let rd = msg.metadata.recursion_desired;
        let edns_do = msg.edns.as_ref().map(|e| e.flags().dnssec_ok);
        let max = match transport {
            Transport::Tcp => usize::from(u16::MAX),
            Transport::Udp => msg
                .edns
                .as_ref()
                .map(|e| usize::from(e.max_payload().clamp(512, OUR_UDP_PAYLOAD)))
                .unwrap_or(PLAIN_UDP),
        };
        let error = |code: ResponseCode, out: &mut Vec<u8>| {
            let mut m = Message::new(id, MessageType::Response, msg.metadata.op_code);
            m.metadata.recursion_desired = rd;
            m.metadata.response_code = code;
            if let Some(q) = msg.queries.first() {
                m.add_query(q.clone());
            }
            if let Some(d) = edns_do {
                m.set_edns(our_edns(d));
            }
            if let Ok(v) = m.to_vec() {
                out.extend_from_slice(&v);
            }
            Action::Respond
        };
        if msg.metadata.op_code != OpCode::Query {
            return error(ResponseCode::NotImp, out);
        }
        if msg.queries.len() != 1 {
            return error(ResponseCode::FormErr, out);
        }
        if msg.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return error(ResponseCode::BADVERS, out);
        }
        let q = &msg.queries[0];
        if q.query_class() != DNSClass::IN {
            return error(ResponseCode::Refused, out);
        }
        if matches!(q.query_type(), RecordType::AXFR | RecordType::IXFR) {
            return error(ResponseCode::Refused, out);
        }
        match self.zones.resolve(q.name(), q.query_type()) {
            Outcome::NotOurs => {
                if self.may_recurse(client) && !self.forwarders.is_empty() {
                    Action::Forward
                } else {
                    metrics.refused_recursion.inc();
                    error(ResponseCode::Refused, out)
                }
            }
            Outcome::Answer(ans) => match encode(q, &ans, id, edns_do, max) {
                Ok(v) => {
                    out.extend_from_slice(&v);
                    out[2] |= u8::from(rd);
                    out[3] |= u8::from(msg.metadata.checking_disabled) << 4;
                    if self.may_recurse(client) {
                        out[3] |= 0x80;
                    }
                    Action::Respond
                }
                Err(_) => error(ResponseCode::ServFail, out),
            },
        }
    }
}

fn our_edns(dnssec_ok: bool) -> Edns {
    let mut e = Edns::new();
    e.set_max_payload(OUR_UDP_PAYLOAD);
    e.set_dnssec_ok(dnssec_ok);
    e
}

/// The wire form of a (lower-case) name, uncompressed.
fn name_wire(name: &Name) -> Vec<u8> {
    let mut v = Vec::with_capacity(name.len() + 2);
    for label in name.iter() {
        v.push(label.len() as u8);
        v.extend_from_slice(label);
    }
    v.push(0);
    v
}

/// Encodes an answer for `q`; `edns` = the query's DO bit if it had EDNS.
/// Longer than `max` → header, question and OPT only, TC set.
pub fn encode(
    q: &Query,
    ans: &Answer,
    id: u16,
    edns: Option<bool>,
    max: usize,
) -> Result<Vec<u8>, hickory_proto::ProtoError> {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = ans.authoritative;
    m.metadata.response_code = ans.rcode.0;
    m.add_query(q.clone());
    m.add_answers(ans.answers.iter().cloned());
    m.add_authorities(ans.authority.iter().cloned());
    m.add_additionals(ans.additional.iter().cloned());
    if let Some(d) = edns {
        m.set_edns(our_edns(d));
    }
    let v = m.to_vec()?;
    if v.len() <= max {
        return Ok(v);
    }
    m.truncate().to_vec()
}
