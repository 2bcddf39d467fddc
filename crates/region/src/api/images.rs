//! `GET /MAAS/images/<sha256>`: the bytes of a stored boot image file, for
//! racks (Range supported, streamed). Unauthenticated: the content is named
//! by its digest, which only the API (authenticated) and rack snapshots
//! reveal; see docs/images.md.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maas_model::range::{RangeSpec, parse_range};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::api::app::App;
use crate::error::{Error, Result};

const CHUNK: usize = 256 * 1024;

pub async fn image(
    State(app): State<App>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let not_found = || Error::NotFound(format!("No stored image file {sha256}."));
    let path = crate::services::images::stored_file(&app, &sha256)
        .await
        .ok_or_else(not_found)?;
    let mut f = tokio::fs::File::open(&path)
        .await
        .map_err(|_| not_found())?;
    let len = f.metadata().await.map_err(|_| not_found())?.len();
    let (status, start, count) =
        match parse_range(headers.get(header::RANGE).map(HeaderValue::as_bytes), len) {
            RangeSpec::Full => (StatusCode::OK, 0, len),
            RangeSpec::Partial { start, end } => {
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            RangeSpec::Unsatisfiable => {
                return Ok((
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response());
            }
        };
    if start > 0 {
        f.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| Error::Internal(e.into()))?;
    }
    let stream = futures_util::stream::unfold((f, count), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; left.min(CHUNK as u64) as usize];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<Bytes, std::io::Error>(Bytes::from(buf)),
                    (f, left - n as u64),
                ))
            }
            Err(e) => Some((Err(e), (f, 0))),
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{}", start, start + count - 1, len))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}
