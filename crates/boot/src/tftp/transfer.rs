//! One read transfer: option negotiation, then windows of DATA blocks.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::UdpSocket;

use super::packet::{self, ErrorCode, Packet, Request};
use super::{OpenError, TftpFile, TftpFiles, TftpSettings};
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
enum TransferError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("client timed out")]
    TimedOut,
    #[error("client sent error {code}: {message}")]
    Client { code: u16, message: String },
}

/// Run one transfer to completion and count it.
pub(super) async fn transfer<F: TftpFiles>(
    local_ip: IpAddr,
    client: SocketAddr,
    req: Request,
    files: &F,
    settings: &TftpSettings,
    metrics: &Metrics,
) {
    let sock = match UdpSocket::bind((local_ip, 0)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%client, error = %e, "cannot open a TFTP transfer socket");
            return;
        }
    };
    if let Err(e) = sock.connect(client).await {
        tracing::warn!(%client, error = %e, "cannot connect a TFTP transfer socket");
        return;
    }
    let name = String::from_utf8_lossy(&req.filename).into_owned();
    if req.mode != "octet" && req.mode != "netascii" {
        let _ = sock
            .send(&packet::error(
                ErrorCode::IllegalOperation,
                "unsupported mode",
            ))
            .await;
        return;
    }
    let file = match files.open(client, &req.filename).await {
        Ok(f) => f,
        Err(OpenError::Refused(why)) => {
            Metrics::inc(&metrics.tftp_refused_paths);
            tracing::warn!(%client, file = %name, reason = %why, "TFTP path refused");
            let _ = sock
                .send(&packet::error(
                    ErrorCode::AccessViolation,
                    "access violation",
                ))
                .await;
            return;
        }
        Err(OpenError::NotFound) => {
            Metrics::inc(&metrics.tftp_not_found);
            tracing::info!(%client, file = %name, "TFTP file not found");
            let _ = sock
                .send(&packet::error(ErrorCode::FileNotFound, "file not found"))
                .await;
            return;
        }
        Err(OpenError::Io(e)) => {
            tracing::warn!(%client, file = %name, error = %e, "TFTP open failed");
            let _ = sock
                .send(&packet::error(ErrorCode::NotDefined, "cannot read file"))
                .await;
            return;
        }
    };
    Metrics::inc(&metrics.tftp_started);
    let started = std::time::Instant::now();
    match send_file(&sock, &req, file, settings, metrics).await {
        Ok(bytes) => {
            Metrics::inc(&metrics.tftp_completed);
            tracing::info!(%client, file = %name, bytes, ms = started.elapsed().as_millis() as u64, "TFTP transfer done");
        }
        Err(e) => {
            Metrics::inc(&metrics.tftp_failed);
            tracing::warn!(%client, file = %name, error = %e, "TFTP transfer failed");
        }
    }
}

async fn send_file(
    sock: &UdpSocket,
    req: &Request,
    file: TftpFile,
    settings: &TftpSettings,
    metrics: &Metrics,
) -> Result<u64, TransferError> {
    let o = &req.options;
    let blksize = o
        .blksize
        .map_or(512, |b| b.min(settings.blksize_limit.max(8))) as usize;
    let window = o
        .windowsize
        .map_or(1, |w| w.min(settings.windowsize_limit.max(1))) as usize;
    let timeout = o
        .timeout
        .map_or(settings.timeout, |t| Duration::from_secs(t.into()));
    let mut pairs = Vec::new();
    if o.blksize.is_some() {
        pairs.push(("blksize", blksize.to_string()));
    }
    if let (Some(_), Some(size)) = (o.tsize, file.size) {
        pairs.push(("tsize", size.to_string()));
    }
    if o.timeout.is_some() {
        pairs.push(("timeout", timeout.as_secs().to_string()));
    }
    if o.windowsize.is_some() {
        pairs.push(("windowsize", window.to_string()));
    }
    let mut rbuf = [0u8; 1024];
    if !pairs.is_empty() {
        let oack = packet::oack(&pairs);
        let mut tries = 0;
        loop {
            sock.send(&oack).await?;
            match recv(sock, &mut rbuf, timeout).await? {
                Some(Packet::Ack(0)) => break,
                Some(Packet::Error { code, message }) => {
                    return Err(TransferError::Client { code, message });
                }
                Some(_) => {}
                None => {
                    tries += 1;
                    if tries > settings.max_retries {
                        return Err(TransferError::TimedOut);
                    }
                }
            }
        }
    }

    // Read ahead in large chunks: a tokio file read is a hop to the blocking
    // pool, far too costly once per 512-byte block.
    let ahead = (blksize * window).clamp(128 * 1024, 4 << 20);
    let mut reader = tokio::io::BufReader::with_capacity(ahead, file.reader);

    // Blocks base.. are held (as whole packets) until acknowledged.
    let mut base: u64 = 1;
    let mut held: VecDeque<Vec<u8>> = VecDeque::with_capacity(window);
    let mut sent = 0usize; // how many of `held` have been sent at least once
    let mut eof = false;
    let mut bytes: u64 = 0;
    let mut tries = 0;
    loop {
        while held.len() < window && !eof {
            let mut pkt = vec![0u8; 4 + blksize];
            packet::data_header(&mut pkt, (base + held.len() as u64) as u16);
            let n = read_full(&mut reader, &mut pkt[4..]).await?;
            pkt.truncate(4 + n);
            eof = n < blksize;
            bytes += n as u64;
            Metrics::add(&metrics.tftp_bytes, n as u64);
            held.push_back(pkt);
        }
        if held.is_empty() {
            return Ok(bytes);
        }
        for p in held.iter().skip(sent) {
            sock.send(p).await?;
        }
        sent = held.len();
        match recv(sock, &mut rbuf, timeout).await? {
            Some(Packet::Ack(n)) => {
                let pos = (0..held.len()).find(|k| (base + *k as u64) as u16 == n);
                match pos {
                    Some(k) => {
                        held.drain(..=k);
                        base += k as u64 + 1;
                        // Whatever is left was lost (a partial ack, RFC 7440):
                        // resend it; after a full ack nothing is left.
                        sent = 0;
                        tries = 0;
                    }
                    None if window > 1 && n == (base.wrapping_sub(1)) as u16 => sent = 0,
                    None => {}
                }
            }
            Some(Packet::Error { code, message }) => {
                return Err(TransferError::Client { code, message });
            }
            Some(_) => {}
            None => {
                tries += 1;
                if tries > settings.max_retries {
                    return Err(TransferError::TimedOut);
                }
                sent = 0;
            }
        }
    }
}

/// Receive one packet within `timeout`; `None` on timeout, malformed ones skipped.
async fn recv(
    sock: &UdpSocket,
    buf: &mut [u8],
    timeout: Duration,
) -> Result<Option<Packet>, TransferError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, sock.recv(buf)).await {
            Err(_) => return Ok(None),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(TransferError::Client {
                    code: 0,
                    message: "port unreachable".into(),
                });
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(n)) => {
                if let Ok(p) = packet::parse(&buf[..n]) {
                    return Ok(Some(p));
                }
            }
        }
    }
}

async fn read_full(
    r: &mut (impl tokio::io::AsyncRead + Unpin),
    buf: &mut [u8],
) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = r.read(&mut buf[n..]).await?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}
