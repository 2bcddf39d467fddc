//! The UDP fast path's hand-written query parser: header, one question and
//! at most one OPT record, bounded and panic-free on any input. Anything it
//! does not recognise goes to the slow path (hickory's full parser).

/// Longest wire-form name (RFC 1035 §3.1).
pub const MAX_NAME: usize = 255;
/// Lookup key: lower-cased wire name + big-endian qtype.
pub const MAX_KEY: usize = MAX_NAME + 2;

/// EDNS(0) as the query carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdnsInfo {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
}

/// A query the fast path can answer from the table.
#[derive(Debug, Clone)]
pub struct FastQuery {
    pub id: u16,
    /// Header bytes 2 and 3 (QR/opcode/AA/TC/RD, RA/Z/AD/CD/rcode).
    pub flags: [u8; 2],
    /// The question name ends here (it starts at 12).
    pub qname_end: usize,
    pub key: [u8; MAX_KEY],
    pub key_len: usize,
    pub qtype: u16,
    pub edns: Option<EdnsInfo>,
}

impl FastQuery {
    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len]
    }
}

/// What the fast parser made of a packet.
#[derive(Debug, Clone)]
pub enum Parsed {
    Fast(Box<FastQuery>),
    /// Valid-looking but unusual (opcode, counts, class, OPT version,
    /// compression in the question, trailing data): the slow path decides.
    Slow,
    /// Not a query at all (too short, or a response): never answered.
    Drop,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let hi = *b.get(at)?;
    let lo = *b.get(at + 1)?;
    Some(u16::from_be_bytes([hi, lo]))
}

/// Parses a UDP query for the fast path.
pub fn parse_query(pkt: &[u8]) -> Parsed {
    if pkt.len() < 12 {
        return Parsed::Drop;
    }
    let flags = [pkt[2], pkt[3]];
    if flags[0] & 0x80 != 0 {
        return Parsed::Drop; // a response: answering could loop
    }
    // opcode QUERY, TC clear; counts 1/0/0/0..1
    if flags[0] & 0x7a != 0 {
        return Parsed::Slow;
    }
    let (Some(qd), Some(an), Some(ns), Some(ar)) =
        (be16(pkt, 4), be16(pkt, 6), be16(pkt, 8), be16(pkt, 10))
    else {
        return Parsed::Slow;
    };
    if qd != 1 || an != 0 || ns != 0 || ar > 1 {
        return Parsed::Slow;
    }
    let mut q = FastQuery {
        id: u16::from_be_bytes([pkt[0], pkt[1]]),
        flags,
        qname_end: 0,
        key: [0; MAX_KEY],
        key_len: 0,
        qtype: 0,
        edns: None,
    };
    let mut at = 12usize;
    loop {
        let Some(&len) = pkt.get(at) else {
            return Parsed::Slow;
        };
        let len = usize::from(len);
        if len > 63 {
            return Parsed::Slow; // compression pointer or reserved label type
        }
        let end = at + 1 + len;
        if end - 12 > MAX_NAME || end > pkt.len() {
            return Parsed::Slow;
        }
        for (k, b) in q.key[at - 12..end - 12].iter_mut().zip(&pkt[at..end]) {
            *k = b.to_ascii_lowercase();
        }
        at = end;
        if len == 0 {
            break;
        }
    }
    q.qname_end = at;
    let (Some(qtype), Some(qclass)) = (be16(pkt, at), be16(pkt, at + 2)) else {
        return Parsed::Slow;
    };
    if qclass != 1 {
        return Parsed::Slow;
    }
    let name_len = at - 12;
    q.key[name_len..name_len + 2].copy_from_slice(&qtype.to_be_bytes());
    q.key_len = name_len + 2;
    q.qtype = qtype;
    at += 4;
    if ar == 1 {
        // root name, TYPE OPT, CLASS payload, TTL ext-rcode/version/flags, RDLEN
        if pkt.get(at) != Some(&0) || be16(pkt, at + 1) != Some(41) {
            return Parsed::Slow;
        }
        let (Some(payload), Some(rdlen)) = (be16(pkt, at + 3), be16(pkt, at + 9)) else {
            return Parsed::Slow;
        };
        let (Some(&version), Some(&dflags)) = (pkt.get(at + 6), pkt.get(at + 7)) else {
            return Parsed::Slow;
        };
        let end = at + 11 + usize::from(rdlen);
        if end != pkt.len() || version != 0 {
            return Parsed::Slow;
        }
        q.edns = Some(EdnsInfo {
            payload,
            version,
            dnssec_ok: dflags & 0x80 != 0,
        });
    } else if at != pkt.len() {
        return Parsed::Slow;
    }
    Parsed::Fast(Box::new(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[&str], qtype: u16, edns: bool) -> Vec<u8> {
        let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)];
        for l in name {
            p.push(l.len() as u8);
            p.extend_from_slice(l.as_bytes());
        }
        p.push(0);
        p.extend_from_slice(&qtype.to_be_bytes());
        p.extend_from_slice(&[0, 1]);
        if edns {
            p.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]);
        }
        p
    }

    #[test]
    fn parses_plain_and_edns_queries() {
        let Parsed::Fast(q) = parse_query(&query(&["Host1", "MAAS"], 1, false)) else {
            panic!("not fast");
        };
        assert_eq!(q.id, 0x1234);
        assert_eq!(q.key(), b"\x05host1\x04maas\x00\x00\x01");
        assert_eq!(q.qname_end, 12 + 12);
        assert!(q.edns.is_none());
        let Parsed::Fast(q) = parse_query(&query(&["a"], 28, true)) else {
            panic!("not fast");
        };
        assert_eq!(
            q.edns,
            Some(EdnsInfo {
                payload: 1232,
                version: 0,
                dnssec_ok: true
            })
        );
    }

    #[test]
    fn unusual_queries_go_slow_and_junk_is_dropped() {
        assert!(matches!(parse_query(&[0; 5]), Parsed::Drop));
        let mut resp = query(&["a"], 1, false);
        resp[2] |= 0x80;
        assert!(matches!(parse_query(&resp), Parsed::Drop));
        let mut trailing = query(&["a"], 1, false);
        trailing.push(0);
        assert!(matches!(parse_query(&trailing), Parsed::Slow));
        let truncated = query(&["abc"], 1, false);
        for cut in 12..truncated.len() {
            assert!(matches!(parse_query(&truncated[..cut]), Parsed::Slow));
        }
        let mut chaos = query(&["a"], 16, false);
        let n = chaos.len();
        chaos[n - 1] = 3;
        assert!(matches!(parse_query(&chaos), Parsed::Slow));
        let mut pointer = query(&["a"], 1, false);
        pointer[12] = 0xc0;
        assert!(matches!(parse_query(&pointer), Parsed::Slow));
    }
}
