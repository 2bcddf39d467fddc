//! Domain types and pure rules of the MAAS reimplementation: machine statuses
//! and their transition table, actions, allocation constraints, identifiers,
//! power types, machine filters, a rack's desired state and what racks
//! report. No I/O.

pub mod action;
pub mod constraints;
pub mod desired;
pub mod dns;
pub mod filter;
pub mod hardware;
pub mod ids;
pub mod net;
pub mod node_device;
pub mod placement;
pub mod power;
pub mod rack;
pub mod range;
pub mod search;
pub mod status;
pub mod storage;

pub use action::{Action, Perm};
pub use ids::SystemId;
pub use power::{PowerAction, PowerType};
pub use status::NodeStatus;
