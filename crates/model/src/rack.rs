//! What a rack reports about itself: its network interfaces (and the pure
//! rules that place them in the network model), and the events its services
//! report.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::net::{self, Cidr};

/// One network interface of a rack, as the rack reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub mac: String,
    /// physical | vlan | bridge | bond
    pub kind: String,
    pub parent: Option<String>,
    pub vid: Option<i32>,
    /// Addresses with prefix length: "10.0.0.2/24", "fd00::1/64".
    pub addresses: Vec<String>,
}

impl Interface {
    /// The networks this interface's addresses are on: valid, routable (not
    /// loopback or link-local), not host-only (/32, /128), one per network.
    /// Addresses that do not parse are returned as the second list.
    pub fn networks(&self) -> (Vec<Cidr>, Vec<(String, String)>) {
        let mut out: Vec<Cidr> = Vec::new();
        let mut bad = Vec::new();
        for a in &self.addresses {
            match Cidr::parse_with_host(a) {
                Ok((ip, cidr)) if !net::is_local_only(&ip) && !cidr.is_host() => {
                    if !out.contains(&cidr) {
                        out.push(cidr);
                    }
                }
                Ok(_) => {}
                Err(e) => bad.push((a.clone(), e.to_string())),
            }
        }
        (out, bad)
    }
}

/// Indices of `ifaces` with every parent before its children (a cycle is
/// broken arbitrarily).
pub fn parents_first(ifaces: &[&Interface]) -> Vec<usize> {
    let index: HashMap<&str, usize> = ifaces
        .iter()
        .enumerate()
        .map(|(k, i)| (i.name.as_str(), k))
        .collect();
    let mut done = vec![false; ifaces.len()];
    let mut order = Vec::with_capacity(ifaces.len());
    while order.len() < ifaces.len() {
        let mut progressed = false;
        for (k, i) in ifaces.iter().enumerate() {
            if done[k] {
                continue;
            }
            let ready = match i.parent.as_deref().and_then(|p| index.get(p)) {
                Some(&pk) => done[pk] || pk == k,
                None => true,
            };
            if ready {
                done[k] = true;
                order.push(k);
                progressed = true;
            }
        }
        if !progressed {
            for (k, d) in done.iter_mut().enumerate() {
                if !*d {
                    *d = true;
                    order.push(k);
                }
            }
        }
    }
    order
}

/// One event a rack reports, numbered per rack (from 1, never reused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    /// When it happened, milliseconds since the Unix epoch.
    pub occurred_unix_ms: i64,
    pub kind: EventKind,
}

/// What happened. Serialises as `{"kind": "lease", "data": {…}}`, the data
/// holding the variant's fields by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "lowercase")]
pub enum EventKind {
    Lease(Lease),
    Boot(BootRequest),
    Power(PowerResult),
    Health(ServiceHealth),
}

impl EventKind {
    /// Every kind's name, as `name()` gives it.
    pub const NAMES: [&'static str; 4] = ["lease", "boot", "power", "health"];

    /// "lease", "boot", "power" or "health".
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Lease(_) => "lease",
            EventKind::Boot(_) => "boot",
            EventKind::Power(_) => "power",
            EventKind::Health(_) => "health",
        }
    }
}

/// A DHCP lease changed. Missing fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lease {
    /// commit | expiry | release
    pub action: String,
    pub mac: String,
    pub ip: String,
    pub hostname: String,
    pub lease_time: u32,
}

/// A machine asked the rack for a boot file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootRequest {
    pub mac: String,
    pub arch: String,
    pub purpose: String,
    pub remote_ip: String,
    pub file: String,
}

/// The outcome of a power job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PowerResult {
    pub job_id: u64,
    pub system_id: String,
    pub action: String,
    pub ok: bool,
    pub state: String,
    pub error: String,
}

/// The state of one of the rack's services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceHealth {
    pub service: String,
    /// running | degraded | dead | off
    pub status: String,
    pub info: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, parent: Option<&str>, addrs: &[&str]) -> Interface {
        Interface {
            name: name.into(),
            mac: "52:54:00:00:00:01".into(),
            kind: "physical".into(),
            parent: parent.map(String::from),
            vid: None,
            addresses: addrs.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn parents_come_before_children_and_cycles_end() {
        let a = iface("br0", Some("eth0"), &[]);
        let b = iface("eth0.10", Some("br0"), &[]);
        let c = iface("eth0", None, &[]);
        let order = parents_first(&[&a, &b, &c]);
        assert_eq!(order, vec![2, 0, 1]);
        let x = iface("x", Some("y"), &[]);
        let y = iface("y", Some("x"), &[]);
        let mut o = parents_first(&[&x, &y]);
        o.sort();
        assert_eq!(o, vec![0, 1]);
    }

    #[test]
    fn networks_skip_local_host_and_bad_addresses() {
        let i = iface(
            "eth0",
            None,
            &[
                "10.0.0.2/24",
                "10.0.0.3/24",
                "127.0.0.1/8",
                "fe80::1/64",
                "10.9.9.9/32",
                "nonsense",
            ],
        );
        let (nets, bad) = i.networks();
        assert_eq!(nets.len(), 1);
        assert_eq!(nets[0].to_string(), "10.0.0.0/24");
        assert_eq!(bad.len(), 1);
    }
}
