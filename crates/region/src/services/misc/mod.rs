//! Client-facing small resources: boot resources and sources, stored files,
//! notifications, package repositories, SSL and license keys, script results
//! and machine details.

pub mod bootres;
pub mod bootsrc;
pub mod files;
pub mod keys;
pub mod notifications;
pub mod repos;
pub mod results;

use crate::error::Error;

/// MAAS's 404 for a model lookup.
pub fn not_found(model: &str) -> Error {
    Error::NotFound(format!("No {model} matches the given query."))
}

/// An id from a URL, or the model's 404.
pub fn parse_id(id: &str, model: &str) -> Result<i64, Error> {
    id.parse().map_err(|_| not_found(model))
}

/// Architectures MAAS knows (the base of `arch/subarch`).
pub const KNOWN_ARCHES: &[&str] = &[
    "amd64", "arm64", "armhf", "i386", "ppc64el", "riscv64", "s390x",
];
