//! SSL keys of users, license keys of operating systems, and importing SSH
//! keys from Launchpad/GitHub (which needs an internet this region lacks).

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::misc::{not_found, parse_id};
use crate::store::misc::keys as db;
pub use crate::store::misc::keys::{LicenseKey, SslKey};

pub async fn ssl_keys(ctx: &Ctx, u: &User) -> Result<Vec<SslKey>> {
    db::ssl_keys(&ctx.db, u.id).await
}

/// A key of the caller's (403 when another user's).
pub async fn ssl_key(ctx: &Ctx, u: &User, id: &str) -> Result<SslKey> {
    let id = parse_id(id, "SSLKey")?;
    let k = db::ssl_key(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("SSLKey"))?;
    if k.1 != u.id {
        return Err(Error::Forbidden("Can't get a key you don't own.".into()));
    }
    Ok(k)
}

/// Whether `key` is a PEM certificate whose body is valid base64 (DER).
pub fn valid_pem_certificate(key: &str) -> bool {
    use base64::Engine;
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let Some(start) = key.find(begin) else {
        return false;
    };
    let rest = &key[start + begin.len()..];
    let Some(stop) = rest.find(end) else {
        return false;
    };
    let body: String = rest[..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(body) {
        // A DER certificate is a SEQUENCE.
        Ok(der) => der.len() > 16 && der[0] == 0x30,
        Err(_) => false,
    }
}

pub async fn add_ssl_key(ctx: &Ctx, u: &User, key: &str) -> Result<SslKey> {
    let key = key.trim();
    if !valid_pem_certificate(key) {
        return Err(Error::field("key", "Invalid SSL key."));
    }
    let id = db::add_ssl_key(&ctx.db, u.id, key)
        .await?
        .ok_or_else(|| Error::field("__all__", "This key has already been added for this user."))?;
    Ok((id, u.id, key.to_string()))
}

pub async fn delete_ssl_key(ctx: &Ctx, u: &User, id: &str) -> Result<()> {
    let id = parse_id(id, "SSLKey")?;
    let k = db::ssl_key(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("SSLKey"))?;
    if k.1 != u.id {
        return Err(Error::Forbidden("Can't delete a key you don't own.".into()));
    }
    db::delete_ssl_key(&ctx.db, id).await
}

/// `sshkeys/?op=import`: MAAS fetches the keys from Launchpad or GitHub.
/// This region makes no outbound calls, so the source is unreachable and
/// the answer is MAAS's error for that (nothing is written).
pub fn import_ssh_keys(keysource: Option<&str>) -> Error {
    let Some(ks) = keysource.filter(|k| !k.trim().is_empty()) else {
        return Error::BadRequest(
            "Importing SSH keys failed. Input needs to be in protocol:auth_id or auth_id format."
                .into(),
        );
    };
    let (protocol, auth_id) = ks.split_once(':').unwrap_or(("lp", ks));
    let (host, who) = match protocol {
        "lp" => ("launchpad.net", "Launchpad"),
        "gh" => ("api.github.com", "Github"),
        _ => {
            return Error::field(
                "protocol",
                format!("Select a valid choice. {protocol} is not one of the available choices."),
            );
        }
    };
    Error::BadRequest(format!(
        "Unable to import SSH keys. {who} user {auth_id} could not be looked up: \
         HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded \
         (this region has no access to {host})."
    ))
}

pub async fn license_keys(ctx: &Ctx) -> Result<Vec<LicenseKey>> {
    db::license_keys(&ctx.db).await
}

pub async fn license_key(ctx: &Ctx, osystem: &str, series: &str) -> Result<LicenseKey> {
    db::license_key(&ctx.db, osystem, series)
        .await?
        .ok_or_else(|| not_found("LicenseKey"))
}

fn check_license(osystem: &str, series: &str, key: &str) -> Result<()> {
    let mut errors = maas_model::constraints::FieldErrors::new();
    for (f, v) in [
        ("osystem", osystem),
        ("distro_series", series),
        ("license_key", key),
    ] {
        if v.trim().is_empty() {
            errors
                .entry(f.to_string())
                .or_default()
                .push("This field is required.".into());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

pub async fn create_license_key(
    ctx: &Ctx,
    osystem: &str,
    series: &str,
    key: &str,
) -> Result<LicenseKey> {
    check_license(osystem, series, key)?;
    // MAAS takes `distro_series` as `os/series` too.
    let series = series
        .strip_prefix(&format!("{osystem}/"))
        .unwrap_or(series);
    if !db::insert_license_key(&ctx.db, osystem, series, key).await? {
        return Err(Error::field(
            "__all__",
            "License key with this Osystem and Distro series already exists.",
        ));
    }
    Ok((osystem.into(), series.into(), key.into()))
}

pub async fn update_license_key(ctx: &Ctx, k: &LicenseKey, key: &str) -> Result<LicenseKey> {
    check_license(&k.0, &k.1, key)?;
    db::update_license_key(&ctx.db, &k.0, &k.1, key).await?;
    Ok((k.0.clone(), k.1.clone(), key.into()))
}

pub async fn delete_license_key(ctx: &Ctx, k: &LicenseKey) -> Result<()> {
    db::delete_license_key(&ctx.db, &k.0, &k.1).await
}
