//! Notifications and who dismissed them.

use crate::error::Result;
use crate::store::{Conn, Executor};

#[derive(Debug, Clone, Default)]
pub struct Notification {
    pub id: i64,
    pub ident: Option<String>,
    pub user_id: Option<i64>,
    pub users: bool,
    pub admins: bool,
    pub message: String,
    pub context: serde_json::Value,
    pub category: String,
    pub dismissable: bool,
}

type Tuple = (
    i64,
    Option<String>,
    Option<i64>,
    bool,
    bool,
    String,
    serde_json::Value,
    String,
    bool,
);

fn row(
    (id, ident, user_id, users, admins, message, context, category, dismissable): Tuple,
) -> Notification {
    Notification {
        id,
        ident,
        user_id,
        users,
        admins,
        message,
        context,
        category,
        dismissable,
    }
}

macro_rules! columns_sql {
    () => {
        "SELECT n.id, n.ident, n.user_id, n.users, n.admins, n.message, n.context,
    n.category, n.dismissable FROM notifications n"
    };
}

/// Those for a user not dismissed by them: addressed to them, or to all
/// admins (`admin`) / all users (not `admin`).
pub async fn for_user<'e>(
    e: impl Executor<'e>,
    user_id: i64,
    admin: bool,
) -> Result<Vec<Notification>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(
        columns_sql!(),
        " WHERE (n.user_id = $1 OR (CASE WHEN $2 THEN n.admins ELSE n.users END))
           AND NOT EXISTS (SELECT 1 FROM notification_dismissals d
                           WHERE d.notification_id = n.id AND d.user_id = $1)
         ORDER BY n.id"
    ))
    .bind(user_id)
    .bind(admin)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

/// Every notification, whoever it is for (admins manage them all).
pub async fn all<'e>(e: impl Executor<'e>) -> Result<Vec<Notification>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(columns_sql!(), " ORDER BY n.id"))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(row).collect())
}

pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Notification>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns_sql!(), " WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(row))
}

/// Whether another notification (not `except`) has this ident.
pub async fn ident_taken(c: &mut Conn, ident: &str, except: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE ident = $1 AND id <> $2)",
    )
    .bind(ident)
    .bind(except)
    .fetch_one(c)
    .await?)
}

/// Insert (`n.id == 0`) or update; the id.
pub async fn save(c: &mut Conn, n: &Notification) -> Result<i64> {
    let sql = if n.id == 0 {
        "INSERT INTO notifications (ident, user_id, users, admins, message, context, category, dismissable)
         VALUES ($2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
    } else {
        "UPDATE notifications SET ident = $2, user_id = $3, users = $4, admins = $5, message = $6,
                context = $7, category = $8, dismissable = $9, updated = now()
         WHERE id = $1 RETURNING id"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(n.id)
        .bind(&n.ident)
        .bind(n.user_id)
        .bind(n.users)
        .bind(n.admins)
        .bind(&n.message)
        .bind(&n.context)
        .bind(&n.category)
        .bind(n.dismissable)
        .fetch_one(c)
        .await?)
}

pub async fn delete<'e>(e: impl Executor<'e>, id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM notifications WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn dismiss<'e>(e: impl Executor<'e>, id: i64, user_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_dismissals (notification_id, user_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .execute(e)
    .await?;
    Ok(())
}

/// A user's name, email, admin flag and locality by id.
pub async fn user<'e>(
    e: impl Executor<'e>,
    id: i64,
) -> Result<Option<(i64, String, String, bool, bool)>> {
    Ok(sqlx::query_as(
        "SELECT id, username, email, is_superuser, is_local FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?)
}

/// A user's id by name.
pub async fn user_id_by_name<'e>(e: impl Executor<'e>, name: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(name)
            .fetch_optional(e)
            .await?,
    )
}
