//! `maas-region`: the region controller. It owns PostgreSQL and serves MAAS
//! API 2.0, the metadata API for booting machines, and the gRPC service for
//! racks.
//!
//! Layers, imports pointing down only (checked by `tests/layers.rs`):
//! `region` (wiring) → `api`, `rackrpc`, `ui` (edges: parse, authorize, call,
//! render) → `services` (rules; the one status writer) → `render` (MAAS JSON
//! and its caches) → `store` (every SQL statement) → `error`, `crypto`.

pub mod api;
pub mod crypto;
pub mod error;
pub mod rackrpc;
pub mod region;
pub mod render;
pub mod services;
pub mod store;
pub mod ui;
