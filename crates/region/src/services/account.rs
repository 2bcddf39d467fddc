//! A user's own things: API keys, SSH keys, and the password sign-in that
//! hands out a key.

use std::net::IpAddr;

use base64::Engine;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::{self, User};
use crate::store::{self, Executor, Pool};

pub use crate::store::sshkeys::SshKey;
pub use crate::store::tokens::{Key, NamedKey};

impl std::fmt::Display for Key {
    /// `consumer:token:secret`, as clients take an API key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.consumer_key, self.token_key, self.token_secret
        )
    }
}

/// Create an API key for a user (also `maas-region apikey` and tests).
pub async fn create_token(db: &Pool, user_id: i64, name: &str) -> Result<Key> {
    let (consumer_key, token_key, token_secret) = auth::new_key();
    let key = Key {
        consumer_key,
        token_key,
        token_secret,
    };
    store::tokens::insert(db, user_id, &key, name).await?;
    Ok(key)
}

/// A new API key for a user named by username; `None`: no such user.
pub async fn create_token_for(db: &Pool, username: &str, name: &str) -> Result<Option<Key>> {
    match store::users::id_of(db, username).await? {
        Some(id) => Ok(Some(create_token(db, id, name).await?)),
        None => Ok(None),
    }
}

/// A user's API keys, oldest first.
pub async fn tokens(db: &Pool, user_id: i64) -> Result<Vec<NamedKey>> {
    store::tokens::list(db, user_id).await
}

/// The token key in what a client sends: the token key or a whole API key.
fn token_key(given: &str) -> &str {
    given.split(':').nth(1).unwrap_or(given)
}

fn no_such_token() -> Error {
    Error::NotFound("No such token for this user.".into())
}

/// Revoke one of a user's API keys. Other regions hear it from the
/// database's trigger; this one forgets the key before answering.
pub async fn delete_token(ctx: &Ctx, user_id: i64, token: &str) -> Result<()> {
    let tk = token_key(token);
    if !store::tokens::delete(&ctx.db, user_id, tk).await? {
        return Err(no_such_token());
    }
    ctx.tokens.forget(tk);
    Ok(())
}

pub async fn rename_token(db: &Pool, user_id: i64, token: &str, name: &str) -> Result<()> {
    if !store::tokens::rename(db, user_id, token_key(token), name).await? {
        return Err(no_such_token());
    }
    Ok(())
}

/// Password sign-in (python-libmaas's `login()`): a new API key named
/// `consumer`.
///
/// Throttled per user name and per address (`services::signin`); an unknown
/// user costs the same password check as a known one, so the answer time
/// does not tell which names exist.
pub async fn sign_in(
    ctx: &Ctx,
    peer: Option<IpAddr>,
    username: &str,
    password: &str,
    consumer: &str,
) -> Result<Key> {
    let id = check_password(ctx, peer, username, password).await?;
    create_token(&ctx.db, id, consumer).await
}

/// The user id for a username and password (401 otherwise), throttled per
/// user name and address (`signin`): API key login and the web UI alike.
pub async fn check_password(
    ctx: &Ctx,
    peer: Option<IpAddr>,
    username: &str,
    password: &str,
) -> Result<i64> {
    ctx.signin.check(username, peer)?;
    let found = store::users::password_hash(&ctx.db, username).await?;
    let password = password.to_string();
    let (found, ok) = tokio::task::spawn_blocking(move || {
        let hash = match &found {
            Some((_, h)) if !h.is_empty() => h.as_str(),
            _ => DUMMY_HASH.as_str(),
        };
        let ok = auth::verify_password(&password, hash);
        (found, ok)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?;
    let id = match found {
        Some((id, h)) if ok && !h.is_empty() => id,
        _ => {
            ctx.signin.failed(username, peer);
            return Err(Error::Unauthorized("Invalid username or password.".into()));
        }
    };
    ctx.signin.succeeded(username);
    Ok(id)
}

/// What an unknown user's password is checked against (same cost).
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password("no such user"));

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

/// Add an SSH key (surrounding whitespace dropped) for a user; its id.
pub async fn add_ssh_key<'e>(e: impl Executor<'e>, user_id: i64, key: &str) -> Result<i64> {
    let key = key.trim();
    validate_ssh_key(key).map_err(|e| Error::field("key", e))?;
    store::sshkeys::insert(e, user_id, key)
        .await?
        .ok_or_else(|| Error::field("key", "This key has already been added for this user."))
}

/// A user's SSH keys, oldest first.
pub async fn ssh_keys(db: &Pool, user_id: i64) -> Result<Vec<SshKey>> {
    store::sshkeys::list(db, user_id).await
}

/// One of the caller's SSH keys (404 if none, 403 if someone else's).
pub async fn ssh_key(db: &Pool, me: &User, id: i64) -> Result<SshKey> {
    let k = store::sshkeys::get(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No SSH key {id}.")))?;
    if k.user_id != me.id {
        return Err(Error::Forbidden(
            "This SSH key belongs to another user.".into(),
        ));
    }
    Ok(k)
}

pub async fn delete_ssh_key(db: &Pool, key: &SshKey) -> Result<()> {
    store::sshkeys::delete(db, key.id).await
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

    #[test]
    fn token_keys() {
        assert_eq!(token_key("tk"), "tk");
        assert_eq!(token_key("ck:tk:ts"), "tk");
        let k = Key {
            consumer_key: "c".into(),
            token_key: "t".into(),
            token_secret: "s".into(),
        };
        assert_eq!(k.to_string(), "c:t:s");
    }
}
