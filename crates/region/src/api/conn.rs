//! The API's connection limits: how long a client may take to send a
//! request's head and body, how long a connection may sit idle, and how many
//! connections one address may hold. The server loop (`router::serve`)
//! applies them to every accepted connection.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Limits on the API's connections (flags `--header-timeout`,
/// `--body-timeout`, `--idle-timeout`, `--max-connections-per-peer`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's head (request line and headers) must arrive within this.
    pub header_read: Duration,
    /// A request's body must arrive within this (else 408).
    pub body_read: Duration,
    /// A connection with no request in progress and no bytes moving is
    /// closed after this.
    pub idle: Duration,
    /// Connections one peer address may hold at once; more are refused.
    pub per_peer: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            per_peer: 64,
        }
    }
}

/// Open connections per peer address.
#[derive(Clone, Default)]
pub struct PeerCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One counted connection; dropping it releases the slot.
pub struct PeerSlot {
    counts: PeerCounts,
    ip: IpAddr,
}

impl PeerCounts {
    /// A slot for `ip`, or None when it already holds `max` connections.
    pub fn acquire(&self, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            counts: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut m = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// What a connection is doing: when bytes last moved, and how many requests
/// are being handled.
pub struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long the connection has been idle: zero while a request is
    /// being handled, else the time since bytes last moved.
    pub fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Count a request as in progress until the guard is dropped.
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records when bytes move on it.
pub struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Watched<T> {
        Watched { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a peer over its connection limit is told before the connection closes.
pub const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain\r\ncontent-length: 41\r\nconnection: close\r\n\r\n\
Too many connections from this address.\r\n";

/// Answer a connection over its peer's bound: read its request head (for a
/// second at most, so the client sees an answer rather than a reset), then
/// 503 and close.
pub async fn refuse(mut tcp: tokio::net::TcpStream, header_read: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let wait = header_read.min(Duration::from_secs(1));
    let _ = tokio::time::timeout(wait, async {
        let mut buf = vec![0u8; 16 << 10];
        let mut have = 0;
        while have < buf.len() {
            match tcp.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => have += n,
            }
            if buf[..have].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let _ = tcp.write_all(TOO_MANY).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_slots_are_bounded_and_released() {
        let c = PeerCounts::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = c.acquire(ip, 2).unwrap();
        let _b = c.acquire(ip, 2).unwrap();
        assert!(c.acquire(ip, 2).is_none());
        assert!(c.acquire("10.0.0.2".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(c.acquire(ip, 2).is_some());
    }

    #[test]
    fn too_many_response_is_well_formed() {
        let text = std::str::from_utf8(TOO_MANY).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body.len(), 41);
    }
}
