//! The files the rack serves for booting: the iPXE loaders (found at start),
//! a TFTP root, the image root, and the generated iPXE scripts; plus the
//! boot-request events every fetch reports.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maas_model::rack::BootRequest;
use tokio::sync::mpsc;

use crate::config::ConfigHandle;
use crate::ipxe::{self, Purpose};
use crate::mac::Mac;
use crate::metrics::Metrics;
use crate::path::{resolve_under, sanitize};
use crate::tftp::{OpenError, TftpFile, TftpFiles};

/// Loaders the rack must have (Debian package `ipxe`).
pub const REQUIRED_LOADERS: &[&str] = &["undionly.kpxe", "snponly.efi"];
/// Loaders served when present (`ipxe.efi` from `ipxe`; `grubaa64.efi` from
/// `grub-efi-arm64-signed` or a cache directory).
pub const OPTIONAL_LOADERS: &[&str] =
    &["ipxe.efi", "undionly.kkpxe", "grubaa64.efi", "bootx64.efi"];
/// Default loader directory.
pub const DEFAULT_LOADER_DIR: &str = "/usr/lib/ipxe";

/// Errors finding the loaders.
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    #[error(
        "boot loader {name} not found in {dirs}: install the Debian package `ipxe` (apt-get install ipxe) or pass a directory holding it"
    )]
    Missing { name: &'static str, dirs: String },
}

/// Loader name → file, found once at start.
#[derive(Debug, Clone, Default)]
pub struct Loaders(BTreeMap<String, PathBuf>);

impl Loaders {
    /// Look for every loader in `dirs` (first hit wins). Fails naming the
    /// package when a required one is absent.
    pub fn discover(dirs: &[PathBuf]) -> Result<Loaders, LoaderError> {
        let mut found = BTreeMap::new();
        for name in REQUIRED_LOADERS.iter().chain(OPTIONAL_LOADERS) {
            if let Some(p) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
                found.insert((*name).to_string(), p);
            }
        }
        for name in REQUIRED_LOADERS {
            if !found.contains_key(*name) {
                let dirs = dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(LoaderError::Missing { name, dirs });
            }
        }
        tracing::info!(loaders = ?found.keys().collect::<Vec<_>>(), "boot loaders found");
        Ok(Loaders(found))
    }

    pub fn get(&self, name: &str) -> Option<&Path> {
        self.0.get(name).map(PathBuf::as_path)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Everything both servers read from; shared behind an `Arc`.
pub struct BootFiles {
    pub loaders: Loaders,
    /// Extra files served over TFTP (and nothing else).
    pub tftp_root: Option<PathBuf>,
    /// Kernels, initrds and images served over HTTP under `/images/`.
    pub image_root: Option<PathBuf>,
    pub config: ConfigHandle,
    pub metrics: Arc<Metrics>,
    events: Option<mpsc::Sender<BootRequest>>,
}

impl BootFiles {
    pub fn new(
        loaders: Loaders,
        tftp_root: Option<PathBuf>,
        image_root: Option<PathBuf>,
        config: ConfigHandle,
        metrics: Arc<Metrics>,
        events: Option<mpsc::Sender<BootRequest>>,
    ) -> BootFiles {
        BootFiles {
            loaders,
            tftp_root,
            image_root,
            config,
            metrics,
            events,
        }
    }

    /// Report a boot-file request; never blocks (a full channel drops and counts).
    pub fn report(&self, mac: Option<Mac>, purpose: &str, remote: SocketAddr, file: &str) {
        let Some(tx) = &self.events else { return };
        let arch = mac
            .and_then(|m| self.config.load().machine(&m).map(|x| x.arch.clone()))
            .unwrap_or_default();
        let ev = BootRequest {
            mac: mac.map(|m| m.to_string()).unwrap_or_default(),
            arch,
            purpose: purpose.to_string(),
            remote_ip: remote.ip().to_string(),
            file: file.to_string(),
        };
        if tx.try_send(ev).is_err() {
            Metrics::inc(&self.metrics.events_dropped);
        }
    }

    /// The per-machine script for `mac` with `base` as the rack URL, and its purpose.
    pub fn machine_script(&self, base: &str, mac: &Mac) -> (String, Purpose) {
        let loaded = self.config.load();
        let m = loaded.machine(mac);
        let purpose = Purpose::for_machine(m);
        (
            ipxe::machine_script(base, &loaded.config, m, purpose),
            purpose,
        )
    }

    /// The base URL for scripts: the configured rack URL, else `fallback`.
    pub fn base_url(&self, fallback: impl FnOnce() -> String) -> String {
        match &self.config.load().config.rack_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => fallback(),
        }
    }

    async fn open_path(path: &Path) -> Result<TftpFile, OpenError> {
        let f = tokio::fs::File::open(path).await?;
        let meta = f.metadata().await?;
        if !meta.is_file() {
            return Err(OpenError::NotFound);
        }
        Ok(TftpFile {
            reader: Box::new(f),
            size: Some(meta.len()),
        })
    }
}

impl TftpFiles for BootFiles {
    async fn open(&self, client: SocketAddr, raw: &[u8]) -> Result<TftpFile, OpenError> {
        let rel = sanitize(raw)?;
        if let Some(p) = self.loaders.get(&rel) {
            self.report(None, "loader", client, &rel);
            return Self::open_path(p).await;
        }
        if let Some(rest) = rel.strip_prefix("ipxe.cfg") {
            // iPXE fetching its script over TFTP: point it at the HTTP server.
            let base = self.base_url(|| format!("http://{}:5248", client_facing_ip(client)));
            let text = match rest.strip_prefix('-').map(Mac::parse) {
                None if rest.is_empty() => ipxe::chain_script(&base),
                Some(Some(mac)) => {
                    let (s, purpose) = self.machine_script(&base, &mac);
                    self.report(Some(mac), purpose.name(), client, &rel);
                    s
                }
                _ => return Err(OpenError::NotFound),
            };
            let len = text.len() as u64;
            return Ok(TftpFile {
                reader: Box::new(std::io::Cursor::new(text.into_bytes())),
                size: Some(len),
            });
        }
        let Some(root) = &self.tftp_root else {
            return Err(OpenError::NotFound);
        };
        match resolve_under(root, &rel).await? {
            Some(p) => {
                self.report(None, "file", client, &rel);
                Self::open_path(&p).await
            }
            None => Err(OpenError::NotFound),
        }
    }
}

/// Without a configured rack URL, TFTP-served scripts use iPXE's own
/// `${next-server}` (the TFTP server it booted from).
fn client_facing_ip(_client: SocketAddr) -> &'static str {
    "${next-server}"
}
