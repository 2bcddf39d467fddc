//! MAAS API authentication: OAuth 1.0a PLAINTEXT (`consumer:token:secret`
//! API keys), the API-key cache, password hashing, and key generation.
//! Reading the credentials out of an HTTP request is the edge's
//! (`api::oauth`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::Rng;
use rand::distr::Alphanumeric;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::store::db::{Hot, Notice};
use crate::store::{self, Pool};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_superuser: bool,
    /// Set when the caller used a machine's own (node) token.
    pub machine_id: Option<i64>,
}

/// The OAuth fields a MAAS client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub consumer_key: String,
    pub token: String,
    pub signature: String,
    pub signature_method: String,
    pub timestamp: String,
    pub nonce: String,
}

/// Percent-decode (lossy UTF-8).
pub fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// PLAINTEXT signature check: the signature is `<consumer secret>&<token
/// secret>` with an empty consumer secret. Clients percent-encode the
/// secrets inside it, so accept both the encoded and the raw form.
pub fn signature_matches(signature: &str, token_secret: &str) -> bool {
    let Some(got) = signature.strip_prefix('&') else {
        return false;
    };
    let raw: bool = got.as_bytes().ct_eq(token_secret.as_bytes()).into();
    let decoded = pct_decode(got);
    let enc: bool = decoded.as_bytes().ct_eq(token_secret.as_bytes()).into();
    raw | enc
}

/// Authenticate a caller's credentials; 401 when they are not a valid key.
/// Known tokens come from `cache` (see [`TokenCache`]); unknown ones are
/// always looked up.
pub async fn authenticate(db: &Hot, cache: &TokenCache, h: &Credentials) -> Result<User> {
    if !h.signature_method.eq_ignore_ascii_case("PLAINTEXT") {
        return Err(Error::Unauthorized(format!(
            "Authorization Error: unsupported signature method '{}'; use PLAINTEXT.",
            h.signature_method
        )));
    }
    if h.timestamp.parse::<u64>().is_err() {
        return Err(Error::Unauthorized(
            "Authorization Error: oauth_timestamp is not a number.".into(),
        ));
    }
    let invalid = || Error::Unauthorized("Authorization Error: Invalid API key.".into());
    let token = match cache.get(&h.token) {
        Some(t) => t,
        None => {
            let epoch = cache.epoch();
            let owner = db
                .run(async |c| store::tokens::owner(c, &h.token).await)
                .await?
                .ok_or_else(invalid)?;
            let t = Arc::new(CachedToken {
                user: User {
                    id: owner.user_id,
                    username: owner.username,
                    is_superuser: owner.is_superuser,
                    machine_id: owner.machine_id,
                },
                consumer_key: owner.consumer_key,
                secret: owner.token_secret,
                at: Instant::now(),
            });
            cache.put(epoch, &h.token, t.clone());
            t
        }
    };
    let ck_ok: bool = token
        .consumer_key
        .as_bytes()
        .ct_eq(h.consumer_key.as_bytes())
        .into();
    if !ck_ok || !signature_matches(&h.signature, &token.secret) {
        return Err(invalid());
    }
    Ok(token.user.clone())
}

/// The channel the `tokens`/`users` triggers notify when a key stops being
/// valid or its user changes (payload: the token key, or `*` for all).
pub const AUTH_CHANNEL: &str = "maas_auth";

/// How long a cached token is trusted without a fresh lookup, even with no
/// notification: the bound on a revoked key's life if this region's LISTEN
/// connection hangs without failing (a half-open socket). Invalidation
/// itself is by notification.
const TOKEN_TTL: Duration = Duration::from_secs(10);
const TOKEN_CACHE_MAX: usize = 50_000;

pub struct CachedToken {
    user: User,
    consumer_key: String,
    secret: String,
    at: Instant,
}

/// Tokens this region has seen valid, so a request needs no database round
/// trip to authenticate. It is only used while this region is LISTENing on
/// [`AUTH_CHANNEL`]: every region drops a key as soon as PostgreSQL tells it
/// the row changed, and the region that made the change drops it before
/// answering. When the LISTEN connection is down, the cache is empty and
/// off, so every request reads the database.
///
/// A lookup that raced with an invalidation is not cached: fills carry the
/// epoch read before the query and are discarded if it moved.
#[derive(Default)]
pub struct TokenCache {
    map: RwLock<HashMap<String, Arc<CachedToken>>>,
    epoch: AtomicU64,
    live: AtomicBool,
}

impl TokenCache {
    fn get(&self, token_key: &str) -> Option<Arc<CachedToken>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(token_key)
            .filter(|t| t.at.elapsed() < TOKEN_TTL)
            .cloned()
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn put(&self, epoch: u64, token_key: &str, t: Arc<CachedToken>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock: invalidations bump the epoch under it too.
        if !self.live.load(Ordering::Acquire) || self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if map.len() >= TOKEN_CACHE_MAX {
            map.clear();
        }
        map.insert(token_key.to_string(), t);
    }

    /// Drop one key (`*`: all of them).
    pub fn forget(&self, token_key: &str) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if token_key == "*" {
            map.clear();
        } else {
            map.remove(token_key);
        }
    }

    /// Drop everything (after a change that may touch many keys).
    pub fn clear(&self) {
        self.forget("*");
    }

    fn set_live(&self, live: bool) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        map.clear();
        self.live.store(live, Ordering::Release);
    }

    /// Whether a key is cached (tests, diagnostics).
    pub fn holds(&self, token_key: &str) -> bool {
        self.get(token_key).is_some()
    }

    /// Number of cached keys (tests, diagnostics).
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keep `cache` in step with the database: LISTEN on [`AUTH_CHANNEL`] and
/// apply each notification; while the connection is down the cache is off.
/// `on_reconnect(connected)` runs whenever the connection is lost (false)
/// or back (true): the region also drops its render caches then (a database
/// that failed over or was restored may hand out version numbers again) and
/// loads them again.
pub async fn follow_token_changes(
    db: Pool,
    cache: Arc<TokenCache>,
    on_reconnect: impl Fn(bool) + Send + 'static,
) {
    store::db::follow(db, &[AUTH_CHANNEL], |n| match n {
        Notice::Connected => {
            on_reconnect(true);
            cache.set_live(true)
        }
        Notice::Notified(n) => cache.forget(n.payload()),
        Notice::Lost => {
            on_reconnect(false);
            cache.set_live(false)
        }
    })
    .await
}

pub fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new API key: (consumer_key, token_key, token_secret), MAAS's lengths.
pub fn new_key() -> (String, String, String) {
    (random_string(18), random_string(18), random_string(32))
}

const PBKDF2_ROUNDS: u32 = 100_000;

/// `pbkdf2_sha256$rounds$salt$hash` (Django's format).
pub fn hash_password(password: &str) -> String {
    let salt = random_string(16);
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        PBKDF2_ROUNDS,
        &mut out,
    );
    format!(
        "pbkdf2_sha256${PBKDF2_ROUNDS}${salt}${}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [algo, rounds, salt, hash] = parts.as_slice() else {
        return false;
    };
    let Ok(rounds) = rounds.parse::<u32>() else {
        return false;
    };
    if *algo != "pbkdf2_sha256" || rounds == 0 || rounds > 10_000_000 {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), rounds, &mut out);
    let enc = base64::engine::general_purpose::STANDARD.encode(out);
    enc.as_bytes().ct_eq(hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_signatures() {
        assert!(signature_matches("&ts", "ts"));
        assert!(!signature_matches("&tx", "ts"));
        assert!(!signature_matches("ts", "ts"));
        // Secrets with characters that get encoded twice.
        assert!(signature_matches("&t%20s%26x", "t s&x"));
    }

    #[test]
    fn passwords() {
        let h = hash_password("s3cret");
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("s3cret!", &h));
        assert!(!verify_password("s3cret", "garbage"));
    }
}
