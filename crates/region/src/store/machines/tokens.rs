//! Machines' own OAuth tokens (the metadata API's credentials).

use crate::error::Result;
use crate::store::Conn;

/// A machine's first token: (consumer key, token key, secret).
pub async fn first(c: &mut Conn, machine_id: i64) -> Result<Option<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT consumer_key, token_key, token_secret FROM tokens
          WHERE machine_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(machine_id)
    .fetch_optional(&mut *c)
    .await?)
}

/// The user that owns machines' tokens (MAAS's node-init user), created on
/// first use.
pub async fn node_init_user(c: &mut Conn) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (username, email, is_superuser, is_local)
         VALUES ('maas-init-node', '', false, false)
         ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id",
    )
    .fetch_one(&mut *c)
    .await?)
}

pub async fn insert(
    c: &mut Conn,
    user_id: i64,
    machine_id: i64,
    key: (&str, &str, &str),
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (user_id, consumer_key, token_key, token_secret, name, machine_id)
         VALUES ($1, $2, $3, $4, 'node', $5)",
    )
    .bind(user_id)
    .bind(key.0)
    .bind(key.1)
    .bind(key.2)
    .bind(machine_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}
