//! Request bodies too big to hold: a multipart form read part by part
//! (small fields collected, one named file part handed on in chunks), and a
//! raw body read chunk by chunk; each read waits at most the body timeout
//! (an upload may take long, a stalled one may not). Base64 parts (as
//! python-libmaas sends them) are decoded on the way.

use std::time::Duration;

use axum::body::{Body, Bytes};
use base64::Engine;
use futures_util::StreamExt;

use crate::api::params::Input;
use crate::error::{Error, Result};

/// Total bytes of the small fields of a streamed form.
const MAX_FIELDS: usize = 1 << 20;

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("Malformed multipart body: {e}."))
}

fn stalled(t: Duration) -> Error {
    Error::TimedOut(format!(
        "No part of the request body arrived within {} s.",
        t.as_secs_f64()
    ))
}

/// A base64 decoder fed in pieces (whitespace ignored).
#[derive(Default)]
pub struct B64Stream {
    rest: Vec<u8>,
}

impl B64Stream {
    /// Decode what can be decoded of `input` (whole 4-char groups).
    pub fn feed(&mut self, input: &[u8]) -> Result<Vec<u8>> {
        self.rest
            .extend(input.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        let whole = self.rest.len() / 4 * 4;
        // Padding may only end the data: keep the last group until the end.
        let take = if self.rest[..whole].contains(&b'=') || whole == self.rest.len() {
            whole.saturating_sub(4)
        } else {
            whole
        };
        let out = decode(&self.rest[..take])?;
        self.rest.drain(..take);
        Ok(out)
    }

    /// The end of the part: decode the rest.
    pub fn finish(self) -> Result<Vec<u8>> {
        decode(&self.rest)
    }
}

fn decode(b: &[u8]) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(b)
        .map_err(|_| malformed("a part is not valid base64"))
}

/// Where a streamed form's file part goes.
pub trait Sink {
    fn write(&mut self, chunk: &[u8]) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// Read a multipart form: fields into `input`, the part named `file_field`
/// into `sink` (created on first sight by `open`). Whether the part came.
pub async fn multipart<S: Sink + Send, F, Fut>(
    body: Body,
    boundary: String,
    timeout: Duration,
    input: &mut Input,
    file_field: &str,
    open: F,
) -> Result<Option<S>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<S>>,
{
    let mut mp = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut open = Some(open);
    let mut sink: Option<S> = None;
    let mut fields = 0usize;
    loop {
        let next = tokio::time::timeout(timeout, mp.next_field())
            .await
            .map_err(|_| stalled(timeout))?
            .map_err(malformed)?;
        let Some(mut field) = next else { break };
        let Some(name) = field.name().map(String::from) else {
            continue;
        };
        let b64 = field
            .headers()
            .get("content-transfer-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"));
        let mut dec = b64.then(B64Stream::default);
        let to_sink = name == file_field && sink.is_none();
        if to_sink && let Some(o) = open.take() {
            sink = Some(o().await?);
        }
        let mut text = Vec::new();
        loop {
            let chunk = tokio::time::timeout(timeout, field.chunk())
                .await
                .map_err(|_| stalled(timeout))?
                .map_err(malformed)?;
            let Some(chunk) = chunk else { break };
            let data = match dec.as_mut() {
                Some(d) => d.feed(&chunk)?,
                None => chunk.to_vec(),
            };
            if to_sink {
                if let Some(s) = sink.as_mut() {
                    s.write(&data).await?;
                }
            } else {
                fields += data.len();
                if fields > MAX_FIELDS {
                    return Err(Error::PayloadTooLarge(
                        "The form's fields are too large.".into(),
                    ));
                }
                text.extend_from_slice(&data);
            }
        }
        let tail = match dec {
            Some(d) => d.finish()?,
            None => Vec::new(),
        };
        if to_sink {
            if let Some(s) = sink.as_mut() {
                s.write(&tail).await?;
            }
        } else {
            text.extend_from_slice(&tail);
            let s = String::from_utf8(text)
                .map_err(|_| Error::field(&name, "Value is not valid UTF-8 text."))?;
            if s.contains('\0') || name.contains('\0') {
                return Err(Error::field(
                    &name.replace('\0', "\\0"),
                    "Text may not contain NUL characters.",
                ));
            }
            input.push(name, s);
        }
    }
    Ok(sink)
}

/// The next piece of a raw body, waiting at most `timeout`.
pub async fn next_chunk(
    stream: &mut axum::body::BodyDataStream,
    timeout: Duration,
) -> Result<Option<Bytes>> {
    match tokio::time::timeout(timeout, stream.next()).await {
        Err(_) => Err(stalled(timeout)),
        Ok(None) => Ok(None),
        Ok(Some(Ok(b))) => Ok(Some(b)),
        Ok(Some(Err(e))) => Err(Error::BadRequest(format!(
            "The request body could not be read: {e}."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_in_pieces() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let enc = base64::engine::general_purpose::STANDARD.encode(&data);
        let wrapped: Vec<u8> = enc
            .as_bytes()
            .chunks(76)
            .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
            .collect();
        for split in [1, 3, 5, 77, 500] {
            let mut d = B64Stream::default();
            let mut out = Vec::new();
            for piece in wrapped.chunks(split) {
                out.extend(d.feed(piece).unwrap());
            }
            out.extend(d.finish().unwrap());
            assert_eq!(out, data, "split {split}");
        }
        let mut d = B64Stream::default();
        assert!(d.feed(b"ab=c====").is_err() || d.finish().is_err());
    }
}
