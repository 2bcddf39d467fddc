//! MAAS API 2.0 handlers, one module per resource family.

pub mod account;
pub mod app;
pub mod check;
pub mod conn;
pub mod describe;
pub mod devices;
pub mod dns;
pub mod error;
pub mod events;
pub mod images;
pub mod interfaces;
pub mod ipaddresses;
pub mod maasconf;
pub mod machines;
pub mod metadata;
pub mod misc;
pub mod networks;
pub mod oauth;
pub mod params;
pub mod places;
pub mod rackcontrollers;
pub mod router;
pub mod storage;
pub mod stream;
pub mod tags;
pub mod users;
