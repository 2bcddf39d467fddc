//! The web UI's machine search box, MAAS's syntax: `status:ready pool:default
//! tags:gpu web` — `key:value` terms (values comma-separated or in
//! parentheses for any-of, `!` before the key or the value to exclude,
//! double quotes around values with spaces) and free text (every word must
//! appear in the hostname, or be the system_id or a tag). It becomes the
//! same [`MachineFilter`] an API listing builds.

use crate::constraints::{FieldErrors, Params};
use crate::filter::MachineFilter;

/// Search keys → the listing parameter (and its negated form).
const KEYS: &[(&str, &str, &str)] = &[
    ("status", "status", "not_status"),
    ("pool", "pool", "not_in_pool"),
    ("zone", "zone", "not_in_zone"),
    ("owner", "owner", "not_owner"),
    ("tags", "tags", "not_tags"),
    ("tag", "tags", "not_tags"),
    ("hostname", "hostname", "not_hostname"),
    ("arch", "arch", "not_arch"),
    ("domain", "domain", "not_domain"),
    ("power", "power_state", "not_power_state"),
    ("id", "id", "not_id"),
    ("system_id", "id", "not_id"),
];

/// The keys the search box knows, for its help text.
pub fn known_keys() -> Vec<&'static str> {
    KEYS.iter().map(|k| k.0).collect()
}

/// A parsed search: listing parameters and free-text words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub params: Params,
    pub text: Vec<String>,
}

/// Split on whitespace outside double quotes and parentheses; quotes are
/// removed.
fn tokens(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut depth) = (false, 0u32);
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => {
                depth += 1;
                cur.push(c)
            }
            ')' if !quoted => {
                depth = depth.saturating_sub(1);
                cur.push(c)
            }
            c if c.is_whitespace() && !quoted && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn error(msg: String) -> FieldErrors {
    let mut e = FieldErrors::new();
    e.insert("q".into(), vec![msg]);
    e
}

/// Parse a search; an unknown key or an empty value is refused.
pub fn parse(q: &str) -> Result<Search, FieldErrors> {
    let mut s = Search::default();
    for t in tokens(q) {
        let Some((key, value)) = t.split_once(':') else {
            s.text.push(t);
            continue;
        };
        let (mut neg, key) = match key.strip_prefix('!') {
            Some(k) => (true, k),
            None => (false, key),
        };
        let key = key.to_ascii_lowercase();
        let Some(&(_, param, not_param)) = KEYS.iter().find(|k| k.0 == key) else {
            return Err(error(format!(
                "Unknown filter '{key}'; use one of: {}.",
                known_keys().join(", ")
            )));
        };
        let mut value = value.trim();
        if let Some(v) = value.strip_prefix('!') {
            neg = !neg;
            value = v;
        }
        let value = value.strip_prefix('(').unwrap_or(value);
        let value = value.strip_suffix(')').unwrap_or(value);
        let values: Vec<String> = value
            .split(',')
            .map(|v| v.trim().trim_start_matches('=').trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(error(format!("'{key}:' needs a value.")));
        }
        let name = if neg { not_param } else { param };
        if param == "tags" && !neg {
            // Any-of tags: MAAS's `tags:(a,b)`; one value per term is all-of.
            s.params
                .entry(name.to_string())
                .or_default()
                .push(values.join(","));
        } else {
            s.params.entry(name.to_string()).or_default().extend(values);
        }
    }
    Ok(s)
}

impl Search {
    /// The filter this search selects (visibility is the caller's to set).
    pub fn filter(&self) -> Result<MachineFilter, FieldErrors> {
        let mut f = MachineFilter::from_read_params(&self.params).map_err(|e| {
            // Name the search box, keep the message.
            let msgs: Vec<String> = e.into_values().flatten().collect();
            error(msgs.join(" "))
        })?;
        f.text = self.text.clone();
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeStatus;

    #[test]
    fn keys_values_and_text() {
        let s = parse("status:ready pool:default tags:gpu web").unwrap();
        let f = s.filter().unwrap();
        assert_eq!(f.status.any, vec![NodeStatus::Ready]);
        assert_eq!(f.pool.any, vec!["default"]);
        assert_eq!(f.tags_all, vec!["gpu"]);
        assert_eq!(f.text, vec!["web"]);
    }

    #[test]
    fn any_of_negation_and_quotes() {
        let f = parse("status:(ready,deployed) !zone:z1 owner:!bob hostname:\"a b\"")
            .unwrap()
            .filter()
            .unwrap();
        assert_eq!(f.status.any, vec![NodeStatus::Ready, NodeStatus::Deployed]);
        assert_eq!(f.zone.none, vec!["z1"]);
        assert_eq!(f.owner.none, vec!["bob"]);
        assert_eq!(f.hostname.any, vec!["a b"]);
    }

    #[test]
    fn refusals_name_the_box() {
        let e = parse("colour:red").unwrap_err();
        assert!(e["q"][0].contains("Unknown filter 'colour'"));
        assert!(parse("status:").is_err());
        let e = parse("status:sleepy").unwrap().filter().unwrap_err();
        assert!(e["q"][0].contains("sleepy"), "{e:?}");
    }

    #[test]
    fn empty_is_everything() {
        assert_eq!(
            parse("  ").unwrap().filter().unwrap(),
            MachineFilter::default()
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(q in "\\PC{0,64}") {
            if let Ok(s) = parse(&q) {
                let _ = s.filter();
            }
        }
    }
}
