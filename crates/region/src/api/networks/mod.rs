//! The network model in MAAS's shape: `fabrics/`, `fabrics/{id}/vlans/`,
//! `vlans/`, `subnets/`, `ipranges/`, `reservedips/` and `spaces/`, one
//! module per resource. Handlers parse (with `Check`), authorize, call
//! `services::network` and answer with the JSON it returns.
//!
//! Reads are open to every authenticated user, writes are admin-only. Every
//! write runs in one transaction and validates everything before it writes,
//! so a refused request leaves nothing behind.

pub mod fabrics;
pub mod ipranges;
pub mod reservedips;
pub mod spaces;
pub mod subnets;
pub mod vlans;

use std::net::IpAddr;

use maas_model::net;

use crate::api::check::Check;

/// A parameter if present and not empty, trimmed.
fn nonempty(c: &Check, key: &str) -> Option<String> {
    c.text(key).filter(|s| !s.is_empty())
}

/// A fabric or space name: letters, digits, '-', '_' and '.'.
fn check_name(c: &mut Check, what: &str, n: &str) {
    if !crate::api::places::valid_name(n) {
        c.add(
            "name",
            format!("'{n}' is not a valid {what} name: use letters, digits, '-', '_' and '.'."),
        );
    }
}

fn check_vlan_name(c: &mut Check, n: &str) {
    if n.len() > 256 || n.chars().any(char::is_control) {
        c.add(
            "name",
            "A VLAN name has at most 256 characters and no control characters.",
        );
    }
}

/// An IP address parameter (an empty one is absent).
fn ip_param(c: &mut Check, key: &str, required: bool) -> Option<IpAddr> {
    match nonempty(c, key) {
        None => {
            if required {
                c.add(key, "This field is required.");
            }
            None
        }
        Some(s) => match net::parse_ip(&s) {
            Ok(ip) => Some(ip),
            Err(_) => {
                c.add(key, "Enter a valid IPv4 or IPv6 address.");
                None
            }
        },
    }
}
