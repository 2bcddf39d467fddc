//! MAC addresses as machines and iPXE spell them.

use std::fmt;

/// A 48-bit MAC address. Displays as `52:54:00:01:02:03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Parse `52:54:00:01:02:03`, `52-54-00-01-02-03` (iPXE `${mac:hexhyp}`),
    /// `525400010203`, or PXELINUX's `01-52-54-00-01-02-03` (hardware type 1
    /// prefix). Case-insensitive. Anything else is `None`; never panics.
    pub fn parse(s: &str) -> Option<Mac> {
        let s = s.trim();
        if s.len() > 20 {
            return None;
        }
        let body = match s.len() {
            20 if s.starts_with("01-") || s.starts_with("01:") => &s[3..],
            _ => s,
        };
        let digits: Vec<u8> = match body.len() {
            12 => body.bytes().collect(),
            17 => {
                let b = body.as_bytes();
                let sep = b[2];
                if sep != b':' && sep != b'-' {
                    return None;
                }
                let mut out = Vec::with_capacity(12);
                for (i, c) in b.iter().enumerate() {
                    if i % 3 == 2 {
                        if *c != sep {
                            return None;
                        }
                    } else {
                        out.push(*c);
                    }
                }
                out
            }
            _ => return None,
        };
        let mut mac = [0u8; 6];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = hex(pair[0])?;
            let lo = hex(pair[1])?;
            mac[i] = (hi << 4) | lo;
        }
        Some(Mac(mac))
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Mac;

    #[test]
    fn spellings() {
        let want = "52:54:00:0a:bb:0c";
        for s in [
            "52:54:00:0a:bb:0c",
            "52-54-00-0A-BB-0C",
            "5254000abb0c",
            "01-52-54-00-0a-bb-0c",
            " 52:54:00:0a:bb:0c ",
        ] {
            assert_eq!(
                Mac::parse(s).map(|m| m.to_string()).as_deref(),
                Some(want),
                "{s}"
            );
        }
    }

    #[test]
    fn refusals() {
        for s in [
            "",
            "52:54:00:0a:bb",
            "52:54-00:0a:bb:0c",
            "zz:54:00:0a:bb:0c",
            "52:54:00:0a:bb:0c:00",
            "é2:54:00:0a:bb:0",
            "5254000abb0g",
        ] {
            assert_eq!(Mac::parse(s), None, "{s}");
        }
    }
}
