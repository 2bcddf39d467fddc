//! `users/` and `users/{username}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::{PgExecutor, Row};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::auth;

fn user_json(username: &str, email: &str, is_superuser: bool, is_local: bool) -> Value {
    json!({
        "username": username,
        "email": email,
        "is_superuser": is_superuser,
        "is_local": is_local,
        "last_name": "",
        "resource_uri": format!("/MAAS/api/2.0/users/{username}/"),
    })
}

pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 150
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c))
}

/// Create a user (also used by `maas-region createadmin`).
pub async fn create_user<'e>(
    db: impl PgExecutor<'e>,
    username: &str,
    email: &str,
    password: &str,
    is_superuser: bool,
) -> Result<()> {
    if !valid_username(username) {
        return Err(Error::field(
            "username",
            "Enter a valid username: letters, digits and @/./+/-/_ only.",
        ));
    }
    let r = sqlx::query(
        "INSERT INTO users (username, email, password_hash, is_superuser) VALUES ($1, $2, $3, $4)
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(email)
    .bind(if password.is_empty() {
        String::new()
    } else {
        auth::hash_password(password)
    })
    .bind(is_superuser)
    .execute(db)
    .await?;
    if r.rows_affected() == 0 {
        return Err(Error::field(
            "username",
            "A user with that username already exists.",
        ));
    }
    Ok(())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            let rows = sqlx::query(
                "SELECT username, email, is_superuser, is_local FROM users
                  WHERE username <> 'maas-init-node' ORDER BY username",
            )
            .fetch_all(&app.db)
            .await?;
            let out: Vec<Value> = rows
                .iter()
                .map(|r| user_json(r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect();
            Ok(json(&out))
        }
        (&Method::GET, Some("whoami")) => {
            let u = req.user()?;
            let r = sqlx::query("SELECT email, is_local FROM users WHERE id = $1")
                .bind(u.id)
                .fetch_one(&app.db)
                .await?;
            Ok(json(&user_json(
                &u.username,
                r.get(0),
                u.is_superuser,
                r.get(1),
            )))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let i = &req.input;
            let mut errors = maas_model::constraints::FieldErrors::new();
            for f in ["username", "email", "password"] {
                if i.get_nonempty(f).is_none() {
                    errors.insert(f.into(), vec!["This field is required.".into()]);
                }
            }
            let is_superuser = i.bool("is_superuser")?.unwrap_or(false);
            if !errors.is_empty() {
                return Err(Error::Validation(errors));
            }
            let username = i.get("username").unwrap_or_default();
            let email = i.get("email").unwrap_or_default();
            if !email.contains('@') {
                return Err(Error::field("email", "Enter a valid email address."));
            }
            create_user(
                &app.db,
                username,
                email,
                i.get("password").unwrap_or_default(),
                is_superuser,
            )
            .await?;
            Ok(json(&user_json(username, email, is_superuser, true)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(username): Path<String>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            let r =
                sqlx::query("SELECT email, is_superuser, is_local FROM users WHERE username = $1")
                    .bind(&username)
                    .fetch_optional(&app.db)
                    .await?
                    .ok_or_else(|| {
                        Error::NotFound(format!("No User matches the given query ({username})."))
                    })?;
            Ok(json(&user_json(&username, r.get(0), r.get(1), r.get(2))))
        }
        (&Method::DELETE, None) => {
            let me = req.admin()?;
            if me.username == username {
                return Err(Error::BadRequest(
                    "You cannot delete your own account.".into(),
                ));
            }
            let mut tx = app.db.begin().await?;
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                .bind(&username)
                .fetch_optional(&mut *tx)
                .await?;
            let id = id.ok_or_else(|| {
                Error::NotFound(format!("No User matches the given query ({username})."))
            })?;
            let owned: i64 =
                sqlx::query_scalar("SELECT count(*) FROM machines WHERE owner_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if owned > 0 {
                return Err(Error::BadRequest(format!(
                    "Cannot delete user {username}: they own {owned} machine(s). Release them first."
                )));
            }
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            app.tokens.clear();
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
