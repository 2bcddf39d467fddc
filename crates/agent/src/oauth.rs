//! OAuth 1.0 PLAINTEXT, as MAAS clients sign node requests.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::cmdline::Creds;

/// The `Authorization` header value for `creds` with a given nonce and time.
pub fn header_at(c: &Creds, nonce: &str, unix: u64) -> String {
    format!(
        "OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", \
         oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature=\"&{}\", \
         oauth_nonce=\"{}\", oauth_timestamp=\"{}\"",
        c.consumer_key, c.token_key, c.token_secret, nonce, unix
    )
}

/// The header with a fresh random nonce and the current time.
pub fn header(c: &Creds) -> String {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    header_at(c, &nonce(), unix)
}

/// 16 random bytes as hex (from /dev/urandom; time and pid if it is missing).
fn nonce() -> String {
    use std::io::Read;
    let mut b = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..16].copy_from_slice(&(t ^ u128::from(std::process::id())).to_le_bytes());
    }
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_header_has_every_field() {
        let c = Creds::parse("ck1:tk2:ts3").unwrap();
        assert_eq!(
            header_at(&c, "n0", 1700000000),
            "OAuth oauth_version=\"1.0\", oauth_signature_method=\"PLAINTEXT\", \
             oauth_consumer_key=\"ck1\", oauth_token=\"tk2\", oauth_signature=\"&ts3\", \
             oauth_nonce=\"n0\", oauth_timestamp=\"1700000000\""
        );
        let a = header(&c);
        let b = header(&c);
        assert_ne!(a, b, "nonces differ");
        assert!(a.contains("oauth_signature=\"&ts3\""));
    }
}
