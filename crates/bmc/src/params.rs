//! Reading MAAS power parameters.

use std::collections::BTreeMap;

use crate::error::{PowerError, Result};

/// A parameter, trimmed; `None` when missing or empty.
pub fn get<'a>(p: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

pub fn require<'a>(p: &'a BTreeMap<String, String>, k: &str) -> Result<&'a str> {
    get(p, k).ok_or_else(|| PowerError::BadParameters(format!("{k} is required")))
}

/// MAAS booleans ("true", "1", "yes", "on"; and their opposites).
pub fn flag(p: &BTreeMap<String, String>, k: &str, default: bool) -> Result<bool> {
    match get(p, k).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" | "on" | "y" => Ok(true),
            "false" | "0" | "no" | "off" | "n" => Ok(false),
            _ => Err(PowerError::BadParameters(format!(
                "{k}={v:?} is not a boolean"
            ))),
        },
    }
}

/// Split `host[:port]`, `[v6]:port` or a bare IPv6 address.
pub fn host_port(addr: &str, default_port: u16) -> Result<(String, u16)> {
    let bad = || PowerError::BadParameters(format!("power_address {addr:?} is not host[:port]"));
    if addr.is_empty() || addr.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    if let Some(rest) = addr.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if tail.is_empty() => default_port,
            None => return Err(bad()),
        };
        return Ok((h.to_string(), port));
    }
    match addr.matches(':').count() {
        0 => Ok((addr.to_string(), default_port)),
        1 => {
            let (h, p) = addr.split_once(':').ok_or_else(bad)?;
            if h.is_empty() {
                return Err(bad());
            }
            Ok((h.to_string(), p.parse().map_err(|_| bad())?))
        }
        _ => Ok((addr.to_string(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            host_port("10.0.0.1", 623).unwrap(),
            ("10.0.0.1".into(), 623)
        );
        assert_eq!(
            host_port("bmc.example:6230", 623).unwrap(),
            ("bmc.example".into(), 6230)
        );
        assert_eq!(
            host_port("[fd00::1]:700", 623).unwrap(),
            ("fd00::1".into(), 700)
        );
        assert_eq!(host_port("fd00::1", 623).unwrap(), ("fd00::1".into(), 623));
        assert!(host_port("h:notaport", 623).is_err());
        assert!(host_port("", 623).is_err());
        assert!(host_port(":5", 623).is_err());
        assert!(host_port("[::1]x", 623).is_err());
    }
}
