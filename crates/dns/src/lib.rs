//! `maas-dns`: the rack's DNS server.
//!
//! Authoritative for the region's zones (forward and reverse), swapped
//! atomically on a new configuration; names outside them are forwarded to
//! upstreams for clients inside `recursion_allowed` and REFUSED for others.
//!
//! UDP queries for names in our zones are answered from a table of
//! responses precomputed at swap time (only the ID, flags and the
//! question's letter case are patched); everything else goes through
//! hickory-proto's codec ([`engine`]).

pub mod config;
pub mod engine;
pub mod metrics;
mod mmsg;
pub mod reverse;
pub mod server;
pub mod wire;
pub mod zones;

pub use config::{DnsConfig, RecordConfig, ZoneConfig};
pub use engine::{Action, Served, Transport};
pub use metrics::Metrics;
pub use reverse::derive_reverse_zones;
pub use server::{DnsError, DnsServer, ServerOptions, SwapStats};
pub use zones::{ZoneError, ZoneSet};
