//! Global settings: the `config` table, name → JSON value.

use serde_json::Value;

use crate::error::Result;
use crate::store::Executor;

/// A setting's stored value (`None`: never set).
pub async fn get<'e>(e: impl Executor<'e>, name: &str) -> Result<Option<Value>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM config WHERE name = $1")
            .bind(name)
            .fetch_optional(e)
            .await?,
    )
}

/// Store a setting's value.
pub async fn set<'e>(e: impl Executor<'e>, name: &str, value: &Value) -> Result<()> {
    sqlx::query(
        "INSERT INTO config (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind(name)
    .bind(value)
    .execute(e)
    .await?;
    Ok(())
}
