//! The HTTP client the Redfish and webhook drivers share: rustls on ring,
//! certificates verified unless the machine opts out.

use std::time::Duration;

use crate::error::{PowerError, Result};

pub fn client(verify: bool, timeout: Duration) -> Result<reqwest::Client> {
    // reqwest is built without a crypto provider: use ring (no aws-lc-rs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .tls_danger_accept_invalid_certs(!verify)
        .tls_danger_accept_invalid_hostnames(!verify)
        .build()
        .map_err(|e| PowerError::Protocol(format!("cannot build an HTTP client: {e}")))
}

/// Map a transport error: timeouts and refused connections are Unreachable.
pub fn transport(url: &str, e: reqwest::Error, waited: Duration) -> PowerError {
    if e.is_timeout() || e.is_connect() {
        PowerError::Unreachable {
            addr: format!("{url} ({e})"),
            waited,
        }
    } else {
        PowerError::Protocol(format!("{url}: {e}"))
    }
}

/// Read a body of at most `limit` bytes.
pub async fn body(
    url: &str,
    r: reqwest::Response,
    limit: usize,
    waited: Duration,
) -> Result<Vec<u8>> {
    let mut r = r;
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| transport(url, e, waited))? {
        if out.len() + chunk.len() > limit {
            return Err(PowerError::Protocol(format!(
                "{url}: body over {limit} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
