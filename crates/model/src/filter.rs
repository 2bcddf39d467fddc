//! One filter over machines. A listing's read filters (`machines/?hostname=…`)
//! and an allocation's constraints (`op=allocate`) both become a
//! [`MachineFilter`]; the store translates it to SQL in one place. The rules
//! that are checked both in Rust and in SQL (who may see a machine, what an
//! architecture pattern matches) are defined here once.

use crate::NodeStatus;
use crate::constraints::{Constraints, FieldErrors, Params};
use crate::{ids, power};

/// A field must be one of `any` (when not empty) and none of `none`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnyNone<T> {
    pub any: Vec<T>,
    pub none: Vec<T>,
}

impl<T> Default for AnyNone<T> {
    fn default() -> Self {
        AnyNone {
            any: Vec::new(),
            none: Vec::new(),
        }
    }
}

impl<T> AnyNone<T> {
    pub fn any(any: Vec<T>) -> Self {
        AnyNone {
            any,
            none: Vec::new(),
        }
    }
}

/// An architecture as a filter names it: `amd64/generic` exactly, or `amd64`
/// with any sub-architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arch {
    Exact(String),
    Base(String),
}

impl Arch {
    pub fn parse(wanted: &str) -> Arch {
        if wanted.contains('/') {
            Arch::Exact(wanted.to_string())
        } else {
            Arch::Base(wanted.to_string())
        }
    }

    /// Whether a machine's architecture (`amd64/generic`) matches.
    pub fn matches(&self, machine_arch: &str) -> bool {
        match self {
            Arch::Exact(a) => machine_arch == a,
            Arch::Base(b) => machine_arch.split('/').next() == Some(b.as_str()),
        }
    }
}

/// Who may see a machine: the rule behind both `can_view` checks and the
/// visibility predicate of every machine query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Admins see every machine.
    #[default]
    All,
    /// Users see unowned machines and their own.
    UnownedOr(i64),
}

impl Visibility {
    pub fn of(user_id: i64, is_admin: bool) -> Visibility {
        if is_admin {
            Visibility::All
        } else {
            Visibility::UnownedOr(user_id)
        }
    }

    pub fn allows(self, owner: Option<i64>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::UnownedOr(u) => owner.is_none() || owner == Some(u),
        }
    }
}

/// Whether a user may change a machine (act on it, set its owner data).
pub fn can_edit(user_id: i64, is_admin: bool, owner: Option<i64>) -> bool {
    is_admin || owner == Some(user_id)
}

/// Which machines a query is about. Every field narrows; the default is every
/// machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineFilter {
    pub visibility: Visibility,
    /// Exactly this owner (`list_allocated`).
    pub owner_id: Option<i64>,
    /// Only machines nobody owns (allocation).
    pub unowned: bool,
    /// Exactly this row (one allocation candidate).
    pub id: Option<i64>,
    /// Rows after this id (pagination cursor).
    pub after_id: Option<i64>,
    pub system_id: AnyNone<String>,
    /// Short hostnames.
    pub hostname: AnyNone<String>,
    /// Domain names.
    pub domain: AnyNone<String>,
    /// Normalised MACs; a machine matches with any of its interfaces.
    pub mac: Vec<String>,
    pub agent_name: AnyNone<String>,
    pub status: AnyNone<NodeStatus>,
    /// Owner user names.
    pub owner: AnyNone<String>,
    pub power_state: AnyNone<String>,
    /// Zone names.
    pub zone: AnyNone<String>,
    /// Resource pool names.
    pub pool: AnyNone<String>,
    /// Tags the machine must all have / must have none of.
    pub tags_all: Vec<String>,
    pub tags_none: Vec<String>,
    pub arch: AnyNone<Arch>,
    pub min_cpu_count: Option<f64>,
    pub min_cpu_speed: Option<f64>,
    pub min_memory: Option<f64>,
    /// Network placement (allocation only), resolved to ids.
    pub net: crate::placement::NetFilter,
    /// Free-text words (the UI's search box): each is in the hostname
    /// (any case), or is the system_id or one of the tags.
    pub text: Vec<String>,
}

/// Values of a list parameter given as repeated keys and/or comma-separated.
pub fn list(params: &Params, key: &str) -> Vec<String> {
    params
        .get(key)
        .into_iter()
        .flatten()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// An integer as MAAS (Django) takes it: optional sign and digits, and an
/// integral float written with a trailing `.0` (`1024.0`, which clients
/// send) — but not `1e3` or `1.5`.
pub fn parse_int(v: &str) -> Option<i64> {
    let t = v.trim();
    let digits = match t.split_once('.') {
        Some((d, frac)) if frac.bytes().all(|b| b == b'0') => d,
        Some(_) => return None,
        None => t,
    };
    let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn field(key: &str, msg: String) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.insert(key.to_string(), vec![msg]);
    e
}

fn last_nonempty<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .get(key)
        .and_then(|v| v.last())
        .map(|s| s.as_str())
        .filter(|s| !s.trim().is_empty())
}

impl MachineFilter {
    /// MAAS's read filters for machine listings (`ReadNodesForm`). The first
    /// invalid value is refused.
    pub fn from_read_params(params: &Params) -> Result<MachineFilter, FieldErrors> {
        let mut f = MachineFilter {
            system_id: AnyNone {
                any: list(params, "id"),
                none: list(params, "not_id"),
            },
            ..Default::default()
        };
        // A hostname filter matches the short name or the FQDN.
        let short = |k: &str| -> Vec<String> {
            list(params, k)
                .iter()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
                .collect()
        };
        f.hostname = AnyNone {
            any: short("hostname"),
            none: short("not_hostname"),
        };
        for m in list(params, "mac_address") {
            let n = ids::normalize_mac(&m).ok_or_else(|| {
                field("mac_address", format!("'{m}' is not a valid MAC address."))
            })?;
            f.mac.push(n);
        }
        f.domain = AnyNone {
            any: list(params, "domain"),
            none: list(params, "not_domain"),
        };
        f.agent_name = AnyNone {
            any: list(params, "agent_name"),
            none: list(params, "not_agent_name"),
        };
        for (key, neg) in [("status", false), ("not_status", true)] {
            for v in list(params, key) {
                let s = NodeStatus::parse(&v)
                    .ok_or_else(|| field(key, format!("'{v}' is not a valid status.")))?;
                if neg {
                    f.status.none.push(s);
                } else {
                    f.status.any.push(s);
                }
            }
        }
        for (key, neg) in [("simple_status", false), ("not_simple_status", true)] {
            let vals = list(params, key);
            if vals.is_empty() {
                continue;
            }
            let found: Vec<NodeStatus> = NodeStatus::ALL
                .iter()
                .copied()
                .filter(|s| vals.iter().any(|v| v.eq_ignore_ascii_case(s.simplified())))
                .collect();
            if found.is_empty() {
                return Err(field(key, "No such simplified status.".into()));
            }
            // Each filter narrows on its own: a second `status`-like filter
            // is a further AND, kept as its own set.
            if neg {
                f.status.none.extend(found);
            } else if f.status.any.is_empty() {
                f.status.any = found;
            } else {
                f.status.any.retain(|s| found.contains(s));
                if f.status.any.is_empty() {
                    // Nothing can match both.
                    f.id = Some(-1);
                }
            }
        }
        f.owner = AnyNone {
            any: list(params, "owner"),
            none: list(params, "not_owner"),
        };
        for (key, neg) in [("power_state", false), ("not_power_state", true)] {
            for v in list(params, key) {
                if !power::POWER_STATES.contains(&v.as_str()) {
                    return Err(field(key, format!("'{v}' is not a valid power state.")));
                }
                if neg {
                    f.power_state.none.push(v);
                } else {
                    f.power_state.any.push(v);
                }
            }
        }
        f.zone = AnyNone {
            any: list(params, "zone"),
            none: list(params, "not_in_zone"),
        };
        f.pool = AnyNone {
            any: list(params, "pool"),
            none: list(params, "not_in_pool"),
        };
        f.tags_all = list(params, "tags");
        f.tags_none = list(params, "not_tags");
        f.arch = AnyNone {
            any: list(params, "arch")
                .iter()
                .map(|a| Arch::parse(a))
                .collect(),
            none: list(params, "not_arch")
                .iter()
                .map(|a| Arch::parse(a))
                .collect(),
        };
        if let Some(v) = last_nonempty(params, "cpu_count") {
            let n = parse_int(v)
                .ok_or_else(|| field("cpu_count", format!("'{v}' is not a valid integer.")))?;
            f.min_cpu_count = Some(n as i32 as f64);
        }
        if let Some(v) = last_nonempty(params, "mem") {
            let n: f64 = v
                .parse()
                .map_err(|_| field("mem", format!("'{v}' is not a number.")))?;
            f.min_memory = Some(n);
        }
        Ok(f)
    }

    /// The machines an allocation may take: READY, unowned, matching every
    /// constraint SQL can check (storage and interfaces are matched after).
    pub fn for_allocation(c: &Constraints) -> MachineFilter {
        let mut f = MachineFilter {
            unowned: true,
            status: AnyNone::any(vec![NodeStatus::Ready]),
            ..Default::default()
        };
        if let Some(s) = &c.system_id {
            f.system_id.any.push(s.clone());
        }
        if let Some(n) = &c.name {
            match n.split_once('.') {
                Some((h, d)) => {
                    f.hostname.any.push(h.to_string());
                    f.domain.any.push(d.to_string());
                }
                None => f.hostname.any.push(n.clone()),
            }
        }
        f.arch = AnyNone {
            any: c.arch.iter().map(|a| Arch::parse(a)).collect(),
            none: c.not_arch.iter().map(|a| Arch::parse(a)).collect(),
        };
        f.min_cpu_count = c.cpu_count;
        f.min_cpu_speed = c.cpu_speed;
        f.min_memory = c.mem;
        f.tags_all = c.tags.clone();
        f.tags_none = c.not_tags.clone();
        f.zone = AnyNone {
            any: c.zone.iter().cloned().collect(),
            none: c.not_in_zone.clone(),
        };
        f.pool = AnyNone {
            any: c.pool.iter().cloned().collect(),
            none: c.not_in_pool.clone(),
        };
        f.power_state = AnyNone {
            any: c.power_state.iter().cloned().collect(),
            none: c.not_power_state.iter().cloned().collect(),
        };
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::tests::params;

    #[test]
    fn integers_as_django_takes_them() {
        for (v, want) in [
            ("12", Some(12)),
            (" 12 ", Some(12)),
            ("-3", Some(-3)),
            ("1024.0", Some(1024)),
            ("7.", Some(7)),
            ("1e3", None),
            ("1.5", None),
            ("", None),
            ("-", None),
            ("0x10", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(parse_int(v), want, "{v:?}");
        }
    }

    #[test]
    fn arch_patterns() {
        assert!(Arch::parse("amd64").matches("amd64/generic"));
        assert!(Arch::parse("amd64/generic").matches("amd64/generic"));
        assert!(!Arch::parse("amd64/hwe").matches("amd64/generic"));
        assert!(!Arch::parse("arm64").matches("amd64/generic"));
    }

    #[test]
    fn visibility_and_edit() {
        assert!(Visibility::of(1, true).allows(Some(2)));
        let v = Visibility::of(1, false);
        assert!(v.allows(None) && v.allows(Some(1)) && !v.allows(Some(2)));
        assert!(can_edit(1, false, Some(1)) && !can_edit(1, false, None));
        assert!(can_edit(1, true, None));
    }

    #[test]
    fn read_params_become_one_filter() {
        let f = MachineFilter::from_read_params(&params(&[
            ("hostname", "a.example,b"),
            ("status", "ready"),
            ("not_status", "broken"),
            ("mac_address", "52-54-00-00-00-01"),
            ("arch", "amd64"),
            ("cpu_count", "4.0"),
            ("tags", "x,y"),
            ("zone", "z1"),
        ]))
        .unwrap();
        assert_eq!(f.hostname.any, vec!["a", "b"]);
        assert_eq!(f.status.any, vec![NodeStatus::Ready]);
        assert_eq!(f.status.none, vec![NodeStatus::Broken]);
        assert_eq!(f.mac, vec!["52:54:00:00:00:01"]);
        assert_eq!(f.arch.any, vec![Arch::Base("amd64".into())]);
        assert_eq!(f.min_cpu_count, Some(4.0));
        assert_eq!(f.tags_all, vec!["x", "y"]);
        assert_eq!(f.zone.any, vec!["z1"]);
    }

    #[test]
    fn bad_read_params_name_their_field() {
        for (k, v) in [
            ("mac_address", "nope"),
            ("status", "sleepy"),
            ("simple_status", "sleepy"),
            ("power_state", "dim"),
            ("cpu_count", "many"),
            ("mem", "lots"),
        ] {
            let e = MachineFilter::from_read_params(&params(&[(k, v)])).unwrap_err();
            assert!(e.contains_key(k), "{k}: {e:?}");
        }
    }

    #[test]
    fn allocation_constraints_become_the_same_filter() {
        let c = Constraints::parse(&params(&[
            ("name", "web.example"),
            ("arch", "amd64/generic"),
            ("zone", "z1"),
            ("not_in_pool", "p2"),
            ("cpu_count", "2"),
        ]))
        .unwrap();
        let f = MachineFilter::for_allocation(&c);
        assert!(f.unowned);
        assert_eq!(f.status.any, vec![NodeStatus::Ready]);
        assert_eq!(f.hostname.any, vec!["web"]);
        assert_eq!(f.domain.any, vec!["example"]);
        assert_eq!(f.zone.any, vec!["z1"]);
        assert_eq!(f.pool.none, vec!["p2"]);
        assert_eq!(f.min_cpu_count, Some(2.0));
    }
}
