//! Boot sources (where images are imported from) and their selections.

use crate::error::Result;
use crate::store::{Conn, Executor};

pub type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct Source {
    pub id: i64,
    pub url: String,
    pub keyring_filename: String,
    pub keyring_data: Vec<u8>,
    pub created: Time,
    pub updated: Time,
}

type SourceTuple = (i64, String, String, Vec<u8>, Time, Time);

fn source((id, url, keyring_filename, keyring_data, created, updated): SourceTuple) -> Source {
    Source {
        id,
        url,
        keyring_filename,
        keyring_data,
        created,
        updated,
    }
}

macro_rules! source_sql {
    () => {
        "SELECT id, url, keyring_filename, keyring_data, created, updated FROM boot_sources"
    };
}

pub async fn sources<'e>(e: impl Executor<'e>) -> Result<Vec<Source>> {
    let rows: Vec<SourceTuple> = sqlx::query_as(concat!(source_sql!(), " ORDER BY id"))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(source).collect())
}

pub async fn source_by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Source>> {
    let r: Option<SourceTuple> = sqlx::query_as(concat!(source_sql!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(source))
}

/// Whether another source (not `except`) has this URL.
pub async fn url_taken(c: &mut Conn, url: &str, except: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM boot_sources WHERE url = $1 AND id <> $2)",
        )
        .bind(url)
        .bind(except)
        .fetch_one(c)
        .await?,
    )
}

pub async fn insert_source(
    c: &mut Conn,
    url: &str,
    keyring_filename: &str,
    keyring_data: &[u8],
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO boot_sources (url, keyring_filename, keyring_data) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(url)
    .bind(keyring_filename)
    .bind(keyring_data)
    .fetch_one(c)
    .await?)
}

pub async fn update_source(
    c: &mut Conn,
    id: i64,
    url: &str,
    keyring_filename: &str,
    keyring_data: &[u8],
) -> Result<()> {
    sqlx::query(
        "UPDATE boot_sources SET url = $2, keyring_filename = $3, keyring_data = $4, updated = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(url)
    .bind(keyring_filename)
    .bind(keyring_data)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete_source<'e>(e: impl Executor<'e>, id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM boot_sources WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}

#[derive(Debug, Clone)]
pub struct Selection {
    pub id: i64,
    pub boot_source_id: i64,
    pub os: String,
    pub release: String,
    pub arches: Vec<String>,
    pub subarches: Vec<String>,
    pub labels: Vec<String>,
}

type SelTuple = (
    i64,
    i64,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Vec<String>,
);

fn selection((id, boot_source_id, os, release, arches, subarches, labels): SelTuple) -> Selection {
    Selection {
        id,
        boot_source_id,
        os,
        release,
        arches,
        subarches,
        labels,
    }
}

macro_rules! selection_sql {
    () => {
        "SELECT id, boot_source_id, os, release, arches, subarches, labels
    FROM boot_source_selections"
    };
}

pub async fn selections<'e>(e: impl Executor<'e>, source_id: i64) -> Result<Vec<Selection>> {
    let rows: Vec<SelTuple> = sqlx::query_as(concat!(
        selection_sql!(),
        " WHERE boot_source_id = $1 ORDER BY id"
    ))
    .bind(source_id)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(selection).collect())
}

pub async fn selection_by_id<'e>(
    e: impl Executor<'e>,
    source_id: i64,
    id: i64,
) -> Result<Option<Selection>> {
    let r: Option<SelTuple> = sqlx::query_as(concat!(
        selection_sql!(),
        " WHERE boot_source_id = $1 AND id = $2"
    ))
    .bind(source_id)
    .bind(id)
    .fetch_optional(e)
    .await?;
    Ok(r.map(selection))
}

/// Whether another selection of the source (not `except`) has os/release.
pub async fn selection_taken(
    c: &mut Conn,
    source_id: i64,
    os: &str,
    release: &str,
    except: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM boot_source_selections
         WHERE boot_source_id = $1 AND os = $2 AND release = $3 AND id <> $4)",
    )
    .bind(source_id)
    .bind(os)
    .bind(release)
    .bind(except)
    .fetch_one(c)
    .await?)
}

/// Insert (`s.id == 0`) or update a selection; its id.
pub async fn save_selection(c: &mut Conn, s: &Selection) -> Result<i64> {
    if s.id == 0 {
        Ok(sqlx::query_scalar(
            "INSERT INTO boot_source_selections (boot_source_id, os, release, arches, subarches, labels)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(s.boot_source_id)
        .bind(&s.os)
        .bind(&s.release)
        .bind(&s.arches)
        .bind(&s.subarches)
        .bind(&s.labels)
        .fetch_one(c)
        .await?)
    } else {
        sqlx::query(
            "UPDATE boot_source_selections SET os = $2, release = $3, arches = $4, subarches = $5,
                    labels = $6 WHERE id = $1",
        )
        .bind(s.id)
        .bind(&s.os)
        .bind(&s.release)
        .bind(&s.arches)
        .bind(&s.subarches)
        .bind(&s.labels)
        .execute(c)
        .await?;
        Ok(s.id)
    }
}

pub async fn delete_selection<'e>(e: impl Executor<'e>, id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM boot_source_selections WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}
