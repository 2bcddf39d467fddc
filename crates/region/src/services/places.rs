//! Zones and resource pools: names, the defaults that cannot go, and what
//! happens to their machines.

use crate::error::{Error, Result};
use crate::store::places::Kind;
use crate::store::{self, Pool};

pub use crate::store::places::Place;

/// The default zone: machines of a deleted zone move to it.
pub const DEFAULT_ZONE: i64 = 1;
/// The default resource pool.
pub const DEFAULT_POOL: i64 = 0;

pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn check_name(n: &str) -> Result<()> {
    if !valid_name(n) {
        return Err(Error::field(
            "name",
            format!("'{n}' is not a valid name: use letters, digits, '-', '_' and '.'."),
        ));
    }
    Ok(())
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Zone => "Zone",
        Kind::Pool => "Resource pool",
    }
}

fn name_taken(kind: Kind) -> Error {
    Error::field(
        "name",
        format!("{} with this name already exists.", label(kind)),
    )
}

async fn create(db: &Pool, kind: Kind, name: &str, description: &str) -> Result<Place> {
    check_name(name)?;
    let id = store::places::insert(db, kind, name, description)
        .await?
        .ok_or_else(|| name_taken(kind))?;
    Ok(Place {
        id,
        name: name.to_string(),
        description: description.to_string(),
    })
}

/// Rename (`name`: a new, valid name) and/or describe.
async fn update(
    db: &Pool,
    kind: Kind,
    place: &Place,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Place> {
    if let Some(n) = name {
        check_name(n)?;
    }
    let new = Place {
        id: place.id,
        name: name.unwrap_or(&place.name).to_string(),
        description: description.unwrap_or(&place.description).to_string(),
    };
    if !store::places::update(db, kind, new.id, &new.name, &new.description).await? {
        return Err(name_taken(kind));
    }
    Ok(new)
}

pub async fn zones(db: &Pool) -> Result<Vec<Place>> {
    store::places::list(db, Kind::Zone).await
}

pub async fn zone(db: &Pool, name: &str) -> Result<Place> {
    store::places::by_name(db, Kind::Zone, name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No Zone matches the given query ({name}).")))
}

pub async fn create_zone(db: &Pool, name: &str, description: &str) -> Result<Place> {
    create(db, Kind::Zone, name, description).await
}

pub async fn update_zone(
    db: &Pool,
    zone: &Place,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Place> {
    update(db, Kind::Zone, zone, name, description).await
}

/// Delete a zone; as in MAAS, its machines move to the default zone.
pub async fn delete_zone(db: &Pool, zone: &Place) -> Result<()> {
    if zone.id == DEFAULT_ZONE {
        return Err(Error::BadRequest(
            "The default zone cannot be deleted.".into(),
        ));
    }
    let mut tx = store::begin(db).await?;
    store::places::move_zone_machines(&mut tx, zone.id, DEFAULT_ZONE).await?;
    store::places::delete(&mut *tx, Kind::Zone, zone.id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn pools(db: &Pool) -> Result<Vec<Place>> {
    store::places::list(db, Kind::Pool).await
}

/// A resource pool by id (as given in the URL).
pub async fn pool(db: &Pool, id: &str) -> Result<Place> {
    let not_found = || Error::NotFound(format!("No ResourcePool matches the given query ({id})."));
    let pid: i64 = id.parse().map_err(|_| not_found())?;
    store::places::by_id(db, Kind::Pool, pid)
        .await?
        .ok_or_else(not_found)
}

pub async fn create_pool(db: &Pool, name: &str, description: &str) -> Result<Place> {
    create(db, Kind::Pool, name, description).await
}

pub async fn update_pool(
    db: &Pool,
    pool: &Place,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<Place> {
    update(db, Kind::Pool, pool, name, description).await
}

/// Delete a resource pool: not the default one, and only once empty.
pub async fn delete_pool(db: &Pool, pool: &Place) -> Result<()> {
    if pool.id == DEFAULT_POOL {
        return Err(Error::BadRequest(
            "The default resource pool cannot be deleted.".into(),
        ));
    }
    let n = store::places::pool_machines(db, pool.id).await?;
    if n > 0 {
        return Err(Error::BadRequest(format!(
            "Resource pool {} still holds {n} machine(s); move them first.",
            pool.name
        )));
    }
    store::places::delete(db, Kind::Pool, pool.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("rack-a_1.b"));
        assert!(!valid_name(""));
        assert!(!valid_name("bad zone"));
        assert!(!valid_name(&"x".repeat(257)));
        assert!(check_name("ok").is_ok());
    }
}
