//! The `users` table (and what a user owns that decides whether they can go).

use crate::error::Result;
use crate::store::{Conn, Executor};

/// A user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub username: String,
    pub email: String,
    pub is_superuser: bool,
    pub is_local: bool,
}

type Tuple = (String, String, bool, bool);

fn row((username, email, is_superuser, is_local): Tuple) -> UserRow {
    UserRow {
        username,
        email,
        is_superuser,
        is_local,
    }
}

/// Insert a user; `None` when the username is taken.
pub async fn insert<'e>(
    e: impl Executor<'e>,
    username: &str,
    email: &str,
    password_hash: &str,
    is_superuser: bool,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (username, email, password_hash, is_superuser) VALUES ($1, $2, $3, $4)
         ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(username)
    .bind(email)
    .bind(password_hash)
    .bind(is_superuser)
    .fetch_optional(e)
    .await?)
}

/// Every user but `except` (MAAS's internal node-init user), by username.
pub async fn list_except<'e>(e: impl Executor<'e>, except: &str) -> Result<Vec<UserRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT username, email, is_superuser, is_local FROM users
          WHERE username <> $1 ORDER BY username",
    )
    .bind(except)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<UserRow>> {
    let r: Option<Tuple> =
        sqlx::query_as("SELECT username, email, is_superuser, is_local FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?;
    Ok(r.map(row))
}

pub async fn by_username<'e>(e: impl Executor<'e>, username: &str) -> Result<Option<UserRow>> {
    let r: Option<Tuple> = sqlx::query_as(
        "SELECT username, email, is_superuser, is_local FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(e)
    .await?;
    Ok(r.map(row))
}

pub async fn id_of<'e>(e: impl Executor<'e>, username: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(e)
            .await?,
    )
}

/// A user's id and password hash (empty: no password login).
pub async fn password_hash<'e>(
    e: impl Executor<'e>,
    username: &str,
) -> Result<Option<(i64, String)>> {
    Ok(
        sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(e)
            .await?,
    )
}

/// How many machines a user owns.
pub async fn owned_machines(c: &mut Conn, id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM machines WHERE owner_id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// Delete a user (their keys and SSH keys go with them).
pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Make a user an administrator or not; false when there is no such user.
pub async fn set_superuser<'e>(e: impl Executor<'e>, username: &str, admin: bool) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE users SET is_superuser = $2 WHERE username = $1")
            .bind(username)
            .bind(admin)
            .execute(e)
            .await?
            .rows_affected()
            == 1,
    )
}
