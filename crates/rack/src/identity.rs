//! The rack's identity: a key it generates (and never sends), the
//! certificate the region signs at enrollment, and the region CA.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use maas_rpc::pb::enrollment_client::EnrollmentClient;
use maas_rpc::{pb, proof, tls};
use tonic::transport::Endpoint;

#[derive(Debug, Clone)]
pub struct Identity {
    pub system_id: String,
    pub key_der: Vec<u8>,
    pub cert_der: Vec<u8>,
    pub ca_der: Vec<u8>,
}

pub(crate) fn write_file_atomic(path: &Path, data: &[u8], private: bool) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

impl Identity {
    pub fn load(dir: &Path) -> anyhow::Result<Option<Identity>> {
        let p = |n: &str| dir.join(n);
        if !p("rack.crt").exists() {
            return Ok(None);
        }
        Ok(Some(Identity {
            system_id: std::fs::read_to_string(p("system_id"))?.trim().to_string(),
            key_der: std::fs::read(p("rack.key"))?,
            cert_der: std::fs::read(p("rack.crt"))?,
            ca_der: std::fs::read(p("ca.crt"))?,
        }))
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        write_file_atomic(&dir.join("rack.key"), &self.key_der, true)?;
        write_file_atomic(&dir.join("ca.crt"), &self.ca_der, false)?;
        write_file_atomic(&dir.join("system_id"), self.system_id.as_bytes(), false)?;
        // Last: its presence marks a complete identity.
        write_file_atomic(&dir.join("rack.crt"), &self.cert_der, false)?;
        Ok(())
    }
}

/// Why enrollment failed: a wrong secret (or a request the region cannot
/// take) is final; a rate limit and an unreachable region are retried.
#[derive(Debug)]
pub enum EnrollError {
    Refused(String),
    /// The region asks this rack to wait (too many failed attempts from its
    /// address under its hostname); the message carries "retry in N s".
    Limited(String),
    Unreachable(String),
}

impl std::fmt::Display for EnrollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrollError::Refused(m) => write!(f, "enrollment refused: {m}"),
            EnrollError::Limited(m) => write!(f, "enrollment rate limited: {m}"),
            EnrollError::Unreachable(m) => write!(f, "region unreachable: {m}"),
        }
    }
}

/// Longest wait between enrollment rounds.
pub const MAX_ENROLL_DELAY: Duration = Duration::from_secs(60);

/// The wait a region's rate-limit message asks for ("… retry in N s").
pub fn retry_hint(message: &str) -> Option<Duration> {
    let rest = &message[message.rfind("retry in ")? + "retry in ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().map(Duration::from_secs)
}

/// The wait before the next enrollment round: the back-off with jitter
/// (×0.75–1.25), at least what a rate-limiting region asked for (plus up to
/// a quarter more, so racks limited together do not return together), at
/// most `MAX_ENROLL_DELAY`.
pub fn enroll_wait(backoff: Duration, hint: Option<Duration>) -> Duration {
    let jittered = backoff.mul_f64(rand::random::<f64>() * 0.5 + 0.75);
    let asked = hint
        .map(|h| h.mul_f64(1.0 + rand::random::<f64>() * 0.25))
        .unwrap_or_default();
    jittered.max(asked).min(MAX_ENROLL_DELAY)
}

/// Enroll with one region: prove the secret (bound to the certificate the
/// region presents), get a certificate, check the region's proof.
pub async fn enroll(url: &str, secret: &str, hostname: &str) -> Result<Identity, EnrollError> {
    let unreachable = |e: &dyn std::fmt::Display| EnrollError::Unreachable(format!("{url}: {e}"));
    let (host, port) = crate::parse_region(url).map_err(|e| EnrollError::Refused(e.to_string()))?;
    let (cfg, seen) = tls::enrollment_client_config().map_err(|e| unreachable(&e))?;
    let channel = Endpoint::from_shared(format!("http://{host}:{port}"))
        .map_err(|e| unreachable(&e))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect_with_connector(tls::Connector { config: cfg })
        .await
        .map_err(|e| unreachable(&e))?;
    let server_cert = seen
        .seen
        .lock()
        .expect("verifier lock")
        .clone()
        .ok_or_else(|| unreachable(&"no server certificate seen"))?;
    let (key_der, csr_der) =
        tls::rack_key_and_csr(hostname).map_err(|e| EnrollError::Refused(e.to_string()))?;
    let nonce: [u8; 32] = rand::random();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let req = pb::EnrollRequest {
        hostname: hostname.to_string(),
        version: crate::VERSION.to_string(),
        proof: proof::rack_proof(secret, &nonce, ts, &csr_der, &server_cert, hostname),
        csr_der,
        rack_nonce: nonce.to_vec(),
        timestamp: ts,
    };
    let resp = EnrollmentClient::new(channel)
        .enroll(req)
        .await
        .map_err(|s| match s.code() {
            tonic::Code::PermissionDenied | tonic::Code::InvalidArgument => {
                EnrollError::Refused(s.message().to_string())
            }
            tonic::Code::ResourceExhausted => EnrollError::Limited(s.message().to_string()),
            _ => unreachable(&s.message()),
        })?;
    let r = resp.into_inner();
    let expected = proof::region_proof(secret, &nonce, &r.certificate_der, &r.ca_der, &r.system_id);
    if !proof::verify(&expected, &r.proof) {
        return Err(EnrollError::Refused(format!(
            "{url} could not prove it knows the secret; not trusting it"
        )));
    }
    Ok(Identity {
        system_id: r.system_id,
        key_der,
        cert_der: r.certificate_der,
        ca_der: r.ca_der,
    })
}

/// Load the identity, or enroll with the first region that answers. A
/// wrong secret stops here; a rate limit or an unreachable region is logged
/// and retried, trying every region in turn and backing off (with jitter, up
/// to `MAX_ENROLL_DELAY`, at least as long as a rate-limiting region asked)
/// after each full round.
pub async fn load_or_enroll(cfg: &crate::Config) -> anyhow::Result<Identity> {
    if let Some(id) = Identity::load(&cfg.data_dir)? {
        return Ok(id);
    }
    let mut backoff = Duration::from_millis(200);
    loop {
        // The shortest wait any rate-limiting region asked for, when every
        // region in the round limited us.
        let mut hint: Option<Duration> = None;
        let mut all_limited = true;
        for url in &cfg.regions {
            match enroll(url, &cfg.secret, &cfg.hostname).await {
                Ok(id) => {
                    id.save(&cfg.data_dir)?;
                    tracing::info!(system_id = %id.system_id, region = %url, "enrolled");
                    return Ok(id);
                }
                Err(EnrollError::Refused(m)) => bail!("enrollment refused by {url}: {m}"),
                Err(EnrollError::Limited(m)) => {
                    tracing::warn!(region = %url, reason = %m,
                        "enrollment refused for now (rate limited); will retry");
                    let h = retry_hint(&m).unwrap_or(backoff);
                    hint = Some(hint.map_or(h, |x| x.min(h)));
                }
                Err(e) => {
                    all_limited = false;
                    tracing::warn!(error = %e, "enrollment attempt failed; will retry");
                }
            }
        }
        let wait = enroll_wait(backoff, hint.filter(|_| all_limited));
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "enrollment: backing off before the next attempt"
        );
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_ENROLL_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_hint_is_read() {
        let m = "too many failed enrollment attempts from 127.0.0.1 as \"r\"; retry in 57 s";
        assert_eq!(retry_hint(m), Some(Duration::from_secs(57)));
        assert_eq!(retry_hint("overloaded"), None);
        assert_eq!(retry_hint("retry in soon"), None);
    }

    #[test]
    fn waits_back_off_with_jitter_and_respect_the_hint() {
        for _ in 0..100 {
            let w = enroll_wait(Duration::from_secs(4), None);
            assert!(
                w >= Duration::from_secs(3) && w <= Duration::from_secs(5),
                "{w:?}"
            );
            let w = enroll_wait(Duration::from_millis(200), Some(Duration::from_secs(3)));
            assert!(
                w >= Duration::from_secs(3) && w <= Duration::from_millis(3750),
                "{w:?}"
            );
            let w = enroll_wait(Duration::from_secs(600), Some(Duration::from_secs(600)));
            assert_eq!(w, MAX_ENROLL_DELAY);
        }
    }
}
