//! `account/` (API keys), `account/prefs/sshkeys/`, and the password login
//! python-libmaas's `login()` uses (`/MAAS/accounts/authenticate/`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::services::account::{self, SshKey};

fn required<'a>(req: &'a Req, field: &str) -> Result<&'a str> {
    req.input
        .get_nonempty(field)
        .ok_or_else(|| Error::field(field, "This field is required."))
}

pub async fn account(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::POST, Some("create_authorisation_token")) => {
            let name = req.input.get("name").unwrap_or("");
            let k = account::create_token(&app.db, u.id, name).await?;
            Ok(json(&json!({
                "token_key": k.token_key, "token_secret": k.token_secret,
                "consumer_key": k.consumer_key, "name": name,
            })))
        }
        (&Method::GET, Some("list_authorisation_tokens")) => {
            let out: Vec<Value> = account::tokens(&app.db, u.id)
                .await?
                .iter()
                .map(|t| json!({"name": t.name, "token": t.key.to_string()}))
                .collect();
            Ok(json(&out))
        }
        (&Method::POST, Some("delete_authorisation_token")) => {
            let tk = required(&req, "token_key")?;
            account::delete_token(&app, u.id, tk).await?;
            Ok(no_content())
        }
        (&Method::POST, Some("update_token_name")) => {
            let tk = required(&req, "token")?;
            let name = required(&req, "name")?;
            account::rename_token(&app.db, u.id, tk, name).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

fn key_json(k: &SshKey) -> Value {
    json!({
        "id": k.id, "key": k.key, "keysource": k.keysource,
        "resource_uri": format!("/MAAS/api/2.0/account/prefs/sshkeys/{}/", k.id),
    })
}

pub async fn sshkeys(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let out: Vec<Value> = account::ssh_keys(&app.db, u.id)
                .await?
                .iter()
                .map(key_json)
                .collect();
            Ok(json(&out))
        }
        (&Method::POST, None) => {
            let key = req
                .input
                .text_or_file("key")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| Error::field("key", "This field is required."))?;
            let key = String::from_utf8(key).map_err(|_| Error::field("key", "Not UTF-8."))?;
            let id = account::add_ssh_key(&app.db, u.id, &key).await?;
            Ok(json(&key_json(&SshKey {
                id,
                user_id: u.id,
                key: key.trim().to_string(),
                keysource: None,
            })))
        }
        (&Method::POST, Some("import" | "import_ssh_keys")) => Err(
            crate::services::misc::keys::import_ssh_keys(req.input.get("keysource")),
        ),
        _ => Err(req.unknown_op()),
    }
}

pub async fn sshkey(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    let u = req.user()?;
    let id: i64 = id
        .parse()
        .map_err(|_| Error::NotFound(format!("No SSH key {id}.")))?;
    let key = account::ssh_key(&app.db, u, id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&key_json(&key))),
        (&Method::DELETE, None) => {
            account::delete_ssh_key(&app.db, &key).await?;
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
    let name = req.input.get("consumer").unwrap_or("login");
    let k = account::sign_in(&app, req.peer, username, password, name).await?;
    Ok(json(&json!({
        "consumer_key": k.consumer_key, "token_key": k.token_key,
        "token_secret": k.token_secret, "name": name,
    })))
}
