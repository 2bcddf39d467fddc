//! The HTTP boot server (default port 5248): loaders under `/boot/`, images
//! under `/images/` (Range, streamed; `/images/<sha256>` is
//! `<image-dir>/by-sha256/<sha256>`), `/ipxe.cfg`, `/ipxe.cfg-<mac>`, the
//! metadata proxy under `/MAAS/metadata/`, and `/metrics`.

mod proxy;
pub mod range;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::net::TcpListener;

use crate::files::BootFiles;
use crate::mac::Mac;
use crate::metrics::{Metrics, Route};
use crate::path::{resolve_under, sanitize};
use range::{RangeSpec, parse_range};

/// Default HTTP boot port.
pub const DEFAULT_PORT: u16 = 5248;
const CHUNK: usize = 256 * 1024;

pub(crate) struct HttpState {
    files: Arc<BootFiles>,
    client: Client<HttpConnector, Body>,
    /// The address we listen on, for script URLs when neither a rack URL
    /// is configured nor a usable Host header is sent.
    local: SocketAddr,
}

/// The router, for embedding; serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(files: Arc<BootFiles>, local: SocketAddr) -> Router {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let st = Arc::new(HttpState {
        files,
        client,
        local,
    });
    Router::new()
        .route("/boot/{loader}", get(loader))
        .route("/images/{*path}", get(image))
        .route("/metrics", get(metrics))
        .route("/MAAS/metadata", any(proxy::metadata))
        .route("/MAAS/metadata/{*rest}", any(proxy::metadata))
        // Machines enlist through the API (anonymous `machines/` create);
        // the rest of the API is not reachable through a rack.
        .route("/MAAS/api/2.0/machines/", any(proxy::metadata))
        .route("/{file}", get(root_file))
        .fallback(not_found)
        .with_state(st)
}

/// Serve the boot HTTP server on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, files: Arc<BootFiles>) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let app = router(files, local);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

async fn not_found(State(st): State<Arc<HttpState>>) -> Response {
    st.files.metrics.http_request(Route::Other);
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn metrics(State(st): State<Arc<HttpState>>) -> Response {
    let mut out = String::new();
    st.files.metrics.render_prometheus(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn loader(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    st.files.metrics.http_request(Route::Loader);
    match st.files.loaders.get(&name) {
        Some(p) => {
            st.files.report(None, "loader", remote, &name);
            serve_file(p, &headers, &st.files.metrics).await
        }
        None => (StatusCode::NOT_FOUND, "no such loader\n").into_response(),
    }
}

async fn image(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    st.files.metrics.http_request(Route::Image);
    let rel = match sanitize(path.as_bytes()) {
        Ok(r) => r,
        Err(why) => return refused(&st, remote, &path, why),
    };
    let Some(root) = &st.files.image_root else {
        return (StatusCode::NOT_FOUND, "no image root\n").into_response();
    };
    // `/images/<sha256>`: a synced image file, by content.
    let rel = if maas_model::desired::Image::valid_sha256(&rel) {
        format!("by-sha256/{rel}")
    } else {
        rel
    };
    match resolve_under(root, &rel).await {
        Ok(Some(p)) => {
            if headers.get(header::RANGE).is_none() {
                st.files.report(None, "image", remote, &rel);
            }
            serve_file(&p, &headers, &st.files.metrics).await
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
        Err(why) => refused(&st, remote, &path, why),
    }
}

fn refused(
    st: &HttpState,
    remote: SocketAddr,
    path: &str,
    why: crate::path::PathRefusal,
) -> Response {
    Metrics::inc(&st.files.metrics.http_refused_paths);
    tracing::warn!(%remote, path = %path, reason = %why, "HTTP boot path refused");
    (StatusCode::FORBIDDEN, "refused\n").into_response()
}

/// `/ipxe.cfg` and `/ipxe.cfg-<mac>`.
async fn root_file(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let base = st.files.base_url(|| {
        format!(
            "http://{}",
            host_of(&headers).unwrap_or_else(|| st.local.to_string())
        )
    });
    if file == "ipxe.cfg" {
        st.files.metrics.http_request(Route::IpxeCfg);
        return script(crate::ipxe::chain_script(&base));
    }
    if let Some(m) = file.strip_prefix("ipxe.cfg-") {
        st.files.metrics.http_request(Route::IpxeMachine);
        let Some(mac) = Mac::parse(m) else {
            return (StatusCode::NOT_FOUND, "bad MAC\n").into_response();
        };
        let (text, purpose) = st.files.machine_script(&base, &mac);
        tracing::info!(%remote, %mac, purpose = purpose.name(), "iPXE script served");
        st.files.report(Some(mac), purpose.name(), remote, &file);
        return script(text);
    }
    st.files.metrics.http_request(Route::Other);
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn script(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// The Host header when it is a plain host[:port] (it ends up in scripts).
fn host_of(h: &HeaderMap) -> Option<String> {
    let v = h.get(header::HOST)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 255
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| v.to_string())
}

/// Stream `path` (or the requested range of it) without reading it whole.
pub(crate) async fn serve_file(
    path: &Path,
    headers: &HeaderMap,
    metrics: &Arc<Metrics>,
) -> Response {
    let mut f = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot open boot file");
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
    };
    let len = match f.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let (status, start, count) =
        match parse_range(headers.get(header::RANGE).map(HeaderValue::as_bytes), len) {
            RangeSpec::Full => (StatusCode::OK, 0, len),
            RangeSpec::Partial { start, end } => {
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            RangeSpec::Unsatisfiable => {
                return (
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    [(header::CONTENT_RANGE, format!("bytes */{len}"))],
                )
                    .into_response();
            }
        };
    if start > 0 && f.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "seek failed\n").into_response();
    }
    let m = metrics.clone();
    let stream = futures_util::stream::unfold((f, count, m), |(mut f, left, m)| async move {
        if left == 0 {
            return None;
        }
        let want = left.min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; want];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Metrics::add(&m.http_bytes, n as u64);
                Some((
                    Ok::<Bytes, std::io::Error>(Bytes::from(buf)),
                    (f, left - n as u64, m),
                ))
            }
            Err(e) => Some((Err(e), (f, 0, m))),
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
    resp
}
