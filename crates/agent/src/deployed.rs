//! `maas-agent deployed-os [ROOT]`: what the tiny test image runs once it
//! booted from disk. It reads the datasource the agent wrote
//! (`ROOT/etc/cloud/cloud.cfg.d/90_dpkg_maas.cfg`), fetches its keys,
//! hostname and user data with its token (which marks it Deployed) and
//! prints one `MAAS-DEPLOYED:` line.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::client::Maas;

pub struct Seen {
    pub hostname: String,
    pub keys: Vec<u8>,
    pub user_data: Vec<u8>,
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

impl Seen {
    pub fn marker(&self) -> String {
        format!(
            "MAAS-DEPLOYED: hostname={} keys_sha256={} user_data_sha256={}\nMAAS-DEPLOYED: keys: {}\nMAAS-DEPLOYED: user-data: {}",
            self.hostname,
            hex::encode(Sha256::digest(&self.keys)),
            hex::encode(Sha256::digest(&self.user_data)),
            first_line(&self.keys),
            first_line(&self.user_data),
        )
    }
}

pub fn run(root: &Path, patience: Duration) -> Result<Seen> {
    let p = root.join("etc/cloud/cloud.cfg.d/90_dpkg_maas.cfg");
    let text = std::fs::read_to_string(&p).with_context(|| format!("read {}", p.display()))?;
    let ps = crate::preseed::parse(&text).context("the datasource has no credentials")?;
    let url = ps
        .metadata_url
        .context("the datasource has no metadata_url")?;
    let maas = Maas::new(&url, Some(ps.creds), patience);
    let hostname = maas.get_text("latest/meta-data/local-hostname")?;
    let keys = maas.get_text("latest/meta-data/public-keys")?;
    let user_data = maas.get_text("latest/user-data").unwrap_or_default();
    Ok(Seen {
        hostname: String::from_utf8_lossy(&hostname).trim().to_string(),
        keys,
        user_data,
    })
}
