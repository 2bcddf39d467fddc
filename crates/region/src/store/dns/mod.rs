//! DNS: domains, resources (names with addresses) and their records.

pub mod domains;
pub mod records;
pub mod resources;
