//! The listening socket: parses requests and starts one task per transfer.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

use super::packet::{self, ErrorCode, Packet};
use super::transfer::transfer;
use super::{TftpError, TftpFiles, TftpSettings};
use crate::metrics::Metrics;

/// A TFTP server bound to one address.
pub struct TftpServer<F> {
    socket: UdpSocket,
    files: Arc<F>,
    settings: Arc<TftpSettings>,
    metrics: Arc<Metrics>,
}

impl<F: TftpFiles> TftpServer<F> {
    /// Bind to `addr` (port 0 picks one). Bind one server per interface
    /// address: transfers answer from `addr`'s IP.
    pub async fn bind(
        addr: SocketAddr,
        files: Arc<F>,
        settings: TftpSettings,
        metrics: Arc<Metrics>,
    ) -> Result<Self, TftpError> {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| TftpError::Bind { addr, source })?;
        if addr.ip().is_unspecified() {
            tracing::warn!(%addr, "TFTP bound to an unspecified address; replies may leave from another address");
        }
        Ok(TftpServer {
            socket,
            files,
            settings: Arc::new(settings),
            metrics,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Serve until the task is dropped.
    pub async fn run(self) {
        let local_ip = match self.socket.local_addr() {
            Ok(a) => a.ip(),
            Err(e) => {
                tracing::error!(error = %e, "TFTP socket has no local address");
                return;
            }
        };
        let slots = Arc::new(Semaphore::new(self.settings.max_transfers));
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, client) = match self.socket.recv_from(&mut buf).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "TFTP recv error");
                    continue;
                }
            };
            let req = match packet::parse(&buf[..n]) {
                Ok(Packet::Read(req)) => req,
                Ok(Packet::Write(_)) => {
                    tracing::warn!(%client, "TFTP write request refused (read-only server)");
                    let e = packet::error(ErrorCode::AccessViolation, "read-only server");
                    let _ = self.socket.send_to(&e, client).await;
                    continue;
                }
                Ok(other) => {
                    tracing::debug!(%client, packet = ?other, "TFTP packet on the request port ignored");
                    Metrics::inc(&self.metrics.tftp_malformed);
                    continue;
                }
                Err(e) => {
                    tracing::debug!(%client, error = %e, "malformed TFTP packet dropped");
                    Metrics::inc(&self.metrics.tftp_malformed);
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                tracing::warn!(%client, "TFTP transfer refused: too many transfers");
                let e = packet::error(ErrorCode::NotDefined, "server busy");
                let _ = self.socket.send_to(&e, client).await;
                continue;
            };
            let files = self.files.clone();
            let settings = self.settings.clone();
            let metrics = self.metrics.clone();
            tokio::spawn(async move {
                transfer(local_ip, client, req, files.as_ref(), &settings, &metrics).await;
                drop(permit);
            });
        }
    }
}
