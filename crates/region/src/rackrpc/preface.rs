//! A rack connection must start HTTP/2 promptly: after TLS, the client's
//! connection preface is read within a limit; a connection that sends
//! nothing (or something else) is closed instead of holding a descriptor.
//! The bytes read are replayed to the gRPC server.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tonic::transport::server::Connected;

/// What every HTTP/2 client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Read the HTTP/2 preface from `io` within `limit`; the stream handed back
/// yields it again before the rest.
pub async fn expect_preface<T>(mut io: T, limit: Duration) -> io::Result<Replay<T>>
where
    T: AsyncRead + Unpin,
{
    let mut buf = [0u8; 24];
    match tokio::time::timeout(limit, io.read_exact(&mut buf)).await {
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no HTTP/2 preface in time",
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(_)) if &buf != PREFACE => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not an HTTP/2 connection preface",
        )),
        Ok(Ok(_)) => Ok(Replay {
            head: buf,
            pos: 0,
            inner: io,
        }),
    }
}

/// A stream whose first bytes were already read (the preface).
pub struct Replay<T> {
    head: [u8; 24],
    pos: usize,
    inner: T,
}

impl<T: AsyncRead + Unpin> AsyncRead for Replay<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.head[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Replay<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
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

/// The peer's address and certificates come from the TLS stream beneath.
impl<T: Connected> Connected for Replay<T> {
    type ConnectInfo = T::ConnectInfo;
    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn preface_is_replayed_then_the_rest() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(PREFACE).await.unwrap();
        a.write_all(b"rest").await.unwrap();
        drop(a);
        let mut r = expect_preface(b, Duration::from_secs(1)).await.unwrap();
        let mut all = Vec::new();
        r.read_to_end(&mut all).await.unwrap();
        assert_eq!(&all[..24], PREFACE);
        assert_eq!(&all[24..], b"rest");
    }

    #[tokio::test]
    async fn silence_and_other_bytes_are_refused() {
        let (_a, b) = tokio::io::duplex(64);
        let e = expect_preface(b, Duration::from_millis(50))
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let e = expect_preface(b, Duration::from_secs(1))
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
