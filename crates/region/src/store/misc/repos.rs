//! Package repositories (the archives machines install from).

use crate::error::Result;
use crate::store::{Conn, Executor};

#[derive(Debug, Clone, Default)]
pub struct Repo {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub distributions: Vec<String>,
    pub disabled_pockets: Vec<String>,
    pub disabled_components: Vec<String>,
    pub disable_sources: bool,
    pub components: Vec<String>,
    pub arches: Vec<String>,
    pub key: String,
    pub enabled: bool,
    pub is_default: bool,
}

type Tuple = (
    i64,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    bool,
    Vec<String>,
    Vec<String>,
    String,
    bool,
    bool,
);

fn repo(t: Tuple) -> Repo {
    Repo {
        id: t.0,
        name: t.1,
        url: t.2,
        distributions: t.3,
        disabled_pockets: t.4,
        disabled_components: t.5,
        disable_sources: t.6,
        components: t.7,
        arches: t.8,
        key: t.9,
        enabled: t.10,
        is_default: t.11,
    }
}

macro_rules! columns_sql {
    () => {
        "SELECT id, name, url, distributions, disabled_pockets, disabled_components,
    disable_sources, components, arches, key, enabled, is_default FROM package_repositories"
    };
}

pub async fn list<'e>(e: impl Executor<'e>) -> Result<Vec<Repo>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(columns_sql!(), " ORDER BY id"))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(repo).collect())
}

pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Repo>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns_sql!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(repo))
}

/// Whether another repository (not `except`) has this name.
pub async fn name_taken(c: &mut Conn, name: &str, except: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM package_repositories WHERE name = $1 AND id <> $2)",
    )
    .bind(name)
    .bind(except)
    .fetch_one(c)
    .await?)
}

/// Insert (`r.id == 0`) or update; the id.
pub async fn save(c: &mut Conn, r: &Repo) -> Result<i64> {
    let sql = if r.id == 0 {
        "INSERT INTO package_repositories (name, url, distributions, disabled_pockets,
                disabled_components, disable_sources, components, arches, key, enabled)
         VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
    } else {
        "UPDATE package_repositories SET name = $2, url = $3, distributions = $4,
                disabled_pockets = $5, disabled_components = $6, disable_sources = $7,
                components = $8, arches = $9, key = $10, enabled = $11
         WHERE id = $1 RETURNING id"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(r.id)
        .bind(&r.name)
        .bind(&r.url)
        .bind(&r.distributions)
        .bind(&r.disabled_pockets)
        .bind(&r.disabled_components)
        .bind(r.disable_sources)
        .bind(&r.components)
        .bind(&r.arches)
        .bind(&r.key)
        .bind(r.enabled)
        .fetch_one(c)
        .await?)
}

pub async fn delete<'e>(e: impl Executor<'e>, id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM package_repositories WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}
