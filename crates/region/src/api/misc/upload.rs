//! Boot resource uploads: `POST boot-resources/` (with `content`, streamed to
//! disk, or with `sha256` + `size`) and `PUT boot-resources/{id}/upload/{file_id}/`
//! (a chunk of the bytes, appended). Neither holds an image in memory.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;

use super::bootres::{received, resource_json};
use super::{json_status, raw};
use crate::api::app::{App, Req};
use crate::api::check::Check;
use crate::api::params;
use crate::api::stream;
use crate::error::{Error, Result};
use crate::services::images::select::EPHEMERAL;
use crate::services::images::upload::{self, NewResource};
use crate::services::misc::bootres;
use crate::store::blobs::BlobWriter;

impl stream::Sink for BlobWriter {
    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        BlobWriter::write(self, chunk).await
    }
}

/// The authenticated request with only its query parsed (the body is
/// read by the caller).
async fn head(app: &App, parts: &axum::http::request::Parts) -> Result<Req> {
    let user = crate::api::oauth::authenticate(&app.hot, &app.tokens, &parts.headers).await?;
    let input = params::parse(parts.uri.query(), &axum::http::HeaderMap::new(), b"")?;
    Ok(Req {
        method: parts.method.clone(),
        user,
        input,
        headers: parts.headers.clone(),
        path: parts.uri.path().to_string(),
        peer: None,
    })
}

fn multipart_boundary(h: &axum::http::HeaderMap) -> Option<String> {
    let ct = h.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    multer::parse_boundary(ct).ok()
}

/// `boot-resources/`: a multipart create streams; everything else is an
/// ordinary (small) request.
pub async fn collection(State(app): State<App>, request: Request) -> Result<Response> {
    let streamed = request.method() == Method::POST
        && !request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("op=")));
    let boundary = multipart_boundary(request.headers()).filter(|_| streamed);
    let Some(boundary) = boundary else {
        let req = Req::from_request(request, &app).await?;
        return super::bootres::collection(State(app), req).await;
    };
    let (parts, body) = request.into_parts();
    let mut req = head(&app, &parts).await?;
    req.admin()?;
    let mut input = std::mem::take(&mut req.input);
    let content = stream::multipart(
        body,
        boundary,
        app.body_timeout,
        &mut input,
        "content",
        || upload::content_writer(&app),
    )
    .await?;
    req.input = input;
    create(&app, &req, content).await
}

/// A create whose body was small enough to parse whole (`content`, if any,
/// came as a field).
pub async fn create_small(app: &App, req: &Req) -> Result<Response> {
    let content = match req.input.text_or_file("content") {
        Some(bytes) => {
            let mut w = upload::content_writer(app).await?;
            w.write(&bytes).await?;
            Some(w)
        }
        None => None,
    };
    create(app, req, content).await
}

async fn create(app: &App, req: &Req, content: Option<BlobWriter>) -> Result<Response> {
    let mut c = Check::new(&req.input);
    let name = c.text("name").unwrap_or_default();
    if name.is_empty() {
        c.add("name", "This field is required.");
    } else if name.matches('/').count() > 1
        || name.starts_with('/')
        || name.ends_with('/')
        || name.contains(char::is_whitespace)
    {
        c.add(
            "name",
            format!("'{name}' is not a valid boot resource name."),
        );
    }
    let architecture = c.text("architecture").unwrap_or_default();
    if architecture.is_empty() {
        c.add("architecture", "This field is required.");
    } else if !bootres::valid_architecture(&architecture) {
        c.add(
            "architecture",
            format!(
                "'{architecture}' is not a valid architecture. It should be one of: {}.",
                crate::services::misc::KNOWN_ARCHES
                    .iter()
                    .map(|a| format!("'{a}/generic'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let filetype = c
        .text("filetype")
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "tgz".into());
    if upload::filetype_for(&name, &filetype).is_none() {
        let why = if name == EPHEMERAL {
            format!("The ephemeral environment takes boot-kernel or boot-initrd, not {filetype}.")
        } else {
            format!("Select a valid choice. {filetype} is not one of the available choices.")
        };
        c.add("filetype", why);
    }
    let sha256 = c.text("sha256").unwrap_or_default().to_ascii_lowercase();
    if sha256.is_empty() {
        if content.is_none() {
            c.add("sha256", "This field is required.");
        }
    } else if sha256.len() != 64 || !sha256.chars().all(|x| x.is_ascii_hexdigit()) {
        c.add("sha256", "Ensure this value is a 64-character hex SHA-256.");
    }
    let size = if req.input.get_nonempty("size").is_none() {
        if content.is_none() {
            c.add("size", "This field is required.");
        }
        None
    } else {
        c.int_between("size", 0, i64::MAX)
    };
    let title = c.text("title").filter(|t| !t.is_empty());
    let base_image = c.text("base_image").unwrap_or_default();
    c.finish()?;
    let mut content = content;
    if content.is_none() && size == Some(0) {
        // Nothing will be uploaded: the empty file is complete now.
        content = Some(upload::content_writer(app).await?);
    }
    let (sha256, size) = match content.as_mut() {
        Some(w) => {
            let (got_sha, got_size) = w.finish().await?;
            check_content(&sha256, size, &got_sha, got_size)?;
            (got_sha, got_size as i64)
        }
        None => (sha256, size.unwrap_or(0)),
    };
    let id = upload::create(
        app,
        &NewResource {
            name: name.clone(),
            title: Some(title.unwrap_or(name)),
            architecture,
            filetype,
            sha256,
            size,
            base_image,
        },
        content,
    )
    .await?;
    let (r, sets) = bootres::get(app, &id.to_string()).await?;
    let got = received(app, &sets).await;
    Ok(json_status(
        StatusCode::CREATED,
        &resource_json(&r, Some((&sets, &got))),
    ))
}

/// The bytes that came must be the ones declared (when declared).
fn check_content(sha256: &str, size: Option<i64>, got_sha: &str, got_size: u64) -> Result<()> {
    if let Some(s) = size
        && s as u64 != got_size
    {
        return Err(Error::field(
            "size",
            format!("The content is {got_size} bytes, not {s}. Nothing was stored."),
        ));
    }
    if !sha256.is_empty() && sha256 != got_sha {
        return Err(Error::field(
            "sha256",
            format!("The content's SHA256 is {got_sha}, not {sha256}. Nothing was stored."),
        ));
    }
    Ok(())
}

/// `PUT boot-resources/{id}/upload/{file_id}/`: append a chunk (the body,
/// as python-libmaas and the MAAS CLI send it); the last one completes the
/// file once its sha256 checks.
pub async fn chunk(
    State(app): State<App>,
    Path((id, file_id)): Path<(String, String)>,
    request: Request,
) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let req = head(&app, &parts).await?;
    if req.method != Method::PUT {
        return Err(req.unknown_op());
    }
    req.admin()?;
    let mut up = upload::begin_chunk(&app, &id, &file_id).await?;
    let mut data = body.into_data_stream();
    while let Some(b) = stream::next_chunk(&mut data, app.body_timeout).await? {
        up.write(&app, &b).await?;
    }
    up.finish(&app).await?;
    Ok(raw("text/plain; charset=utf-8", b"OK".to_vec()))
}
