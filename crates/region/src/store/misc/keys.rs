//! Users' SSL keys and the license keys of operating systems.

use crate::error::Result;
use crate::store::Executor;

/// (id, user id, key)
pub type SslKey = (i64, i64, String);

pub async fn ssl_keys<'e>(e: impl Executor<'e>, user_id: i64) -> Result<Vec<SslKey>> {
    Ok(
        sqlx::query_as("SELECT id, user_id, key FROM sslkeys WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(e)
            .await?,
    )
}

pub async fn ssl_key<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<SslKey>> {
    Ok(
        sqlx::query_as("SELECT id, user_id, key FROM sslkeys WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?,
    )
}

/// The new key's id, or `None` when the user already has it.
pub async fn add_ssl_key<'e>(e: impl Executor<'e>, user_id: i64, key: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sslkeys (user_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(e)
    .await?)
}

pub async fn delete_ssl_key<'e>(e: impl Executor<'e>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sslkeys WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// (osystem, distro_series, license_key)
pub type LicenseKey = (String, String, String);

pub async fn license_keys<'e>(e: impl Executor<'e>) -> Result<Vec<LicenseKey>> {
    Ok(sqlx::query_as(
        "SELECT osystem, distro_series, license_key FROM license_keys ORDER BY osystem, distro_series",
    )
    .fetch_all(e)
    .await?)
}

pub async fn license_key<'e>(
    e: impl Executor<'e>,
    osystem: &str,
    series: &str,
) -> Result<Option<LicenseKey>> {
    Ok(sqlx::query_as(
        "SELECT osystem, distro_series, license_key FROM license_keys
         WHERE osystem = $1 AND distro_series = $2",
    )
    .bind(osystem)
    .bind(series)
    .fetch_optional(e)
    .await?)
}

/// Insert a key; `false` when one exists for the os/series.
pub async fn insert_license_key<'e>(
    e: impl Executor<'e>,
    osystem: &str,
    series: &str,
    key: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO license_keys (osystem, distro_series, license_key) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(osystem)
    .bind(series)
    .bind(key)
    .execute(e)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn update_license_key<'e>(
    e: impl Executor<'e>,
    osystem: &str,
    series: &str,
    key: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE license_keys SET license_key = $3 WHERE osystem = $1 AND distro_series = $2",
    )
    .bind(osystem)
    .bind(series)
    .bind(key)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn delete_license_key<'e>(
    e: impl Executor<'e>,
    osystem: &str,
    series: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM license_keys WHERE osystem = $1 AND distro_series = $2")
        .bind(osystem)
        .bind(series)
        .execute(e)
        .await?;
    Ok(())
}
