//! `maas-dhcp`: the rack's DHCPv4 server.
//!
//! - [`Engine`]: pure, synchronous packet handling (fuzzed);
//! - [`Store`]: the durable, group-committed lease log;
//! - [`server`]: sockets, the group-commit loop and the run-time handle;
//! - [`Config`]: what to serve (serde), hot-swappable.

pub mod boot;
pub mod config;
pub mod engine;
pub mod leases;
pub mod metrics;
pub mod store;
pub mod wire;

pub use config::{
    BootConfig, Compiled, Config, ConfigError, IpRange, Reservation, StaticRoute, SubnetConfig,
};
pub use engine::{Engine, Ports, RecvMeta, Reply};
pub use metrics::Metrics;
pub use store::{Record, Store, StoreError};
pub mod server;
mod sys;

pub use server::{DhcpServer, LeaseInfo, ServerError, ServerOptions};
