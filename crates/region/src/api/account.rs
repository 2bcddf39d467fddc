//! `account/` (API keys), `account/prefs/sshkeys/`, and the password login
//! python-libmaas's `login()` uses (`/MAAS/accounts/authenticate/`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use sqlx::Row;

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::auth;

/// Create an API key for a user; returns `consumer:token:secret`.
pub async fn create_token<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: i64,
    name: &str,
) -> Result<(String, String, String)> {
    let (ck, tk, ts) = auth::new_key();
    sqlx::query(
        "INSERT INTO tokens (user_id, consumer_key, token_key, token_secret, name) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(&ck)
    .bind(&tk)
    .bind(&ts)
    .bind(name)
    .execute(db)
    .await?;
    Ok((ck, tk, ts))
}

pub async fn account(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::POST, Some("create_authorisation_token")) => {
            let name = req.input.get("name").unwrap_or("").to_string();
            let (ck, tk, ts) = create_token(&app.db, u.id, &name).await?;
            Ok(json(&json!({
                "token_key": tk, "token_secret": ts, "consumer_key": ck, "name": name,
            })))
        }
        (&Method::GET, Some("list_authorisation_tokens")) => {
            let rows = sqlx::query(
                "SELECT name, consumer_key, token_key, token_secret FROM tokens
                  WHERE user_id = $1 AND machine_id IS NULL ORDER BY id",
            )
            .bind(u.id)
            .fetch_all(&app.db)
            .await?;
            let out: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({"name": r.get::<String, _>(0), "token": format!("{}:{}:{}",
                        r.get::<String, _>(1), r.get::<String, _>(2), r.get::<String, _>(3))})
                })
                .collect();
            Ok(json(&out))
        }
        (&Method::POST, Some("delete_authorisation_token")) => {
            let tk = req
                .input
                .get_nonempty("token_key")
                .ok_or_else(|| Error::field("token_key", "This field is required."))?;
            // Accept a whole key too.
            let tk = tk.split(':').nth(1).unwrap_or(tk);
            let n = sqlx::query(
                "DELETE FROM tokens WHERE user_id = $1 AND token_key = $2 AND machine_id IS NULL",
            )
            .bind(u.id)
            .bind(tk)
            .execute(&app.db)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(Error::NotFound("No such token for this user.".into()));
            }
            // Other regions hear it from the trigger; this one forgets now.
            app.tokens.forget(tk);
            Ok(no_content())
        }
        (&Method::POST, Some("update_token_name")) => {
            let tk = req
                .input
                .get_nonempty("token")
                .ok_or_else(|| Error::field("token", "This field is required."))?;
            let tk = tk.split(':').nth(1).unwrap_or(tk);
            let name = req
                .input
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?;
            let n = sqlx::query("UPDATE tokens SET name = $3 WHERE user_id = $1 AND token_key = $2 AND machine_id IS NULL")
                .bind(u.id)
                .bind(tk)
                .bind(name)
                .execute(&app.db)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(Error::NotFound("No such token for this user.".into()));
            }
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

fn key_json(id: i64, key: &str, keysource: Option<String>) -> Value {
    json!({
        "id": id, "key": key, "keysource": keysource,
        "resource_uri": format!("/MAAS/api/2.0/account/prefs/sshkeys/{id}/"),
    })
}

/// Check an OpenSSH public key line: known type, base64 blob whose embedded
/// type matches.
pub fn validate_ssh_key(key: &str) -> Result<(), String> {
    const TYPES: &[&str] = &[
        "ssh-rsa",
        "ssh-dss",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    let mut parts = key.split_whitespace();
    let (Some(t), Some(blob)) = (parts.next(), parts.next()) else {
        return Err("Invalid SSH public key: expected '<type> <base64> [comment]'.".into());
    };
    if !TYPES.contains(&t) {
        return Err(format!("Invalid SSH public key: unknown key type '{t}'."));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| "Invalid SSH public key: the key data is not base64.".to_string())?;
    if raw.len() < 4 {
        return Err("Invalid SSH public key: key data too short.".into());
    }
    let n = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
    if raw.len() < 4 + n || &raw[4..4 + n] != t.as_bytes() {
        return Err("Invalid SSH public key: key data does not match its type.".into());
    }
    Ok(())
}

pub async fn add_ssh_key<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: i64,
    key: &str,
) -> Result<i64> {
    let key = key.trim();
    validate_ssh_key(key).map_err(|e| Error::field("key", e))?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO sshkeys (user_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(db)
    .await?;
    id.ok_or_else(|| Error::field("key", "This key has already been added for this user."))
}

pub async fn sshkeys(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = sqlx::query("SELECT id, key, keysource FROM sshkeys WHERE user_id = $1 ORDER BY id")
                .bind(u.id)
                .fetch_all(&app.db)
                .await?;
            let out: Vec<Value> = rows.iter().map(|r| key_json(r.get(0), r.get(1), r.get(2))).collect();
            Ok(json(&out))
        }
        (&Method::POST, None) => {
            let key = req
                .input
                .text_or_file("key")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| Error::field("key", "This field is required."))?;
            let key = String::from_utf8(key).map_err(|_| Error::field("key", "Not UTF-8."))?;
            let id = add_ssh_key(&app.db, u.id, &key).await?;
            Ok(json(&key_json(id, key.trim(), None)))
        }
        (&Method::POST, Some("import_ssh_keys")) => Err(Error::BadRequest(
            "Importing keys from Launchpad/GitHub needs internet access, which this region does not use; add keys with create.".into(),
        )),
        _ => Err(req.unknown_op()),
    }
}

pub async fn sshkey(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    let u = req.user()?;
    let id: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("No SSH key {id}.")))?;
    let row = sqlx::query("SELECT id, key, keysource, user_id FROM sshkeys WHERE id = $1")
        .bind(id)
        .fetch_optional(&app.db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No SSH key {id}.")))?;
    if row.get::<i64, _>(3) != u.id {
        return Err(Error::Forbidden(
            "This SSH key belongs to another user.".into(),
        ));
    }
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&key_json(row.get(0), row.get(1), row.get(2)))),
        (&Method::DELETE, None) => {
            sqlx::query("DELETE FROM sshkeys WHERE id = $1")
                .bind(id)
                .execute(&app.db)
                .await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

/// `POST /MAAS/accounts/authenticate/` with username + password → a new key.
pub async fn authenticate(State(app): State<App>, req: Req) -> Result<Response> {
    if req.method != Method::POST {
        return Err(req.unknown_op());
    }
    let username = req.input.get("username").unwrap_or("");
    let password = req.input.get("password").unwrap_or("");
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&app.db)
        .await?;
    let ok = row
        .as_ref()
        .is_some_and(|r| auth::verify_password(password, r.get::<&str, _>(1)));
    let Some(row) = row.filter(|_| ok) else {
        return Err(Error::Unauthorized("Invalid username or password.".into()));
    };
    let name = req.input.get("consumer").unwrap_or("login").to_string();
    let (ck, tk, ts) = create_token(&app.db, row.get(0), &name).await?;
    Ok(json(&json!({
        "consumer_key": ck, "token_key": tk, "token_secret": ts, "name": name,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_keys() {
        // A well-formed ed25519 key blob: len "ssh-ed25519" + 32-byte key.
        let mut blob = vec![0, 0, 0, 11];
        blob.extend(b"ssh-ed25519");
        blob.extend([0, 0, 0, 32]);
        blob.extend([7u8; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert!(validate_ssh_key(&format!("ssh-ed25519 {b64} me@host")).is_ok());
        assert!(validate_ssh_key(&format!("ssh-rsa {b64}")).is_err());
        assert!(validate_ssh_key("ssh-ed25519 !!!").is_err());
        assert!(validate_ssh_key("nonsense").is_err());
        assert!(validate_ssh_key("ssh-ed25519 AAAA").is_err());
    }
}
