//! Request bodies a handler answered without reading. The body is handed back
//! to the connection, which reads the rest (and drops it) before the answer
//! goes out when the rest is small: a client still sending then reads the
//! answer (a 401, 403 or 404) instead of a broken pipe, and its connection
//! stays open for the next request. A body over [`DRAIN_MAX`] or one that
//! stalls is not waited for; hyper then closes the connection as before.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use tokio::sync::oneshot;

/// The most of an unread body the connection reads before answering.
pub const DRAIN_MAX: u64 = 16 << 20;

/// A request body that, dropped unfinished, goes back to its connection.
pub struct Returning {
    inner: Option<Incoming>,
    back: Option<oneshot::Sender<Incoming>>,
}

/// Unread is where the body arrives if the handler drops it unfinished.
pub type Unread = oneshot::Receiver<Incoming>;

pub fn returning(body: Incoming) -> (Returning, Unread) {
    let (tx, rx) = oneshot::channel();
    let r = Returning {
        inner: Some(body),
        back: Some(tx),
    };
    (r, rx)
}

impl Body for Returning {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.inner.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        match self.inner.as_ref() {
            Some(b) => b.size_hint(),
            None => SizeHint::with_exact(0),
        }
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let (Some(b), Some(tx)) = (self.inner.take(), self.back.take())
            && !b.is_end_stream()
        {
            let _ = tx.send(b);
        }
    }
}

/// Read and drop what is left of an unread body: at most [`DRAIN_MAX`]
/// bytes, for at most `within`. Nothing to do when the handler read it all.
pub async fn rest(mut unread: Unread, within: Duration) {
    let Ok(mut b) = unread.try_recv() else {
        return;
    };
    if b.size_hint().lower() > DRAIN_MAX {
        return;
    }
    let _ = tokio::time::timeout(within, async {
        let mut got = 0u64;
        while let Some(Ok(f)) = poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await {
            got += f.data_ref().map_or(0, |d| d.len() as u64);
            if got > DRAIN_MAX {
                return;
            }
        }
    })
    .await;
}
