//! The `ui_sessions` table: signed-in browsers, keyed by the SHA-256 of
//! their cookie's id.

use crate::error::Result;
use crate::store::Executor;

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub is_superuser: bool,
    pub csrf: String,
    /// Seconds since the session was last extended.
    pub idle_secs: i64,
}

/// Record a new session that expires after `ttl_secs` without use.
pub async fn insert<'e>(
    e: impl Executor<'e>,
    id_hash: &[u8],
    user_id: i64,
    csrf: &str,
    ttl_secs: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ui_sessions (id_hash, user_id, csrf, expires)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(ttl_secs as f64)
    .execute(e)
    .await?;
    Ok(())
}

/// The unexpired session with this id hash, with its user.
pub async fn get<'e>(e: impl Executor<'e>, id_hash: &[u8]) -> Result<Option<SessionRow>> {
    let r: Option<(i64, String, bool, String, f64)> = sqlx::query_as(
        "SELECT s.user_id, u.username, u.is_superuser, s.csrf,
                extract(epoch FROM now() - s.last_seen)::float8
           FROM ui_sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id_hash = $1 AND s.expires > now()",
    )
    .bind(id_hash)
    .fetch_optional(e)
    .await?;
    Ok(
        r.map(|(user_id, username, is_superuser, csrf, idle)| SessionRow {
            user_id,
            username,
            is_superuser,
            csrf,
            idle_secs: idle as i64,
        }),
    )
}

/// Push the session's expiry to `ttl_secs` from now.
pub async fn touch<'e>(e: impl Executor<'e>, id_hash: &[u8], ttl_secs: i64) -> Result<()> {
    sqlx::query(
        "UPDATE ui_sessions SET last_seen = now(), expires = now() + make_interval(secs => $2)
          WHERE id_hash = $1",
    )
    .bind(id_hash)
    .bind(ttl_secs as f64)
    .execute(e)
    .await?;
    Ok(())
}

/// End a session; whether there was one.
pub async fn delete<'e>(e: impl Executor<'e>, id_hash: &[u8]) -> Result<bool> {
    let n = sqlx::query("DELETE FROM ui_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(e)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Drop expired sessions; how many.
pub async fn delete_expired<'e>(e: impl Executor<'e>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM ui_sessions WHERE expires <= now()")
            .execute(e)
            .await?
            .rows_affected(),
    )
}
