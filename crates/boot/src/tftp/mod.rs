//! A read-only TFTP server (RFC 1350 + options 2347/2348/2349/7440) on tokio.
//!
//! Our own server rather than async-tftp (see docs/boot.md): every transfer
//! is a tokio task with its own socket, opens are not serialised behind a
//! global lock, and the request parser is ours to fuzz. What is served comes
//! from a [`TftpFiles`] implementation, so the source of files is swappable.

pub mod packet;
mod server;
mod transfer;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncRead;

use crate::path::PathRefusal;

pub use server::TftpServer;

/// An opened file: a byte stream and, when known, its size (for `tsize`).
pub struct TftpFile {
    pub reader: Box<dyn AsyncRead + Unpin + Send>,
    pub size: Option<u64>,
}

/// Why a file could not be opened for a client.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("file not found")]
    NotFound,
    #[error("refused: {0}")]
    Refused(#[from] PathRefusal),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The source of the files a TFTP server serves.
pub trait TftpFiles: Send + Sync + 'static {
    /// Open `path` (raw bytes from the request, not yet sanitised) for `client`.
    fn open(
        &self,
        client: SocketAddr,
        path: &[u8],
    ) -> impl Future<Output = Result<TftpFile, OpenError>> + Send;
}

/// Limits and defaults of the TFTP server.
#[derive(Debug, Clone)]
pub struct TftpSettings {
    /// Retransmission timeout when the client does not ask for one.
    pub timeout: Duration,
    /// Retransmissions of one window before the transfer is abandoned.
    pub max_retries: u32,
    /// Largest blksize granted.
    pub blksize_limit: u16,
    /// Largest windowsize granted.
    pub windowsize_limit: u16,
    /// Concurrent transfers; requests beyond it get an error.
    pub max_transfers: usize,
}

impl Default for TftpSettings {
    fn default() -> Self {
        TftpSettings {
            timeout: Duration::from_secs(1),
            max_retries: 5,
            blksize_limit: 65464,
            windowsize_limit: 64,
            max_transfers: 2048,
        }
    }
}

/// Errors starting a TFTP server.
#[derive(Debug, thiserror::Error)]
pub enum TftpError {
    #[error("cannot bind TFTP on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}
