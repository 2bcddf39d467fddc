//! MAAS API keys and OAuth 1.0a PLAINTEXT request signing.
//!
//! A MAAS API key is `consumer_key:token_key:token_secret`; the consumer secret
//! is always empty, so the PLAINTEXT signature is `&<token_secret>`.

use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 5849 §3.6 encoding: everything except ALPHA, DIGIT, `-`, `.`, `_`, `~`.
pub const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The three parts of a MAAS API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub consumer_key: String,
    pub token_key: String,
    pub token_secret: String,
}

impl Credentials {
    /// Parse `consumer_key:token_key:token_secret` (surrounding whitespace is
    /// ignored). The error message never echoes the key itself.
    pub fn parse(key: &str) -> Result<Self, String> {
        let key = key.trim();
        let parts: Vec<&str> = key.split(':').collect();
        let expected = "expected consumer_key:token_key:token_secret \
                        (three non-empty parts separated by ':')";
        if parts.len() != 3 {
            return Err(format!(
                "invalid API key: {expected}, got {} part(s)",
                parts.len()
            ));
        }
        if let Some(i) = parts.iter().position(|p| p.is_empty()) {
            let which = ["consumer_key", "token_key", "token_secret"][i];
            return Err(format!("invalid API key: {expected}, but {which} is empty"));
        }
        Ok(Credentials {
            consumer_key: parts[0].to_string(),
            token_key: parts[1].to_string(),
            token_secret: parts[2].to_string(),
        })
    }

    /// The `Authorization` header value for a new request (fresh nonce, now).
    pub fn authorization_header(&self) -> String {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.header_with(&nonce, timestamp)
    }

    /// The `Authorization` header value for a given nonce and timestamp.
    pub fn header_with(&self, nonce: &str, timestamp: u64) -> String {
        // PLAINTEXT signature: encode(consumer_secret) & encode(token_secret),
        // and the consumer secret is empty.
        let signature = format!("&{}", enc(&self.token_secret));
        let timestamp = timestamp.to_string();
        let fields: [(&str, &str); 7] = [
            ("oauth_nonce", nonce),
            ("oauth_timestamp", &timestamp),
            ("oauth_consumer_key", &self.consumer_key),
            ("oauth_signature_method", "PLAINTEXT"),
            ("oauth_version", "1.0"),
            ("oauth_token", &self.token_key),
            ("oauth_signature", &signature),
        ];
        let mut header = String::from("OAuth realm=\"\"");
        for (name, value) in fields {
            header.push_str(&format!(", {name}=\"{}\"", enc(value)));
        }
        header
    }
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, OAUTH_ENCODE).to_string()
}

/// Parse an `OAuth k="v", ...` header back into decoded (name, value) pairs.
#[cfg(test)]
pub fn parse_header(header: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut out = std::collections::BTreeMap::new();
    for field in rest.split(',') {
        let (name, value) = field.trim().split_once('=')?;
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?
            .into_owned();
        if out.insert(name.to_string(), value).is_some() {
            return None; // duplicate field
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_part_key() {
        let c = Credentials::parse("  ck:tk:ts\n").unwrap();
        assert_eq!(c.consumer_key, "ck");
        assert_eq!(c.token_key, "tk");
        assert_eq!(c.token_secret, "ts");
    }

    #[test]
    fn rejects_malformed_keys_without_echoing_them() {
        for bad in [
            "",
            "a",
            "a:b",
            "a:b:c:d",
            ":b:c",
            "a::c",
            "a:b:",
            "secret-ish:x",
        ] {
            let err = Credentials::parse(bad).unwrap_err();
            assert!(err.starts_with("invalid API key"), "{bad:?} -> {err}");
            if bad.len() > 3 {
                assert!(!err.contains(bad), "error echoes the key: {err}");
            }
        }
        assert!(
            Credentials::parse("a::c")
                .unwrap_err()
                .contains("token_key")
        );
    }

    #[test]
    fn header_round_trips() {
        let c = Credentials::parse("CK1:TK2:TS3").unwrap();
        let h = c.header_with("nonce123", 1_700_000_000);
        assert!(h.starts_with("OAuth realm=\"\", oauth_nonce=\"nonce123\""));
        // The signature is percent-encoded on the wire.
        assert!(h.contains("oauth_signature=\"%26TS3\""), "{h}");
        let f = parse_header(&h).expect("header parses");
        assert_eq!(f["realm"], "");
        assert_eq!(f["oauth_nonce"], "nonce123");
        assert_eq!(f["oauth_timestamp"], "1700000000");
        assert_eq!(f["oauth_consumer_key"], "CK1");
        assert_eq!(f["oauth_token"], "TK2");
        assert_eq!(f["oauth_signature_method"], "PLAINTEXT");
        assert_eq!(f["oauth_version"], "1.0");
        assert_eq!(f["oauth_signature"], "&TS3");
        assert_eq!(f.len(), 8);
    }

    #[test]
    fn fresh_headers_have_fresh_nonces_and_current_time() {
        let c = Credentials::parse("a:b:c").unwrap();
        let h1 = parse_header(&c.authorization_header()).unwrap();
        let h2 = parse_header(&c.authorization_header()).unwrap();
        assert_ne!(h1["oauth_nonce"], h2["oauth_nonce"]);
        let ts: u64 = h1["oauth_timestamp"].parse().unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(ts) < 60);
    }

    #[test]
    fn special_characters_are_encoded() {
        let c = Credentials {
            consumer_key: "a b".into(),
            token_key: "t/k".into(),
            token_secret: "s&=".into(),
        };
        let h = c.header_with("n", 1);
        assert!(h.contains("oauth_consumer_key=\"a%20b\""));
        assert!(h.contains("oauth_token=\"t%2Fk\""));
        // signature "&" + enc("s&=") then encoded again as a header value
        assert!(h.contains("oauth_signature=\"%26s%2526%253D\""), "{h}");
        let f = parse_header(&h).unwrap();
        assert_eq!(f["oauth_consumer_key"], "a b");
        assert_eq!(f["oauth_signature"], "&s%26%3D");
    }
}
