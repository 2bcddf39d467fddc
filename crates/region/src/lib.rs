//! `maas-region`: the region controller. It owns PostgreSQL and serves MAAS
//! API 2.0, the metadata API for booting machines, and (later) the gRPC
//! service for racks.

pub mod allocate;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod lifecycle;
pub mod load;
pub mod params;
pub mod rackrpc;
pub mod region;
pub mod render;
pub mod rendercache;
pub mod snapshot;
