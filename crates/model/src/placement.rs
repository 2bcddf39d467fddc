//! Network placement constraints of `allocate`: `subnets`, `not_subnets`,
//! `vlans`, `not_vlans`, `fabrics`, `not_fabrics`, `fabric_classes`,
//! `not_fabric_classes`. Each value is a specifier (MAAS's syntax: `key:value`
//! or a bare value) that the region resolves to row ids; a machine matches a
//! positive constraint when one of its interfaces is linked to (or on) one of
//! the ids, and a negative one when none of them is.

use std::net::IpAddr;

use crate::net::{Cidr, parse_ip};

/// Which rows a specifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Id(i64),
    Name(String),
    Cidr(Cidr),
    /// Subnets containing this address.
    Ip(IpAddr),
    /// By space (id or name; `undefined` = no space).
    Space(String),
    /// By VLAN tag.
    Vid(i64),
    /// By fabric (id or name).
    Fabric(String),
    /// Fabrics of this class.
    Class(String),
    /// VLANs by their VLAN specifier (`vlan:` inside a subnet specifier).
    Vlan(String),
}

/// What a specifier names: subnets, VLANs or fabrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Subnet,
    Vlan,
    Fabric,
}

impl Kind {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Subnet => &["id", "name", "cidr", "ip", "space", "vid", "fabric", "vlan"],
            Kind::Vlan => &["id", "name", "vid", "fabric", "space"],
            Kind::Fabric => &["id", "name", "class"],
        }
    }
}

/// Parse one specifier; the error is the message for the field.
pub fn parse(kind: Kind, s: &str) -> Result<Spec, String> {
    let s = s.trim();
    let bad = |why: &str| Err(format!("Invalid specifier '{s}': {why}."));
    if s.is_empty() {
        return bad("empty");
    }
    let Some((key, value)) = s.split_once(':').filter(|(k, _)| !k.contains('/')) else {
        // A bare value: an id when numeric, a CIDR for subnets, else a name.
        if let Ok(id) = s.parse::<i64>() {
            return Ok(Spec::Id(id));
        }
        if kind == Kind::Subnet && s.contains('/') {
            return Cidr::parse(s)
                .map(Spec::Cidr)
                .or_else(|_| bad("not a valid CIDR"));
        }
        return Ok(Spec::Name(s.to_string()));
    };
    if !kind.keys().contains(&key) {
        return bad(&format!("unknown key '{key}'"));
    }
    if value.is_empty() {
        return bad("no value");
    }
    let int = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("Invalid specifier '{s}': '{v}' is not an integer."))
    };
    Ok(match key {
        "id" => Spec::Id(int(value)?),
        "vid" => Spec::Vid(int(value)?),
        "name" => Spec::Name(value.to_string()),
        "cidr" => Spec::Cidr(
            Cidr::parse(value)
                .map_err(|_| format!("Invalid specifier '{s}': not a valid CIDR."))?,
        ),
        "ip" => Spec::Ip(
            parse_ip(value)
                .map_err(|_| format!("Invalid specifier '{s}': not a valid IP address."))?,
        ),
        "space" => Spec::Space(value.to_string()),
        "fabric" => Spec::Fabric(value.to_string()),
        "class" => Spec::Class(value.to_string()),
        _ => Spec::Vlan(value.to_string()),
    })
}

/// Parse every value of a constraint.
pub fn parse_all(kind: Kind, values: &[String]) -> Result<Vec<Spec>, String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse(kind, v))
        .collect()
}

/// Resolved placement: each `*_each` entry is one positive specifier (the
/// machine must be linked to / on one of its ids); `*_none` ids exclude.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetFilter {
    pub subnets_each: Vec<Vec<i64>>,
    pub subnets_none: Vec<i64>,
    pub vlans_each: Vec<Vec<i64>>,
    pub vlans_none: Vec<i64>,
}

impl NetFilter {
    pub fn is_empty(&self) -> bool {
        self == &NetFilter::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers() {
        assert_eq!(parse(Kind::Subnet, "3"), Ok(Spec::Id(3)));
        assert_eq!(
            parse(Kind::Subnet, "10.0.0.0/24"),
            Ok(Spec::Cidr(Cidr::parse("10.0.0.0/24").unwrap()))
        );
        assert_eq!(parse(Kind::Subnet, "space:7"), Ok(Spec::Space("7".into())));
        assert_eq!(
            parse(Kind::Subnet, "space:db"),
            Ok(Spec::Space("db".into()))
        );
        assert_eq!(parse(Kind::Subnet, "pxe"), Ok(Spec::Name("pxe".into())));
        assert_eq!(
            parse(Kind::Subnet, "ip:10.0.0.9"),
            Ok(Spec::Ip("10.0.0.9".parse().unwrap()))
        );
        assert_eq!(parse(Kind::Vlan, "vid:12"), Ok(Spec::Vid(12)));
        assert_eq!(
            parse(Kind::Fabric, "class:10g"),
            Ok(Spec::Class("10g".into()))
        );
        assert!(parse(Kind::Fabric, "cidr:10.0.0.0/24").is_err());
        assert!(parse(Kind::Subnet, "vid:x").is_err());
        assert!(parse(Kind::Subnet, "ip:nope").is_err());
        assert!(parse(Kind::Subnet, "space:").is_err());
        assert!(parse(Kind::Subnet, "10.0.0.0/99").is_err());
        assert_eq!(
            parse_all(Kind::Subnet, &["1,space:2".into(), "".into()]).unwrap(),
            vec![Spec::Id(1), Spec::Space("2".into())]
        );
    }
}
