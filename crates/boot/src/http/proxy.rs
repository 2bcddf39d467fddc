//! `/MAAS/metadata/…` reverse-proxied to the region, streaming both ways.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use crate::metrics::{Metrics, Route};

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(h: &mut HeaderMap) {
    let listed: Vec<HeaderName> = h
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in listed {
        h.remove(n);
    }
    for n in HOP_BY_HOP {
        h.remove(*n);
    }
}

pub(super) async fn metadata(
    State(st): State<Arc<HttpState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    st.files.metrics.http_request(Route::Metadata);
    let Some(region) = st.files.config.load().config.region_url.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no region configured\n").into_response();
    };
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{}", region.trim_end_matches('/'), pq).parse::<Uri>() else {
        tracing::warn!(%remote, region = %region, "metadata proxy: bad upstream URL");
        return (StatusCode::BAD_GATEWAY, "bad region URL\n").into_response();
    };
    let (mut parts, body) = req.into_parts();
    parts.uri = uri;
    strip_hop_by_hop(&mut parts.headers);
    if let Some(h) = parts.headers.remove("host") {
        parts.headers.insert("x-forwarded-host", h);
    }
    if let Ok(v) = HeaderValue::from_str(&remote.ip().to_string()) {
        parts.headers.append("x-forwarded-for", v);
    }
    match st.client.request(Request::from_parts(parts, body)).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            if let Some(n) = parts
                .headers
                .get("content-length")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            {
                Metrics::add(&st.files.metrics.http_bytes, n);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => {
            tracing::warn!(%remote, region = %region, error = %e, "metadata proxy: region unreachable");
            (StatusCode::BAD_GATEWAY, "region unreachable\n").into_response()
        }
    }
}
