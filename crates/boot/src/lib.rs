//! Network boot for the rack: a read-only TFTP server, the HTTP boot server
//! (loaders, kernels/initrds/images with Range, per-machine iPXE scripts, the
//! metadata proxy) and the boot-request events they report.
//!
//! The rack builds a [`BootFiles`] (loaders found with [`Loaders::discover`],
//! a [`ConfigHandle`] it updates on every snapshot, an event channel), then
//! [`BootService::start`]s the servers.

pub mod config;
pub mod files;
pub mod http;
pub mod ipxe;
pub mod mac;
pub mod metrics;
pub mod path;
pub mod tftp;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{BootConfig, ConfigHandle, Machine};
pub use files::{BootFiles, LoaderError, Loaders};
pub use mac::Mac;
pub use metrics::Metrics;
pub use tftp::{TftpServer, TftpSettings};

/// Errors starting the boot services.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Tftp(#[from] tftp::TftpError),
    #[error("cannot bind HTTP boot server on {addr}: {source}")]
    HttpBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Loaders(#[from] LoaderError),
}

/// Running servers; dropping it (or calling [`BootService::stop`]) stops them.
pub struct BootService {
    /// Bound TFTP addresses, in the order given.
    pub tftp_addrs: Vec<SocketAddr>,
    /// Bound HTTP address, if HTTP was started.
    pub http_addr: Option<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl BootService {
    /// Bind a TFTP server on each of `tftp` and the HTTP server on `http`
    /// (either may be empty/`None` to switch that service off), and spawn them.
    pub async fn start(
        files: Arc<BootFiles>,
        tftp: &[SocketAddr],
        http: Option<SocketAddr>,
        settings: TftpSettings,
    ) -> Result<BootService, BootError> {
        let mut tasks = Vec::new();
        let mut tftp_addrs = Vec::new();
        let mut servers = Vec::new();
        for addr in tftp {
            let s = TftpServer::bind(
                *addr,
                files.clone(),
                settings.clone(),
                files.metrics.clone(),
            )
            .await?;
            tftp_addrs.push(s.local_addr().map_err(|source| tftp::TftpError::Bind {
                addr: *addr,
                source,
            })?);
            servers.push(s);
        }
        let mut http_addr = None;
        let mut listener = None;
        if let Some(addr) = http {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| BootError::HttpBind { addr, source })?;
            http_addr = Some(
                l.local_addr()
                    .map_err(|source| BootError::HttpBind { addr, source })?,
            );
            listener = Some(l);
        }
        for s in servers {
            tasks.push(tokio::spawn(s.run()));
        }
        if let Some(l) = listener {
            let f = files.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = http::serve(l, f).await {
                    tracing::error!(error = %e, "HTTP boot server stopped");
                }
            }));
        }
        tracing::info!(tftp = ?tftp_addrs, http = ?http_addr, "boot services started");
        Ok(BootService {
            tftp_addrs,
            http_addr,
            tasks,
        })
    }

    /// Stop every server.
    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for BootService {
    fn drop(&mut self) {
        self.stop();
    }
}
