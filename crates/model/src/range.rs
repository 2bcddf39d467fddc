//! The `Range` request header (RFC 9110 §14), single byte ranges only.

/// What part of a `len`-byte file to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// No usable Range header: 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416.
    Unsatisfiable,
}

/// Interpret a Range header. Headers we do not understand (other units,
/// several ranges, bad syntax) are ignored, as the RFC allows.
pub fn parse_range(header: Option<&[u8]>, len: u64) -> RangeSpec {
    let Some(h) = header.and_then(|h| std::str::from_utf8(h).ok()) else {
        return RangeSpec::Full;
    };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return RangeSpec::Full;
    };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // suffix: the last n bytes
        let Ok(n) = b.parse::<u64>() else {
            return RangeSpec::Full;
        };
        if n == 0 || len == 0 {
            return RangeSpec::Unsatisfiable;
        }
        return RangeSpec::Partial {
            start: len - n.min(len),
            end: len - 1,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeSpec::Full;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeSpec::Full,
        }
    };
    if start >= len {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Partial {
        start,
        end: end.min(len - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(h: &str, len: u64) -> RangeSpec {
        parse_range(Some(h.as_bytes()), len)
    }

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(r("bytes=0-3", 10), Partial { start: 0, end: 3 });
        assert_eq!(r("bytes=4-", 10), Partial { start: 4, end: 9 });
        assert_eq!(r("bytes=-3", 10), Partial { start: 7, end: 9 });
        assert_eq!(r("bytes=-30", 10), Partial { start: 0, end: 9 });
        assert_eq!(r("bytes=5-100", 10), Partial { start: 5, end: 9 });
        assert_eq!(r("bytes=10-", 10), Unsatisfiable);
        assert_eq!(r("bytes=-0", 10), Unsatisfiable);
        assert_eq!(r("bytes=0-", 0), Unsatisfiable);
        assert_eq!(r("bytes=3-2", 10), Full);
        assert_eq!(r("bytes=0-1,3-4", 10), Full);
        assert_eq!(r("items=0-1", 10), Full);
        assert_eq!(r("bytes=x-1", 10), Full);
    }
}
