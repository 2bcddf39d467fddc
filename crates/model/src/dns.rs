//! DNS: name and record-data rules as MAAS applies them (domains,
//! DNS resources, DNS resource records), and a zone's content as the rack
//! will serve it.

use crate::NodeStatus;

/// Record types `dnsresourcerecords/` takes (addresses go through
/// `dnsresources/`' `ip_addresses`).
pub const SUPPORTED_RRTYPES: [&str; 6] = ["CNAME", "MX", "NS", "SRV", "SSHFP", "TXT"];
/// A domain's TTL: 1 s … 1 week.
pub const DOMAIN_TTL_MAX: i64 = 604_800;
/// A record's or an address's TTL: 0 … 2³¹-1.
pub const RECORD_TTL_MAX: i64 = (1 << 31) - 1;
/// The SOA serial: 1 … 2³²-1.
pub const SERIAL_MAX: i64 = 4_294_967_295;
/// Names with a meaning of their own: the zone apex and the wildcard.
pub const SPECIAL_NAMES: [&str; 3] = ["", "@", "*"];

pub const INVALID_CNAME: &str = "Invalid CNAME: Should be '<server>'.";
pub const INVALID_MX: &str =
    "Invalid MX: Should be '<preference> <server>'. Range for preference is 0-65535.";
pub const INVALID_SRV: &str = "Invalid SRV: Should be '<priority> <weight> <port> <server>'. \
     Range for priority, weight, and port are 0-65536.";
pub const INVALID_SSHFP: &str = "Invalid SSHFP: Should be '<algorithm> <fptype> <fingerprint>'.";
pub const CNAME_AND_OTHER: &str = "CNAME records for a name cannot coexist with non-CNAME records.";
pub const MULTI_CNAME: &str = "Only one CNAME can be associated with a name.";
pub const CNAME_PRESENT: &str = "Cannot add address: CNAME present.";
pub const LABEL_TAKEN: &str = "Labels must be unique within their zone.";

/// Machines in these statuses keep their domain when the default domain
/// changes (allocated, deployed, or booted into an ephemeral environment:
/// a DNS change then could break what runs).
pub const KEEP_DOMAIN_ON_DEFAULT_CHANGE: [NodeStatus; 15] = [
    NodeStatus::Commissioning,
    NodeStatus::Deployed,
    NodeStatus::Deploying,
    NodeStatus::Allocated,
    NodeStatus::FailedDeployment,
    NodeStatus::Releasing,
    NodeStatus::FailedReleasing,
    NodeStatus::DiskErasing,
    NodeStatus::FailedDiskErasing,
    NodeStatus::RescueMode,
    NodeStatus::EnteringRescueMode,
    NodeStatus::FailedEnteringRescueMode,
    NodeStatus::ExitingRescueMode,
    NodeStatus::FailedExitingRescueMode,
    NodeStatus::Testing,
];

/// One resource record of a zone; `name` is relative to the zone (`@` is
/// the apex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    pub name: String,
    pub rrtype: String,
    pub rrdata: String,
    pub ttl: u32,
}

/// A domain's full zone: every record from DNS resources (addresses and
/// other data) and machines' addresses under their hostnames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub domain_id: i64,
    pub name: String,
    pub authoritative: bool,
    /// The domain's TTL (its own, else the default).
    pub ttl: u32,
    pub serial: u32,
    pub records: Vec<Record>,
}

/// The TTL a record gets: its own, else its domain's, else the default
/// (each clamped to what a zone file takes).
pub fn effective_ttl(own: Option<i64>, domain: Option<i64>, default: i64) -> u32 {
    own.or(domain).unwrap_or(default).clamp(0, RECORD_TTL_MAX) as u32
}

/// A host label: 1-63 letters, digits and inner hyphens.
pub fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `_` followed by a label (an SRV service or protocol).
fn is_srv_label(s: &str) -> bool {
    s.strip_prefix('_').is_some_and(is_label)
}

/// Labels separated by dots, one trailing dot allowed.
fn is_namespec(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty() && s.split('.').all(is_label)
}

/// A domain name as MAAS validates one (also the host of MX, NS and SRV
/// records); the message is MAAS's.
pub fn check_domain_name(v: &str) -> Result<(), String> {
    if v.len() > 255 {
        return Err("Domain name length cannot exceed 255 characters.".into());
    }
    if !is_namespec(v) {
        if v.chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        {
            return Err("Domain name contains invalid characters.".into());
        }
        return Err(format!("Invalid domain name: {v}."));
    }
    Ok(())
}

/// The name of a DNS resource: one label (an SRV record's name is
/// `_service._proto`, optionally with one more label), or a special name.
pub fn check_resource_name(name: &str, rrtype: &str) -> Result<(), String> {
    if SPECIAL_NAMES.contains(&name) {
        return Ok(());
    }
    let ok = if rrtype == "SRV" {
        let parts: Vec<&str> = name.split('.').collect();
        matches!(parts.len(), 2 | 3)
            && is_srv_label(parts[0])
            && is_srv_label(parts[1])
            && parts.get(2).is_none_or(|l| is_label(l))
    } else {
        is_label(name)
    };
    if ok {
        Ok(())
    } else {
        Err(format!("Invalid dnsresource name: {name}."))
    }
}

/// A record type `dnsresourcerecords/` accepts, upper-cased.
pub fn check_rrtype(t: &str) -> Result<String, String> {
    let u = t.to_uppercase();
    if SUPPORTED_RRTYPES.contains(&u.as_str()) {
        Ok(u)
    } else {
        Err(format!(
            "{u} is not one of {}.",
            SUPPORTED_RRTYPES.join(" ")
        ))
    }
}

/// Leading decimal numbers separated by whitespace: `n` numbers, then the
/// rest after at least one whitespace (None if the shape does not match).
fn numbers_then_rest(s: &str, n: usize) -> Option<(Vec<u128>, &str)> {
    let mut rest = s;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        // Longer than any u128: out of every range anyway.
        out.push(rest[..end].parse::<u128>().unwrap_or(u128::MAX));
        let after = &rest[end..];
        let trimmed = after.trim_start();
        if trimmed.len() == after.len() {
            return None;
        }
        rest = trimmed;
    }
    Some((out, rest))
}

fn is_cname_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    !b.is_empty()
        && b.len() <= 64
        && edge(&b[0])
        && edge(&b[b.len() - 1])
        && b.iter().all(|c| edge(c) || *c == b'-')
}

/// The record data for `rrtype` (upper-cased), as MAAS checks it.
pub fn check_rrdata(rrtype: &str, data: &str) -> Result<(), String> {
    match rrtype {
        "CNAME" => {
            let d = data.strip_suffix('.').unwrap_or(data);
            if d.is_empty() || !d.split('.').all(is_cname_label) {
                return Err(INVALID_CNAME.into());
            }
        }
        "SSHFP" if numbers_then_rest(data, 2).is_none() => {
            return Err(INVALID_SSHFP.into());
        }
        "MX" => {
            let (n, host) = numbers_then_rest(data, 1).ok_or(INVALID_MX)?;
            if host.is_empty() || n[0] > 65535 {
                return Err(INVALID_MX.into());
            }
            check_domain_name(host)?;
        }
        "NS" => check_domain_name(data)?,
        "SRV" => {
            let (n, target) = numbers_then_rest(data, 3).ok_or(INVALID_SRV)?;
            if n.iter().any(|v| *v > 65535) {
                return Err(INVALID_SRV.into());
            }
            if target != "." {
                check_domain_name(target)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Split an FQDN that is not itself a domain into (name, domain): the
/// first label (for SRV, `_service._proto`), and the rest.
pub fn split_fqdn(fqdn: &str, rrtype: Option<&str>) -> Option<(String, String)> {
    let parts: Vec<&str> = fqdn.split('.').collect();
    let take = if rrtype == Some("SRV") {
        if parts.len() < 3 || !is_srv_label(parts[0]) || !is_srv_label(parts[1]) {
            return None;
        }
        2
    } else {
        if parts.len() < 2 || !is_label(parts[0]) {
            return None;
        }
        1
    };
    let domain = parts[take..].join(".");
    if !is_namespec(&domain) {
        return None;
    }
    Some((parts[..take].join("."), domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        assert!(check_domain_name("example.com").is_ok());
        assert!(check_domain_name("example.com.").is_ok());
        assert_eq!(
            check_domain_name("bad_name").unwrap_err(),
            "Domain name contains invalid characters."
        );
        assert_eq!(
            check_domain_name("-bad.com").unwrap_err(),
            "Invalid domain name: -bad.com."
        );
        assert!(check_domain_name("a..b").is_err());
        assert!(check_domain_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn resource_names() {
        assert!(check_resource_name("www", "A").is_ok());
        assert!(check_resource_name("@", "A").is_ok());
        assert!(check_resource_name("a.b", "A").is_err());
        assert!(check_resource_name("_ldap._tcp", "SRV").is_ok());
        assert!(check_resource_name("ldap._tcp", "SRV").is_err());
        assert!(check_resource_name("ldap", "SRV").is_err());
    }

    #[test]
    fn rrtypes() {
        assert_eq!(check_rrtype("mx").unwrap(), "MX");
        assert_eq!(
            check_rrtype("a").unwrap_err(),
            "A is not one of CNAME MX NS SRV SSHFP TXT."
        );
    }

    #[test]
    fn rrdata() {
        assert!(check_rrdata("CNAME", "www.example.com.").is_ok());
        assert!(check_rrdata("CNAME", "bad host").is_err());
        assert!(check_rrdata("MX", "10 mail.example.com").is_ok());
        assert_eq!(check_rrdata("MX", "mail").unwrap_err(), INVALID_MX);
        assert_eq!(check_rrdata("MX", "70000 mail").unwrap_err(), INVALID_MX);
        assert!(check_rrdata("MX", "10 bad_host").is_err());
        assert!(check_rrdata("NS", "ns1.example.com").is_ok());
        assert!(check_rrdata("NS", "bad host").is_err());
        assert!(check_rrdata("SRV", "0 5 5060 sip.example.com").is_ok());
        assert!(check_rrdata("SRV", "0 5 5060 .").is_ok());
        assert_eq!(check_rrdata("SRV", "0 5 sip").unwrap_err(), INVALID_SRV);
        assert_eq!(
            check_rrdata("SRV", "0 5 70000 sip").unwrap_err(),
            INVALID_SRV
        );
        assert!(check_rrdata("SSHFP", "1 2 abcdef").is_ok());
        assert_eq!(check_rrdata("SSHFP", "x 2 ab").unwrap_err(), INVALID_SSHFP);
        assert!(check_rrdata("TXT", "anything at all").is_ok());
    }

    #[test]
    fn fqdn_split() {
        assert_eq!(
            split_fqdn("www.example.com", None),
            Some(("www".into(), "example.com".into()))
        );
        assert_eq!(
            split_fqdn("_sip._tcp.example", Some("SRV")),
            Some(("_sip._tcp".into(), "example".into()))
        );
        assert_eq!(split_fqdn("nodots", None), None);
    }

    #[test]
    fn ttls() {
        assert_eq!(effective_ttl(Some(5), Some(10), 30), 5);
        assert_eq!(effective_ttl(None, Some(10), 30), 10);
        assert_eq!(effective_ttl(None, None, 30), 30);
    }
}
