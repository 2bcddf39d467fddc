//! MAAS API 2.0 handlers, one module per resource family.

pub mod account;
pub mod describe;
pub mod events;
pub mod maasconf;
pub mod machines;
pub mod metadata;
pub mod networks;
pub mod places;
pub mod rackcontrollers;
pub mod tags;
pub mod users;
