//! Files users store, per owner.

use crate::error::Result;
use crate::store::{Conn, Executor};

/// A stored file (content only when read for it).
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: i64,
    pub owner_id: i64,
    pub filename: String,
    pub key: String,
    pub content: Vec<u8>,
}

type Tuple = (i64, i64, String, String, Vec<u8>);

fn file((id, owner_id, filename, key, content): Tuple) -> StoredFile {
    StoredFile {
        id,
        owner_id,
        filename,
        key,
        content,
    }
}

/// An owner's files by name (without content), optionally under a prefix.
pub async fn list<'e>(
    e: impl Executor<'e>,
    owner_id: i64,
    prefix: Option<&str>,
) -> Result<Vec<StoredFile>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT id, owner_id, filename, key, ''::bytea FROM files
         WHERE owner_id = $1 AND ($2::text IS NULL OR starts_with(filename, $2))
         ORDER BY filename",
    )
    .bind(owner_id)
    .bind(prefix)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(file).collect())
}

pub async fn by_name<'e>(
    e: impl Executor<'e>,
    owner_id: i64,
    filename: &str,
) -> Result<Option<StoredFile>> {
    let r: Option<Tuple> = sqlx::query_as(
        "SELECT id, owner_id, filename, key, content FROM files WHERE owner_id = $1 AND filename = $2",
    )
    .bind(owner_id)
    .bind(filename)
    .fetch_optional(e)
    .await?;
    Ok(r.map(file))
}

pub async fn by_key<'e>(e: impl Executor<'e>, key: &str) -> Result<Option<StoredFile>> {
    let r: Option<Tuple> =
        sqlx::query_as("SELECT id, owner_id, filename, key, content FROM files WHERE key = $1")
            .bind(key)
            .fetch_optional(e)
            .await?;
    Ok(r.map(file))
}

/// Store a file, replacing the content of the owner's file of that name (its
/// key stays).
pub async fn save(
    c: &mut Conn,
    owner_id: i64,
    filename: &str,
    content: &[u8],
    new_key: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (owner_id, filename, content, key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner_id, filename) DO UPDATE SET content = EXCLUDED.content",
    )
    .bind(owner_id)
    .bind(filename)
    .bind(content)
    .bind(new_key)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete<'e>(e: impl Executor<'e>, owner_id: i64, filename: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM files WHERE owner_id = $1 AND filename = $2")
        .bind(owner_id)
        .bind(filename)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}
