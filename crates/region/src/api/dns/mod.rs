//! DNS: `domains/`, `dnsresources/`, `dnsresourcerecords/` and their items.

pub mod domains;
pub mod records;
pub mod resources;

use axum::Router;
use axum::routing::any;

use crate::api::app::App;
use crate::api::check::Check;
use crate::api::params::Input;

pub fn routes(api: &str) -> Router<App> {
    Router::new()
        .route(&format!("{api}/domains/"), any(domains::collection))
        .route(&format!("{api}/domains/{{id}}/"), any(domains::item))
        .route(&format!("{api}/dnsresources/"), any(resources::collection))
        .route(&format!("{api}/dnsresources/{{id}}/"), any(resources::item))
        .route(
            &format!("{api}/dnsresourcerecords/"),
            any(records::collection),
        )
        .route(
            &format!("{api}/dnsresourcerecords/{{id}}/"),
            any(records::item),
        )
}

/// An optional TTL within `lo..=hi`: absent → None, empty → Some(None)
/// (clear it), else the checked value.
fn ttl(ck: &mut Check, input: &Input, key: &str, lo: i64, hi: i64) -> Option<Option<i32>> {
    let v = input.get(key)?;
    if v.trim().is_empty() {
        return Some(None);
    }
    ck.int_between(key, lo, hi).map(|n| Some(n as i32))
}

/// A present parameter as given (not trimmed away to nothing).
fn text(input: &Input, key: &str) -> Option<String> {
    input.get(key).map(|s| s.trim().to_string())
}
