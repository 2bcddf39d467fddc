//! Raw-packet helpers around dhcproto: the fixed header fields read
//! without trusting `hlen`, option TLVs scanned without allocating, and
//! the reply's option 53 moved first (some PXE ROMs expect it there).

use std::net::Ipv4Addr;

use crate::config::Hw;

pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
pub const HEADER_LEN: usize = 236;

/// The BOOTP header fields the engine uses, read straight from the bytes.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub op: u8,
    pub htype: u8,
    pub hw: Hw,
    pub hops: u8,
    pub xid: u32,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// None unless `b` is at least a BOOTP header plus the DHCP cookie.
pub fn header(b: &[u8]) -> Option<Header> {
    if b.len() < HEADER_LEN + 4 || b[HEADER_LEN..HEADER_LEN + 4] != MAGIC {
        return None;
    }
    let hlen = b[2];
    if hlen == 0 || hlen > 16 {
        return None;
    }
    Some(Header {
        op: b[0],
        htype: b[1],
        hw: Hw::from_slice(&b[28..28 + hlen as usize]),
        hops: b[3],
        xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        flags: u16::from_be_bytes([b[10], b[11]]),
        ciaddr: ip_at(b, 12),
        giaddr: ip_at(b, 24),
    })
}

/// The raw value of the first instance of option `code` (None if absent or
/// the options are truncated before it).
pub fn raw_option(b: &[u8], code: u8) -> Option<&[u8]> {
    let mut i = HEADER_LEN + 4;
    while i < b.len() {
        let c = b[i];
        if c == 0 {
            i += 1;
            continue;
        }
        if c == 255 {
            return None;
        }
        let len = *b.get(i + 1)? as usize;
        let v = b.get(i + 2..i + 2 + len)?;
        if c == code {
            return Some(v);
        }
        i += 2 + len;
    }
    None
}

/// Moves option `code` to the front of the options area (in place).
pub fn move_first(b: &mut [u8], code: u8) {
    let start = HEADER_LEN + 4;
    let mut i = start;
    while i + 1 < b.len() {
        let c = b[i];
        if c == 0 {
            i += 1;
            continue;
        }
        if c == 255 {
            return;
        }
        let len = b[i + 1] as usize;
        if i + 2 + len > b.len() {
            return;
        }
        if c == code {
            if i != start {
                b[start..i + 2 + len].rotate_right(2 + len);
            }
            return;
        }
        i += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_an_option_first_and_keeps_the_rest() {
        let mut b = vec![0u8; HEADER_LEN];
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&[1, 4, 255, 255, 255, 0, 53, 1, 2, 54, 4, 10, 0, 0, 1, 255]);
        move_first(&mut b, 53);
        assert_eq!(
            &b[HEADER_LEN + 4..],
            &[53, 1, 2, 1, 4, 255, 255, 255, 0, 54, 4, 10, 0, 0, 1, 255]
        );
        assert_eq!(raw_option(&b, 54), Some(&[10, 0, 0, 1][..]));
        assert_eq!(raw_option(&b, 82), None);
    }

    #[test]
    fn rejects_short_packets_and_bad_hlen() {
        assert!(header(&[0u8; 100]).is_none());
        let mut b = vec![0u8; HEADER_LEN];
        b.extend_from_slice(&MAGIC);
        b[2] = 17;
        assert!(header(&b).is_none());
        b[2] = 6;
        assert!(header(&b).is_some());
    }
}
