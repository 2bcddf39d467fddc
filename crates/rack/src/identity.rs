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

/// Why enrollment failed: a wrong secret is final, the rest is retried.
#[derive(Debug)]
pub enum EnrollError {
    Refused(String),
    Unreachable(String),
}

impl std::fmt::Display for EnrollError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrollError::Refused(m) => write!(f, "enrollment refused: {m}"),
            EnrollError::Unreachable(m) => write!(f, "region unreachable: {m}"),
        }
    }
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
            tonic::Code::PermissionDenied
            | tonic::Code::InvalidArgument
            | tonic::Code::ResourceExhausted => EnrollError::Refused(s.message().to_string()),
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

/// Load the identity, or enroll with the first region that answers.
pub async fn load_or_enroll(cfg: &crate::Config) -> anyhow::Result<Identity> {
    if let Some(id) = Identity::load(&cfg.data_dir)? {
        return Ok(id);
    }
    let mut delay = Duration::from_millis(200);
    loop {
        for url in &cfg.regions {
            match enroll(url, &cfg.secret, &cfg.hostname).await {
                Ok(id) => {
                    id.save(&cfg.data_dir)?;
                    tracing::info!(system_id = %id.system_id, region = %url, "enrolled");
                    return Ok(id);
                }
                Err(EnrollError::Refused(m)) => bail!("enrollment refused by {url}: {m}"),
                Err(e) => tracing::warn!(error = %e, "enrollment attempt failed"),
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
