//! `files/` and `files/{filename}/`: files users store, per owner; read
//! anonymously by key (`op=get_by_key`).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::{deleted, raw, required};
use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::misc::files::{self, StoredFile};

fn anon_uri(f: &StoredFile) -> String {
    format!("/MAAS/api/2.0/files/?op=get_by_key&key={}", f.key)
}

fn file_uri(f: &StoredFile) -> String {
    // As Django's reverse() quotes, but '/' too so the URI routes back here.
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'[')
        .add(b'\\')
        .add(b']')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}')
        .add(b'/');
    let name = percent_encoding::utf8_percent_encode(&f.filename, PATH).to_string();
    format!("/MAAS/api/2.0/files/{name}/")
}

fn list_json(f: &StoredFile) -> Value {
    json!({
        "filename": f.filename,
        "anon_resource_uri": anon_uri(f),
        "resource_uri": file_uri(f),
    })
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    // Anyone holding a file's key may read it.
    if req.method == Method::GET && req.op() == Some("get_by_key") {
        let key = required(&req, "key")?;
        let f = files::by_key(&app, key).await?;
        return Ok(raw("application/octet-stream", f.content));
    }
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = files::list(&app, u.id, req.input.get("prefix")).await?;
            Ok(json(&rows.iter().map(list_json).collect::<Vec<_>>()))
        }
        (&Method::GET, Some("get")) => {
            let name = required(&req, "filename")?;
            let f = files::get(&app, u.id, name).await?;
            Ok(raw("application/octet-stream", f.content))
        }
        (&Method::POST, None) => {
            let filename = req
                .input
                .get_nonempty("filename")
                .ok_or_else(|| Error::BadRequest("Filename not supplied".into()))?;
            let parts: Vec<&(String, Vec<u8>)> = req.input.files.values().flatten().collect();
            if parts.is_empty() {
                return Err(Error::BadRequest("File not supplied".into()));
            }
            if parts.len() != 1 {
                return Err(Error::BadRequest(
                    "Exactly one file must be supplied".into(),
                ));
            }
            let content = req
                .input
                .files
                .get("file")
                .and_then(|v| v.last())
                .ok_or_else(|| Error::BadRequest("File not supplied".into()))?;
            files::save(&app, u.id, filename, &content.1).await?;
            Ok((StatusCode::CREATED, "").into_response())
        }
        (&Method::DELETE, None) | (&Method::POST, Some("delete")) => {
            let name = required(&req, "filename")?;
            files::delete(&app, u.id, name).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(filename): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => match files::get(&app, u.id, &filename).await {
            Ok(f) => {
                let mut v = list_json(&f);
                v["content"] = json!(base64::engine::general_purpose::STANDARD.encode(&f.content));
                Ok(json(&v))
            }
            // MAAS tells a missing file from a missing endpoint this way.
            Err(Error::NotFound(_)) => Ok((
                StatusCode::NOT_FOUND,
                [("Workaround", "bug1123986")],
                "Not Found",
            )
                .into_response()),
            Err(e) => Err(e),
        },
        (&Method::DELETE, None) => {
            files::delete(&app, u.id, &filename).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
