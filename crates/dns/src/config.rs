//! What the DNS server serves: zones with records in zone-file presentation
//! form, the upstream forwarders, and the clients allowed to use them.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The whole configuration; a new one replaces the old atomically
/// ([`crate::DnsServer::swap`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsConfig {
    /// Zones served authoritatively.
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    /// Upstream servers for names outside every zone (tried in order).
    #[serde(default)]
    pub forwarders: Vec<SocketAddr>,
    /// Clients allowed to have names outside our zones forwarded (the
    /// rack's subnets); everyone else gets REFUSED for them.
    #[serde(default)]
    pub recursion_allowed: Vec<IpNet>,
    /// Subnets whose reverse zones (in-addr.arpa / ip6.arpa) are derived
    /// from the zones' A/AAAA records ([`crate::reverse::derive_reverse_zones`]).
    #[serde(default)]
    pub reverse_subnets: Vec<IpNet>,
    /// The primary name server in every zone's SOA and apex NS record.
    #[serde(default = "default_primary_ns")]
    pub primary_ns: String,
    /// Addresses of `primary_ns`, added as A/AAAA when it lies in one of
    /// our zones and has no address records there.
    #[serde(default)]
    pub primary_ns_addresses: Vec<IpAddr>,
    /// The SOA's responsible mailbox, as a name.
    #[serde(default = "default_hostmaster")]
    pub hostmaster: String,
}

/// One zone: its records, TTL and SOA serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneConfig {
    /// The zone's name (`maas`, `example.com.`, `10.in-addr.arpa`).
    pub name: String,
    /// Default TTL of the zone's records, also the SOA minimum.
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    #[serde(default = "default_serial")]
    pub serial: u32,
    #[serde(default)]
    pub records: Vec<RecordConfig>,
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordConfig {
    /// Relative to the zone, or `@` for its apex; a name ending in `.` is
    /// absolute (and must lie in the zone).
    pub name: String,
    /// A, AAAA, CNAME, MX, NS, PTR, SRV, SSHFP, TXT (any type hickory's
    /// zone-file parser reads).
    pub rtype: String,
    /// The record data as a zone file writes it (`10 mail`, `"v=spf1 -all"`);
    /// relative names are relative to the zone.
    pub rdata: String,
    /// The zone's TTL when absent.
    #[serde(default)]
    pub ttl: Option<u32>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            zones: Vec::new(),
            forwarders: Vec::new(),
            recursion_allowed: Vec::new(),
            reverse_subnets: Vec::new(),
            primary_ns: default_primary_ns(),
            primary_ns_addresses: Vec::new(),
            hostmaster: default_hostmaster(),
        }
    }
}

fn default_primary_ns() -> String {
    "ns.maas.".into()
}

fn default_hostmaster() -> String {
    "nomail.maas.".into()
}

fn default_ttl() -> u32 {
    30
}

fn default_serial() -> u32 {
    1
}

impl RecordConfig {
    pub fn new(name: &str, rtype: &str, rdata: &str) -> RecordConfig {
        RecordConfig {
            name: name.into(),
            rtype: rtype.into(),
            rdata: rdata.into(),
            ttl: None,
        }
    }
}

impl ZoneConfig {
    pub fn new(name: &str) -> ZoneConfig {
        ZoneConfig {
            name: name.into(),
            ttl: default_ttl(),
            serial: default_serial(),
            records: Vec::new(),
        }
    }

    /// A zone from the region's desired-state zone (the rack's input).
    pub fn from_model(zone: &maas_model::desired::DnsZone, serial: u32) -> ZoneConfig {
        ZoneConfig {
            name: zone.name.clone(),
            ttl: zone.ttl,
            serial,
            records: zone
                .records
                .iter()
                .map(|r| RecordConfig {
                    name: if r.name.is_empty() {
                        "@".into()
                    } else {
                        r.name.clone()
                    },
                    rtype: r.rtype.clone(),
                    rdata: r.data.clone(),
                    ttl: Some(r.ttl),
                })
                .collect(),
        }
    }
}
