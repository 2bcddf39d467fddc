//! Users' API keys (`tokens` rows without a machine) and the lookup that
//! authenticates every request (machines' own tokens included).

use crate::error::Result;
use crate::store::{Conn, Executor};

/// An API key: consumer key, token key, token secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub consumer_key: String,
    pub token_key: String,
    pub token_secret: String,
}

/// A user's API key with its name.
#[derive(Debug, Clone)]
pub struct NamedKey {
    pub name: String,
    pub key: Key,
}

/// Who a token key belongs to, and what proves it.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user_id: i64,
    pub username: String,
    pub is_superuser: bool,
    pub consumer_key: String,
    pub token_secret: String,
    /// Set for a machine's own (node) token.
    pub machine_id: Option<i64>,
}

/// Store a user's API key.
pub async fn insert<'e>(e: impl Executor<'e>, user_id: i64, key: &Key, name: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (user_id, consumer_key, token_key, token_secret, name)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(&key.consumer_key)
    .bind(&key.token_key)
    .bind(&key.token_secret)
    .bind(name)
    .execute(e)
    .await?;
    Ok(())
}

/// A user's API keys, oldest first.
pub async fn list<'e>(e: impl Executor<'e>, user_id: i64) -> Result<Vec<NamedKey>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT name, consumer_key, token_key, token_secret FROM tokens
          WHERE user_id = $1 AND machine_id IS NULL ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, consumer_key, token_key, token_secret)| NamedKey {
            name,
            key: Key {
                consumer_key,
                token_key,
                token_secret,
            },
        })
        .collect())
}

/// Delete one of a user's API keys; whether it existed.
pub async fn delete<'e>(e: impl Executor<'e>, user_id: i64, token_key: &str) -> Result<bool> {
    let n = sqlx::query(
        "DELETE FROM tokens WHERE user_id = $1 AND token_key = $2 AND machine_id IS NULL",
    )
    .bind(user_id)
    .bind(token_key)
    .execute(e)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Rename one of a user's API keys; whether it existed.
pub async fn rename<'e>(
    e: impl Executor<'e>,
    user_id: i64,
    token_key: &str,
    name: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE tokens SET name = $3 WHERE user_id = $1 AND token_key = $2 AND machine_id IS NULL",
    )
    .bind(user_id)
    .bind(token_key)
    .bind(name)
    .execute(e)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// The owner of a token key (one indexed read: authentication's only
/// statement).
pub async fn owner(c: &mut Conn, token_key: &str) -> Result<Option<TokenOwner>> {
    let r: Option<(i64, String, bool, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT u.id, u.username, u.is_superuser, t.consumer_key, t.token_secret, t.machine_id
           FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_key = $1",
    )
    .bind(token_key)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(
        |(user_id, username, is_superuser, consumer_key, token_secret, machine_id)| TokenOwner {
            user_id,
            username,
            is_superuser,
            consumer_key,
            token_secret,
            machine_id,
        },
    ))
}
