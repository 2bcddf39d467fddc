//! `account/prefs/sslkeys/`, `license-keys/` and `license-key/{os}/{series}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::{deleted, required};
use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::misc::keys::{self, LicenseKey, SslKey};

fn ssl_json(k: &SslKey) -> Value {
    json!({
        "id": k.0, "key": k.2,
        "resource_uri": format!("/MAAS/api/2.0/account/prefs/sslkeys/{}/", k.0),
    })
}

pub async fn sslkeys(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &keys::ssl_keys(&app, u)
                .await?
                .iter()
                .map(ssl_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            let key = req
                .input
                .text_or_file("key")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| Error::field("key", "This field is required."))?;
            let key =
                String::from_utf8(key).map_err(|_| Error::field("key", "Invalid SSL key."))?;
            let k = keys::add_ssl_key(&app, u, &key).await?;
            Ok(super::json_status(
                axum::http::StatusCode::CREATED,
                &ssl_json(&k),
            ))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn sslkey(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&ssl_json(&keys::ssl_key(&app, u, &id).await?))),
        (&Method::DELETE, None) => {
            keys::delete_ssl_key(&app, u, &id).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}

fn license_json(k: &LicenseKey) -> Value {
    json!({
        "osystem": k.0, "distro_series": k.1, "license_key": k.2,
        "resource_uri": format!("/MAAS/api/2.0/license-key/{}/{}", k.0, k.1),
    })
}

pub async fn license_keys(State(app): State<App>, req: Req) -> Result<Response> {
    req.admin()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &keys::license_keys(&app)
                .await?
                .iter()
                .map(license_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            let get = |k: &str| req.input.get(k).unwrap_or("").trim().to_string();
            let k = keys::create_license_key(
                &app,
                &get("osystem"),
                &get("distro_series"),
                &get("license_key"),
            )
            .await?;
            Ok(json(&license_json(&k)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn license_key(
    State(app): State<App>,
    Path((osystem, series)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    req.admin()?;
    let k = keys::license_key(&app, &osystem, &series).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&license_json(&k))),
        (&Method::PUT, None) => {
            let key = required(&req, "license_key")?;
            Ok(json(&license_json(
                &keys::update_license_key(&app, &k, key).await?,
            )))
        }
        (&Method::DELETE, None) => {
            keys::delete_license_key(&app, &k).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
