//! Named values in `secrets` (the enrollment secret, the cluster CA, the
//! region key check; sealed by the caller when secret).

use crate::error::Result;
use crate::store::Conn;

/// Insert the named secrets that do not exist yet, all in one statement (so
/// regions starting together keep one consistent set).
pub async fn insert_if_absent(c: &mut Conn, secrets: &[(&str, &str)]) -> Result<()> {
    let names: Vec<&str> = secrets.iter().map(|s| s.0).collect();
    let values: Vec<&str> = secrets.iter().map(|s| s.1).collect();
    sqlx::query(
        "INSERT INTO secrets (name, value) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&names)
    .bind(&values)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A secret's value.
pub async fn get(c: &mut Conn, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *c)
            .await?,
    )
}
