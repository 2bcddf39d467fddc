//! Identifiers: MAAS-style `system_id`s and generated hostnames.

use rand::Rng;

/// The base-24 alphabet MAAS uses for system ids (no look-alike characters).
pub const SYSTEM_ID_ALPHABET: &[u8; 24] = b"34678abcdefghkmnpqrstwxy";

/// Encode `n` in the system-id alphabet.
pub fn znum(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(SYSTEM_ID_ALPHABET[(n % 24) as usize]);
        n /= 24;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("alphabet is ASCII")
}

/// A random 6-character system id, from [24^5, 24^6) like MAAS.
pub fn new_system_id() -> String {
    let lo = 24u64.pow(5);
    let hi = 24u64.pow(6);
    znum(rand::rng().random_range(lo..hi))
}

pub fn is_valid_system_id(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| SYSTEM_ID_ALPHABET.contains(&b))
}

/// A machine's (or controller's) `system_id`. Parsing refuses what no
/// system id can be (empty, over 64 bytes, anything but ASCII letters, digits,
/// `-` and `_`), so such input never reaches a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SystemId(String);

impl SystemId {
    /// A fresh random id.
    pub fn new_random() -> SystemId {
        SystemId(new_system_id())
    }

    pub fn parse(s: &str) -> Option<SystemId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| SystemId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SystemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const ADJECTIVES: &[&str] = &[
    "able", "bold", "brave", "calm", "clear", "cool", "crisp", "eager", "fair", "fine", "fleet",
    "fresh", "glad", "grand", "happy", "keen", "kind", "light", "lucky", "merry", "neat", "noble",
    "prime", "proud", "quick", "quiet", "rapid", "ready", "sharp", "smart", "solid", "sound",
    "steady", "sunny", "swift", "tidy", "true", "vivid", "warm", "wise",
];
const ANIMALS: &[&str] = &[
    "badger", "bison", "crane", "dingo", "eagle", "egret", "ferret", "finch", "gecko", "gopher",
    "heron", "ibex", "koala", "lemur", "lynx", "marten", "mole", "moose", "newt", "okapi", "otter",
    "panda", "puffin", "quail", "raven", "robin", "seal", "shrew", "skink", "sloth", "stoat",
    "swift", "tapir", "tern", "toad", "trout", "vole", "walrus", "wombat", "yak",
];

/// A readable hostname (`adjective-animal`) for machines created without one.
pub fn new_hostname() -> String {
    let mut r = rand::rng();
    format!(
        "{}-{}",
        ADJECTIVES[r.random_range(0..ADJECTIVES.len())],
        ANIMALS[r.random_range(0..ANIMALS.len())]
    )
}

/// RFC 1123 host label rules, which MAAS applies to hostnames.
pub fn is_valid_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A hostname as given: a host label, or a host label and the domain after
/// its first dot (`web1.example.com` → `web1`, `example.com`). Every label
/// must be valid; `a..b` and `w.` are refused.
pub fn split_fqdn(name: &str) -> Result<(&str, Option<&str>), String> {
    let (host, domain) = match name.split_once('.') {
        Some((h, d)) => (h, Some(d)),
        None => (name, None),
    };
    let bad = || format!("'{name}' is not a valid hostname.");
    if !is_valid_hostname(host) {
        return Err(bad());
    }
    if let Some(d) = domain
        && (d.len() > 253 || !d.split('.').all(is_valid_hostname))
    {
        return Err(bad());
    }
    Ok((host, domain))
}

/// Normalise a MAC address to lower-case colon form; `None` if malformed.
pub fn normalize_mac(s: &str) -> Option<String> {
    let t = s.trim();
    let groups: Vec<&str> = if t.contains(':') {
        t.split(':').collect()
    } else if t.contains('-') {
        t.split('-').collect()
    } else if t.contains('.') {
        t.split('.').collect()
    } else {
        vec![t]
    };
    let width = match groups.len() {
        6 => 2,
        3 => 4,
        1 => 12,
        _ => return None,
    };
    if groups
        .iter()
        .any(|g| g.len() != width || !g.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    let lower = groups.concat().to_ascii_lowercase();
    Some(
        (0..6)
            .map(|i| &lower[i * 2..i * 2 + 2])
            .collect::<Vec<_>>()
            .join(":"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids_are_six_chars_of_the_alphabet() {
        for _ in 0..1000 {
            let id = new_system_id();
            assert!(is_valid_system_id(&id), "{id}");
        }
        assert_eq!(znum(0), "3");
        assert_eq!(znum(24), "43");
        assert_eq!(znum(24u64.pow(5)).len(), 6);
        assert!(!is_valid_system_id("abc"));
        assert!(!is_valid_system_id("00000a"));
    }

    #[test]
    fn system_id_parsing_refuses_impossible_ids() {
        let id = SystemId::new_random();
        assert_eq!(SystemId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.to_string(), id.as_str());
        for bad in ["", "a\0b", "a/b", "a b", "..", &"x".repeat(65)] {
            assert_eq!(SystemId::parse(bad), None, "{bad:?}");
        }
        assert!(SystemId::parse("rk4444").is_some());
    }

    #[test]
    fn macs() {
        assert_eq!(
            normalize_mac("52:54:00:AB:cd:01").as_deref(),
            Some("52:54:00:ab:cd:01")
        );
        assert_eq!(
            normalize_mac("52-54-00-ab-cd-01").as_deref(),
            Some("52:54:00:ab:cd:01")
        );
        assert_eq!(
            normalize_mac("525400abcd01").as_deref(),
            Some("52:54:00:ab:cd:01")
        );
        assert_eq!(
            normalize_mac("5254.00ab.cd01").as_deref(),
            Some("52:54:00:ab:cd:01")
        );
        assert_eq!(normalize_mac("52:54:00:ab:cd"), None);
        assert_eq!(normalize_mac("zz:54:00:ab:cd:01"), None);
        assert_eq!(normalize_mac("52:5400:ab:cd:01:"), None);
    }

    #[test]
    fn fqdns_split_at_the_first_dot() {
        assert_eq!(split_fqdn("web1"), Ok(("web1", None)));
        assert_eq!(
            split_fqdn("web1.example.com"),
            Ok(("web1", Some("example.com")))
        );
        for bad in ["a..b", "w.", ".x", "-a.b", "a.-b", "a b.c", ""] {
            assert!(split_fqdn(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hostnames() {
        assert!(is_valid_hostname(&new_hostname()));
        assert!(!is_valid_hostname("-bad"));
        assert!(!is_valid_hostname("has space"));
        assert!(!is_valid_hostname(""));
    }
}
