//! Reading OAuth credentials out of a request's `Authorization` header; the
//! check itself is `services::auth::authenticate`.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

use crate::error::{Error, Result};
use crate::services::auth::{self, Credentials, TokenCache, User, pct_decode};
use crate::store::db::Hot;

/// Parse `OAuth k="v", k=v, ...` (quoted or bare values, percent-encoded).
pub fn parse_oauth_header(value: &str) -> Result<Credentials, String> {
    let rest = value
        .trim()
        .strip_prefix("OAuth")
        .ok_or("Authorization header does not use the OAuth scheme")?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err("Authorization header does not use the OAuth scheme".into());
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("malformed OAuth parameter '{item}'"))?;
        let v = v.trim();
        let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            &v[1..v.len() - 1]
        } else if v.contains('"') {
            return Err(format!("malformed OAuth parameter '{item}'"));
        } else {
            v
        };
        let v = pct_decode(v);
        if v.contains('\0') {
            return Err(format!("OAuth parameter {} contains a NUL byte", k.trim()));
        }
        fields.insert(k.trim().to_string(), v);
    }
    let mut take = |k: &str| {
        fields
            .remove(k)
            .ok_or_else(|| format!("missing OAuth parameter {k}"))
    };
    Ok(Credentials {
        consumer_key: take("oauth_consumer_key")?,
        token: take("oauth_token")?,
        signature: take("oauth_signature")?,
        signature_method: take("oauth_signature_method")?,
        timestamp: take("oauth_timestamp")?,
        nonce: take("oauth_nonce")?,
    })
}

/// Authenticate a request. `Ok(None)` for an anonymous request (no
/// Authorization header); 401 for a present but bad one.
pub async fn authenticate(
    db: &Hot,
    cache: &TokenCache,
    headers: &HeaderMap,
) -> Result<Option<User>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Error::Unauthorized("Authorization Error: malformed header.".into()))?;
    let h = parse_oauth_header(value)
        .map_err(|e| Error::Unauthorized(format!("Authorization Error: {e}.")))?;
    auth::authenticate(db, cache, &h).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::auth::signature_matches;

    #[test]
    fn parses_libmaas_and_cli_headers() {
        let h = parse_oauth_header(
            r#"OAuth realm="OAuth", oauth_nonce="1149", oauth_timestamp="1795736938", oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="ck", oauth_token="tk", oauth_signature="%26ts""#,
        )
        .unwrap();
        assert_eq!(h.consumer_key, "ck");
        assert_eq!(h.token, "tk");
        assert!(signature_matches(&h.signature, "ts"));
        assert!(!signature_matches(&h.signature, "tx"));
        // Bare values, raw signature.
        let h = parse_oauth_header(
            "OAuth oauth_consumer_key=ck,oauth_token=tk,oauth_signature=&ts,oauth_signature_method=PLAINTEXT,oauth_timestamp=1,oauth_nonce=n",
        )
        .unwrap();
        assert!(signature_matches(&h.signature, "ts"));
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "Basic abc",
            "OAuthx oauth_token=1",
            "OAuth oauth_token",
            "OAuth oauth_consumer_key=\"ck, oauth_token=tk",
            "OAuth oauth_consumer_key=ck",
            "",
        ] {
            assert!(parse_oauth_header(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn header_parser_never_panics(s in ".{0,200}") {
            let _ = parse_oauth_header(&s);
            let _ = parse_oauth_header(&format!("OAuth {s}"));
        }
    }
}
