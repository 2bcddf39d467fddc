//! Boot resources and sources, files, notifications, package repositories,
//! SSL and license keys, scripts and script results: the client reads and
//! small CRUD resources beside the machine model.

pub mod bootres;
pub mod bootsrc;
pub mod files;
pub mod keys;
pub mod notifications;
pub mod repos;
pub mod results;
pub mod upload;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::api::app::App;
use crate::error::{Error, Result};

/// This area's routes under `api` (`/MAAS/api/2.0`).
pub fn routes(api: &str) -> Router<App> {
    let r = |p: &str| format!("{api}{p}");
    Router::new()
        .route(&r("/boot-resources/"), any(upload::collection))
        .route(
            &r("/boot-resources/{id}/upload/{file_id}/"),
            any(upload::chunk),
        )
        .route(&r("/boot-resources/{id}/"), any(bootres::item))
        .route(&r("/boot-sources/"), any(bootsrc::collection))
        .route(&r("/boot-sources/{id}/"), any(bootsrc::item))
        .route(
            &r("/boot-sources/{source}/selections/"),
            any(bootsrc::selections),
        )
        .route(
            &r("/boot-sources/{source}/selections/{id}/"),
            any(bootsrc::selection),
        )
        .route(&r("/files/"), any(files::collection))
        .route(&r("/files/{filename}/"), any(files::item))
        .route(&r("/notifications/"), any(notifications::collection))
        .route(&r("/notifications/{id}/"), any(notifications::item))
        .route(&r("/package-repositories/"), any(repos::collection))
        .route(&r("/package-repositories/{id}/"), any(repos::item))
        .route(&r("/account/prefs/sslkeys/"), any(keys::sslkeys))
        .route(&r("/account/prefs/sslkeys/{id}/"), any(keys::sslkey))
        .route(&r("/license-keys/"), any(keys::license_keys))
        .route(
            &r("/license-key/{osystem}/{series}/"),
            any(keys::license_key),
        )
        .route(&r("/scripts/"), any(results::scripts))
        .route(&r("/scripts/{name}/"), any(results::script))
        .route(&r("/nodes/{system_id}/results/"), any(results::results))
        .route(&r("/nodes/{system_id}/results/{id}/"), any(results::result))
}

/// A required non-empty parameter.
fn required<'a>(req: &'a crate::api::app::Req, field: &str) -> Result<&'a str> {
    req.input
        .get_nonempty(field)
        .ok_or_else(|| Error::field(field, "This field is required."))
}

/// A response with a status and a JSON value.
fn json_status(status: StatusCode, v: &serde_json::Value) -> Response {
    crate::api::app::json_bytes(status, serde_json::to_vec(v).unwrap_or_default())
}

/// Raw bytes, as MAAS returns a file or a text message.
fn raw(content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        Body::from(bytes),
    )
        .into_response()
}

/// MAAS's DELETE answer.
fn deleted() -> Response {
    crate::api::app::no_content()
}
