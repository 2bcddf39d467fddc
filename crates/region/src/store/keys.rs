//! Named values in `secrets` (sealed by the caller when secret).

use crate::error::Result;
use crate::store::Pool;

pub async fn get(db: &Pool, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?,
    )
}

/// Store `value` under `name` unless one is there; returns the stored value.
pub async fn get_or_insert(db: &Pool, name: &str, value: &str) -> Result<String> {
    sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(value)
        .execute(db)
        .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(db)
            .await?,
    )
}
