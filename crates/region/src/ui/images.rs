//! `/MAAS/r/images`: boot resources (name, architecture, type, newest
//! set's size, complete or how far its upload got), each rack's image sync
//! (admins, as the API's `rack_sync`), and for admins the upload form
//! (multipart, the fields of the API's `boot-resources/` POST, the content
//! streamed to disk, never held in memory) and delete (confirmed).

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::services::images::rack_sync;
use crate::services::images::select::{self, EPHEMERAL};
use crate::services::images::upload::{self, NewResource};
use crate::services::misc::KNOWN_ARCHES;
use crate::services::misc::bootres;
use crate::store::blobs::BlobWriter;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail, s,
};
use crate::ui::session::{Posted, Viewer, cross_site, refused};
use crate::ui::views::bytes;

const HOME: &str = "/MAAS/r/images";
/// Upload types offered (the API's `filetype` values).
const FILETYPES: &[&str] = &[
    "tgz",
    "tbz",
    "txz",
    "ddtgz",
    "ddtar",
    "ddraw",
    "ddtbz",
    "ddtxz",
    "ddbz2",
    "ddgz",
    "ddxz",
    "boot-kernel",
    "boot-initrd",
];
/// A part may stall at most this long.
const STALL: std::time::Duration = std::time::Duration::from_secs(60);
/// The text fields of an upload, together.
const MAX_FIELDS: usize = 64 << 10;

fn upload_form() -> FormBlock {
    let arches: Vec<String> = KNOWN_ARCHES
        .iter()
        .map(|a| format!("{a}/generic"))
        .collect();
    let types: Vec<String> = FILETYPES.iter().map(|t| t.to_string()).collect();
    let mut f = FormBlock::new(
        format!("{HOME}/upload"),
        "Upload image",
        vec![
            Field::text(
                "name",
                "Name (e.g. custom/myimage, or ephemeral for the boot environment)",
                "",
            )
            .required(),
            Field::text("title", "Title (optional)", ""),
            Field::select("architecture", "Architecture", "amd64/generic", &arches),
            Field::select("filetype", "File type", "tgz", &types),
            Field::text("base_image", "Base image (e.g. ubuntu/jammy; optional)", ""),
            Field::text("content", "File", "").kind("file").required(),
        ],
    );
    f.multipart = true;
    f.id = "upload".into();
    f
}

async fn page(ui: &Ui, viewer: &Viewer, form: FormBlock) -> Result<Page> {
    let admin = viewer.user.is_superuser;
    let mut rows = Vec::new();
    for r in bootres::list(ui, None).await? {
        let (_, sets) = bootres::get(ui, &r.id.to_string()).await?;
        let newest = sets.first();
        let (size, state) = match newest {
            None => (String::new(), "no files".to_string()),
            Some(set) => {
                let size: i64 = set.files.iter().map(|f| f.size).sum();
                let state = if select::set_complete(&r.name, &set.files) {
                    "complete".to_string()
                } else {
                    let mut done = 0u64;
                    for f in &set.files {
                        done += if f.complete {
                            f.size.max(0) as u64
                        } else {
                            ui.blobs.part_len(f.id).await
                        };
                    }
                    let pct = if size > 0 {
                        (done as f64 * 100.0 / size as f64).min(100.0)
                    } else {
                        0.0
                    };
                    format!("incomplete, {pct:.0}% received")
                };
                (bytes(size.max(0)), state)
            }
        };
        let mut row = Row::new(vec![
            Cell::from(r.name.clone()),
            r.architecture.clone().into(),
            bootres::type_label(r.rtype).into(),
            size.into(),
            state.into(),
            newest.map(|s| s.version.clone()).unwrap_or_default().into(),
        ]);
        if admin {
            row = row.button(
                Button::new(
                    "Delete",
                    format!("/MAAS/r/image/{}/delete", r.id),
                    format!("Delete image {} {}", r.name, r.architecture),
                )
                .danger(),
            );
        }
        rows.push(row);
    }
    let mut t = Table::new(
        &["Name", "Architecture", "Type", "Size", "State", "Version"],
        rows,
    );
    t.empty = "No boot images yet.".into();
    let mut p = Page::new(viewer.nav(), "Images").section(Section::new("list", "").table(t));
    if admin {
        let sync = rack_sync(ui).await?;
        let rows = sync
            .iter()
            .map(|(host, v)| {
                let detail = match &v["sync"] {
                    serde_json::Value::Object(o) => o
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", s(v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => s(other),
                };
                Row::new(vec![
                    Cell::link(host, format!("/MAAS/r/controller/{}", s(&v["system_id"]))),
                    s(&v["status"]).into(),
                    detail.into(),
                ])
            })
            .collect();
        let mut t = Table::new(&["Rack", "Status", "Sync"], rows);
        t.empty = "No rack controllers.".into();
        p = p
            .section(Section::new("sync", "Rack image sync").table(t))
            .section(Section::new("add", "Upload an image").form(form));
    }
    Ok(p)
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = page(&ui, &viewer, upload_form())
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

fn malformed(e: multer::Error) -> Error {
    Error::BadRequest(format!("The upload is not a valid multipart form: {e}."))
}

fn stalled() -> Error {
    Error::TimedOut("The upload stalled.".into())
}

/// Read the multipart form: text fields into a `FormData`, `content`
/// streamed to a temp file. The CSRF token must come before the file.
async fn read(ui: &Ui, req: Request, csrf: &str) -> Result<(FormData, Option<BlobWriter>)> {
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| Error::BadRequest("Send the upload form as multipart/form-data.".into()))?;
    let mut mp = multer::Multipart::new(req.into_body().into_data_stream(), boundary);
    let mut form = FormData::default();
    let mut content: Option<BlobWriter> = None;
    let mut text_len = 0usize;
    let token_ok = |f: &FormData| {
        let given = f.get("csrf").unwrap_or("");
        !given.is_empty() && bool::from(given.as_bytes().ct_eq(csrf.as_bytes()))
    };
    while let Some(mut field) = tokio::time::timeout(STALL, mp.next_field())
        .await
        .map_err(|_| stalled())?
        .map_err(malformed)?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "content" {
            if !token_ok(&form) {
                return Err(Error::Forbidden(
                    "Cross-site request refused: the form's token is missing or stale; reload the page and try again.".into(),
                ));
            }
            if field.file_name().is_some_and(str::is_empty) {
                // No file chosen: an empty part.
                while field.chunk().await.map_err(malformed)?.is_some() {}
                continue;
            }
            let mut w = upload::content_writer(ui).await?;
            while let Some(chunk) = tokio::time::timeout(STALL, field.chunk())
                .await
                .map_err(|_| stalled())?
                .map_err(malformed)?
            {
                w.write(&chunk).await?;
            }
            content = Some(w);
            continue;
        }
        let mut text = Vec::new();
        while let Some(chunk) = tokio::time::timeout(STALL, field.chunk())
            .await
            .map_err(|_| stalled())?
            .map_err(malformed)?
        {
            text_len += chunk.len();
            if text_len > MAX_FIELDS {
                return Err(Error::PayloadTooLarge(
                    "The form's fields are too large.".into(),
                ));
            }
            text.extend_from_slice(&chunk);
        }
        form.0
            .push((name, String::from_utf8_lossy(&text).into_owned()));
    }
    if !token_ok(&form) {
        return Err(Error::Forbidden(
            "Cross-site request refused: the form's token is missing or stale; reload the page and try again.".into(),
        ));
    }
    Ok((form, content))
}

/// The API's checks of an upload (same messages), then the resource.
async fn create(ui: &Ui, f: &FormData, content: Option<BlobWriter>) -> Result<i64> {
    let mut errs = maas_model::constraints::FieldErrors::new();
    let mut add = |k: &str, m: String| errs.entry(k.to_string()).or_default().push(m);
    let name = f.text("name").unwrap_or_default();
    if name.is_empty() {
        add("name", "This field is required.".into());
    } else if name.matches('/').count() > 1
        || name.starts_with('/')
        || name.ends_with('/')
        || name.contains(char::is_whitespace)
    {
        add(
            "name",
            format!("'{name}' is not a valid boot resource name."),
        );
    }
    let architecture = f.text("architecture").unwrap_or_default();
    if architecture.is_empty() {
        add("architecture", "This field is required.".into());
    } else if !bootres::valid_architecture(&architecture) {
        add(
            "architecture",
            format!(
                "'{architecture}' is not a valid architecture. It should be one of: {}.",
                KNOWN_ARCHES
                    .iter()
                    .map(|a| format!("'{a}/generic'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let filetype = f.text("filetype").unwrap_or_else(|| "tgz".into());
    if upload::filetype_for(&name, &filetype).is_none() {
        let why = if name == EPHEMERAL {
            format!("The ephemeral environment takes boot-kernel or boot-initrd, not {filetype}.")
        } else {
            format!("Select a valid choice. {filetype} is not one of the available choices.")
        };
        add("filetype", why);
    }
    if content.is_none() {
        add("content", "Choose the image file to upload.".into());
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    let mut w = content.expect("checked above");
    let (sha256, size) = w.finish().await?;
    upload::create(
        ui,
        &NewResource {
            title: Some(f.text("title").unwrap_or_else(|| name.clone())),
            name,
            architecture,
            filetype,
            sha256,
            size: size as i64,
            base_image: f.text("base_image").unwrap_or_default(),
        },
        Some(w),
    )
    .await
}

/// POST (multipart): upload an image (admins).
pub async fn upload(State(ui): State<Ui>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let viewer = match Viewer::from_request_parts(&mut parts, &ui).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let nav = viewer.nav();
    if cross_site(&parts.headers) {
        return refused(Some(nav), "the form came from another site.");
    }
    if let Err(e) = viewer.admin() {
        return e.into_response();
    }
    let req = Request::from_parts(parts, body);
    let (form, content) = match read(&ui, req, &viewer.csrf).await {
        Ok(x) => x,
        Err(e) => return fail(&nav, e).into_response(),
    };
    match create(&ui, &form, content).await {
        Ok(_) => Redirect::to(HOME).into_response(),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let f = upload_form().refill(&form).error(&e);
            match page(&ui, &viewer, f).await {
                Ok(p) => p.status(StatusCode::BAD_REQUEST),
                Err(e) => fail(&nav, e).into_response(),
            }
        }
        Err(e) => fail(&nav, e).into_response(),
    }
}

pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let (r, _) = bootres::get(&ui, &id).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete image",
            &format!(
                "Boot image {} ({}) will be deleted with its files; racks drop it at their next sync.",
                r.name, r.architecture
            ),
            &format!("/MAAS/r/image/{id}/delete"),
            vec![],
            HOME,
        ));
    }
    upload::delete(&ui, &id).await.or_page(&nav)?;
    Ok(Redirect::to(HOME).into_response())
}
