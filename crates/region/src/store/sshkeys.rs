//! Users' SSH public keys.

use crate::error::Result;
use crate::store::Executor;

#[derive(Debug, Clone)]
pub struct SshKey {
    pub id: i64,
    pub user_id: i64,
    pub key: String,
    pub keysource: Option<String>,
}

type Tuple = (i64, i64, String, Option<String>);

fn row((id, user_id, key, keysource): Tuple) -> SshKey {
    SshKey {
        id,
        user_id,
        key,
        keysource,
    }
}

/// Add a key; `None` when the user already has it.
pub async fn insert<'e>(e: impl Executor<'e>, user_id: i64, key: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sshkeys (user_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(e)
    .await?)
}

/// A user's keys, oldest first.
pub async fn list<'e>(e: impl Executor<'e>, user_id: i64) -> Result<Vec<SshKey>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT id, user_id, key, keysource FROM sshkeys WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

pub async fn get<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<SshKey>> {
    let r: Option<Tuple> =
        sqlx::query_as("SELECT id, user_id, key, keysource FROM sshkeys WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?;
    Ok(r.map(row))
}

pub async fn delete<'e>(e: impl Executor<'e>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sshkeys WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}
