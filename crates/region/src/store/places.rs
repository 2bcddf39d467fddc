//! Zones and resource pools: where machines live. Both are a name and a
//! description; one set of statements serves both tables.

use crate::error::Result;
use crate::store::{Conn, Executor};

/// A zone or a resource pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// Which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zone,
    Pool,
}

struct Sql {
    list: &'static str,
    by_name: &'static str,
    by_id: &'static str,
    insert: &'static str,
    update: &'static str,
    delete: &'static str,
}

const ZONES: Sql = Sql {
    list: "SELECT id, name, description FROM zones ORDER BY name",
    by_name: "SELECT id, name, description FROM zones WHERE name = $1",
    by_id: "SELECT id, name, description FROM zones WHERE id = $1",
    insert: "INSERT INTO zones (name, description) VALUES ($1, $2) RETURNING id",
    update: "UPDATE zones SET name = $2, description = $3 WHERE id = $1",
    delete: "DELETE FROM zones WHERE id = $1",
};

const POOLS: Sql = Sql {
    list: "SELECT id, name, description FROM resource_pools ORDER BY name",
    by_name: "SELECT id, name, description FROM resource_pools WHERE name = $1",
    by_id: "SELECT id, name, description FROM resource_pools WHERE id = $1",
    insert: "INSERT INTO resource_pools (name, description) VALUES ($1, $2) RETURNING id",
    update: "UPDATE resource_pools SET name = $2, description = $3 WHERE id = $1",
    delete: "DELETE FROM resource_pools WHERE id = $1",
};

impl Kind {
    fn sql(self) -> &'static Sql {
        match self {
            Kind::Zone => &ZONES,
            Kind::Pool => &POOLS,
        }
    }
}

type Tuple = (i64, String, String);

fn place((id, name, description): Tuple) -> Place {
    Place {
        id,
        name,
        description,
    }
}

/// A unique violation (the name is taken) as `None`; other errors as errors.
fn unless_taken<T>(r: Result<T, sqlx::Error>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("23505") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// All of a kind, by name.
pub async fn list<'e>(e: impl Executor<'e>, kind: Kind) -> Result<Vec<Place>> {
    let rows: Vec<Tuple> = sqlx::query_as(kind.sql().list).fetch_all(e).await?;
    Ok(rows.into_iter().map(place).collect())
}

pub async fn by_name<'e>(e: impl Executor<'e>, kind: Kind, name: &str) -> Result<Option<Place>> {
    let r: Option<Tuple> = sqlx::query_as(kind.sql().by_name)
        .bind(name)
        .fetch_optional(e)
        .await?;
    Ok(r.map(place))
}

pub async fn by_id<'e>(e: impl Executor<'e>, kind: Kind, id: i64) -> Result<Option<Place>> {
    let r: Option<Tuple> = sqlx::query_as(kind.sql().by_id)
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(place))
}

/// Insert; the new id, or `None` when the name is taken.
pub async fn insert<'e>(
    e: impl Executor<'e>,
    kind: Kind,
    name: &str,
    description: &str,
) -> Result<Option<i64>> {
    unless_taken(
        sqlx::query_scalar(kind.sql().insert)
            .bind(name)
            .bind(description)
            .fetch_one(e)
            .await,
    )
}

/// Rename and describe; `false` when the name is taken.
pub async fn update<'e>(
    e: impl Executor<'e>,
    kind: Kind,
    id: i64,
    name: &str,
    description: &str,
) -> Result<bool> {
    let r = sqlx::query(kind.sql().update)
        .bind(id)
        .bind(name)
        .bind(description)
        .execute(e)
        .await;
    Ok(unless_taken(r)?.is_some())
}

pub async fn delete<'e>(e: impl Executor<'e>, kind: Kind, id: i64) -> Result<()> {
    sqlx::query(kind.sql().delete).bind(id).execute(e).await?;
    Ok(())
}

/// Move every machine in zone `from` to zone `to`.
pub async fn move_zone_machines(c: &mut Conn, from: i64, to: i64) -> Result<()> {
    sqlx::query("UPDATE machines SET zone_id = $2 WHERE zone_id = $1")
        .bind(from)
        .bind(to)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// How many machines are in a pool.
pub async fn pool_machines<'e>(e: impl Executor<'e>, id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM machines WHERE pool_id = $1")
            .bind(id)
            .fetch_one(e)
            .await?,
    )
}
