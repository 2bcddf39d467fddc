//! Request parameters: query string and body as urlencoded, multipart (with
//! base64 parts) or JSON. No panic, and a refusal is always the client's
//! error (400/413), never an internal one (5xx).
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use maas_region::error::Error;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (kind, rest) = (data[0], &data[1..]);
    let split = (rest[0] as usize).min(rest.len() - 1);
    let (query, body) = rest[1..].split_at(split.min(rest.len() - 1));
    let query = String::from_utf8_lossy(query);
    let mut headers = HeaderMap::new();
    let ct = match kind % 5 {
        0 => "application/x-www-form-urlencoded",
        1 => "multipart/form-data; boundary=XyZ",
        2 => "application/json",
        3 => "multipart/form-data",
        _ => "text/xml",
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Err(e) = maas_region::api::params::parse(Some(&query), &headers, body) {
        assert!(!matches!(e, Error::Internal(_)), "internal error: {e}");
    }
});
