//! DNS domains (read-only for now: listing and reading).

use crate::error::{Error, Result};
use crate::store::{self, Pool};

pub use crate::store::domains::Domain;

pub async fn list(db: &Pool) -> Result<Vec<Domain>> {
    store::domains::list(db).await
}

/// A domain by id (as given in the URL).
pub async fn get(db: &Pool, id: &str) -> Result<Domain> {
    let not_found = || Error::NotFound(format!("No Domain matches the given query ({id})."));
    let did: i64 = id.parse().map_err(|_| not_found())?;
    store::domains::by_id(db, did).await?.ok_or_else(not_found)
}
