//! Bond and bridge parameters as MAAS takes them (`bond_mode`,
//! `bond_miimon`, …, `bridge_stp`, `bridge_fd`): their choices, ranges and
//! messages, checked once for the API and the web UI alike.

use maas_model::constraints::{FieldErrors, out_of_range, parse_bool};
use serde_json::Value;

use super::BOND_MODES;

pub const LACP_RATES: [&str; 2] = ["fast", "slow"];
pub const XMIT_POLICIES: [&str; 5] = ["layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4"];
pub const BRIDGE_TYPES: [&str; 2] = ["standard", "ovs"];

/// The parameters that take one of a list of values.
pub const CHOICES: [(&str, &[&str]); 4] = [
    ("bond_mode", &BOND_MODES),
    ("bond_lacp_rate", &LACP_RATES),
    ("bond_xmit_hash_policy", &XMIT_POLICIES),
    ("bridge_type", &BRIDGE_TYPES),
];

/// The integer parameters and their upper bounds (all start at 0).
pub const INTEGERS: [(&str, i64); 5] = [
    ("bond_miimon", i64::MAX),
    ("bond_downdelay", i64::MAX),
    ("bond_updelay", i64::MAX),
    ("bond_num_grat_arp", 255),
    ("bridge_fd", i64::MAX),
];

/// MAAS's message for a value not among `choices`.
pub fn invalid_choice(v: &str, what: &str, choices: &[&str]) -> String {
    let list: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
    format!(
        "'{v}' is not a valid {what}.  It should be one of: {}.",
        list.join(", ")
    )
}

fn add(errs: &mut FieldErrors, field: &str, msg: String) {
    errs.entry(field.to_string()).or_default().push(msg);
}

/// The bond and bridge parameters `get` carries (by MAAS's key; `None`:
/// not given), checked: the values to set, and errors by field in `errs`.
/// An empty value is not given, except for `bridge_stp`, where the API
/// reads it as false.
pub fn check(get: impl Fn(&str) -> Option<String>, errs: &mut FieldErrors) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, choices) in CHOICES {
        if let Some(v) = get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        {
            if choices.contains(&v.as_str()) {
                out.push((k.to_string(), Value::from(v)));
            } else {
                add(errs, k, invalid_choice(&v, k, choices));
            }
        }
    }
    for (k, hi) in INTEGERS {
        let Some(v) = get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        match v.parse::<i64>() {
            Err(_) => add(errs, k, format!("'{v}' is not a valid integer.")),
            Ok(n) => match out_of_range(n, 0, hi) {
                Some(msg) => add(errs, k, msg),
                None => out.push((k.to_string(), Value::from(n))),
            },
        }
    }
    if let Some(v) = get("bridge_stp") {
        match parse_bool(&v) {
            Some(b) => out.push(("bridge_stp".to_string(), Value::from(b))),
            None => add(errs, "bridge_stp", format!("'{v}' is not a valid boolean.")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> (Vec<(String, Value)>, FieldErrors) {
        let mut errs = FieldErrors::new();
        let got = check(
            |k| {
                pairs
                    .iter()
                    .find(|(p, _)| *p == k)
                    .map(|(_, v)| v.to_string())
            },
            &mut errs,
        );
        (got, errs)
    }

    #[test]
    fn good_values_are_typed() {
        let (got, errs) = run(&[
            ("bond_mode", "802.3ad"),
            ("bond_miimon", " 250 "),
            ("bond_xmit_hash_policy", "layer3+4"),
            ("bridge_stp", "true"),
            ("bond_updelay", ""),
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        assert!(got.contains(&("bond_mode".into(), Value::from("802.3ad"))));
        assert!(got.contains(&("bond_miimon".into(), Value::from(250))));
        assert!(got.contains(&("bridge_stp".into(), Value::from(true))));
        assert!(
            !got.iter().any(|(k, _)| k == "bond_updelay"),
            "empty: not given"
        );
    }

    #[test]
    fn bad_values_get_the_apis_messages_and_nothing_to_set() {
        let (got, errs) = run(&[
            ("bond_lacp_rate", "medium"),
            ("bond_num_grat_arp", "256"),
            ("bond_downdelay", "-1"),
            ("bridge_fd", "soon"),
            ("bridge_stp", "maybe"),
        ]);
        assert!(got.is_empty(), "{got:?}");
        assert_eq!(
            errs["bond_lacp_rate"],
            ["'medium' is not a valid bond_lacp_rate.  It should be one of: 'fast', 'slow'."]
        );
        assert_eq!(
            errs["bond_num_grat_arp"],
            ["Ensure this value is less than or equal to 255."]
        );
        assert_eq!(
            errs["bond_downdelay"],
            ["Ensure this value is greater than or equal to 0."]
        );
        assert_eq!(errs["bridge_fd"], ["'soon' is not a valid integer."]);
        assert_eq!(errs["bridge_stp"], ["'maybe' is not a valid boolean."]);
    }
}
