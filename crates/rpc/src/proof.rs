//! Enrollment proofs: HMAC-SHA256 keyed with the shared secret, bound to the
//! TLS server certificate the rack saw, so the secret is never sent and a
//! man in the middle (who must present another certificate) is detected.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle_eq::ct_eq;

type HmacSha256 = Hmac<Sha256>;

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn mac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    for p in parts {
        // Length-prefix each field so concatenations cannot be confused.
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// What the rack sends: binds nonce, time, its CSR, the server certificate
/// and its hostname.
pub fn rack_proof(
    secret: &str,
    nonce: &[u8],
    timestamp: u64,
    csr_der: &[u8],
    server_cert_der: &[u8],
    hostname: &str,
) -> Vec<u8> {
    mac(
        secret,
        &[
            b"maas-rack-enroll-v1",
            nonce,
            &timestamp.to_be_bytes(),
            &sha256(csr_der),
            &sha256(server_cert_der),
            hostname.as_bytes(),
        ],
    )
}

/// What the region answers: binds the rack's nonce and what it issued.
pub fn region_proof(
    secret: &str,
    nonce: &[u8],
    cert_der: &[u8],
    ca_der: &[u8],
    system_id: &str,
) -> Vec<u8> {
    mac(
        secret,
        &[
            b"maas-region-enroll-v1",
            nonce,
            &sha256(cert_der),
            &sha256(ca_der),
            system_id.as_bytes(),
        ],
    )
}

pub fn verify(expected: &[u8], got: &[u8]) -> bool {
    ct_eq(expected, got)
}

mod subtle_eq {
    /// Constant-time equality for equal-length inputs.
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut d = 0u8;
        for (x, y) in a.iter().zip(b) {
            d |= x ^ y;
        }
        d == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_bind_every_field() {
        let p = rack_proof("s", b"n", 1, b"csr", b"cert", "h");
        assert!(verify(&p, &rack_proof("s", b"n", 1, b"csr", b"cert", "h")));
        for other in [
            rack_proof("t", b"n", 1, b"csr", b"cert", "h"),
            rack_proof("s", b"m", 1, b"csr", b"cert", "h"),
            rack_proof("s", b"n", 2, b"csr", b"cert", "h"),
            rack_proof("s", b"n", 1, b"csx", b"cert", "h"),
            rack_proof("s", b"n", 1, b"csr", b"cerx", "h"),
            rack_proof("s", b"n", 1, b"csr", b"cert", "g"),
        ] {
            assert!(!verify(&p, &other));
        }
        let r = region_proof("s", b"n", b"c", b"ca", "abc");
        assert!(!verify(&r, &region_proof("s", b"n", b"c", b"ca", "abd")));
        assert!(!verify(&r, &r[..10]));
    }
}
