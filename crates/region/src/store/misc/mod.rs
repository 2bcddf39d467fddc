//! Client-facing small resources: boot resources and sources, stored files,
//! notifications, package repositories, SSL and license keys, script results.

pub mod bootres;
pub mod bootsrc;
pub mod files;
pub mod keys;
pub mod notifications;
pub mod repos;
pub mod results;
