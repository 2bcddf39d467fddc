//! Web UI sessions: a password sign-in opens one (a random 256-bit id in
//! the browser's cookie, its SHA-256 in `ui_sessions`), each use extends it,
//! sign-out deletes it. Every session carries its own CSRF token.

use std::net::IpAddr;

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::services::auth::User;
use crate::services::{Ctx, account};
use crate::store::ui_sessions;

/// A session ends after this long without a request (14 days).
pub const IDLE_TTL_SECS: i64 = 14 * 24 * 3600;
/// A session's expiry is pushed forward at most this often (one write per
/// minute per browser, not one per request).
const TOUCH_EVERY_SECS: i64 = 60;

/// A session just opened: the cookie value and the CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

fn random_hex() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The stored form of a cookie id; `None` for anything that is not one of
/// ours (64 lowercase hex digits), so junk never reaches the database.
fn hash_of(cookie: &str) -> Option<Vec<u8>> {
    let ok = cookie.len() == 64 && cookie.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| Sha256::digest(cookie.as_bytes()).to_vec())
}

/// Check the password (throttled like API logins) and open a session.
pub async fn sign_in(
    ctx: &Ctx,
    peer: Option<IpAddr>,
    username: &str,
    password: &str,
) -> Result<NewSession> {
    let user_id = account::check_password(ctx, peer, username, password).await?;
    let s = NewSession {
        cookie: random_hex(),
        csrf: random_hex(),
    };
    let hash = hash_of(&s.cookie).expect("our own cookie");
    ui_sessions::delete_expired(&ctx.db).await?;
    ui_sessions::insert(&ctx.db, &hash, user_id, &s.csrf, IDLE_TTL_SECS).await?;
    tracing::info!(username, "web UI sign-in");
    Ok(s)
}

/// The live session a cookie names, extended; `None` when there is none.
pub async fn lookup(ctx: &Ctx, cookie: &str) -> Result<Option<Session>> {
    let Some(hash) = hash_of(cookie) else {
        return Ok(None);
    };
    let Some(row) = ctx
        .hot
        .run(async |c| ui_sessions::get(c, &hash).await)
        .await?
    else {
        return Ok(None);
    };
    if row.idle_secs >= TOUCH_EVERY_SECS {
        ui_sessions::touch(&ctx.db, &hash, IDLE_TTL_SECS).await?;
    }
    Ok(Some(Session {
        user: User {
            id: row.user_id,
            username: row.username,
            is_superuser: row.is_superuser,
            machine_id: None,
        },
        csrf: row.csrf,
    }))
}

/// End the session a cookie names (nothing if there is none).
pub async fn sign_out(ctx: &Ctx, cookie: &str) -> Result<()> {
    if let Some(hash) = hash_of(cookie) {
        ui_sessions::delete(&ctx.db, &hash).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_cookies_are_looked_up() {
        let c = random_hex();
        assert_eq!(c.len(), 64);
        assert!(hash_of(&c).is_some());
        assert!(hash_of("short").is_none());
        assert!(hash_of(&"z".repeat(64)).is_none());
        assert_ne!(hash_of(&c), hash_of(&random_hex()));
    }
}
