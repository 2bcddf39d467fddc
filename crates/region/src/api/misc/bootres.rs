//! `boot-resources/` and `boot-resources/{id}/`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{deleted, json_status, raw};
use crate::api::app::{App, Req, json};
use crate::api::check::Check;
use crate::error::{Error, Result};
use crate::services::misc::bootres::{self, NewResource, Resource, Set};

fn resource_json(r: &Resource, sets: Option<&[Set]>) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("type".into(), json!(bootres::type_label(r.rtype)));
    o.insert("name".into(), json!(r.name));
    o.insert("architecture".into(), json!(r.architecture));
    o.insert(
        "resource_uri".into(),
        json!(format!("/MAAS/api/2.0/boot-resources/{}/", r.id)),
    );
    o.insert(
        "last_deployed".into(),
        json!(r.last_deployed.map(|t| t.to_rfc3339())),
    );
    if let Value::Object(extra) = &r.extra {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    if !r.base_image.is_empty() {
        o.insert("base_image".into(), json!(r.base_image));
    }
    if let Some(sets) = sets {
        let mut m = Map::new();
        for s in sets {
            let mut files = Map::new();
            for f in &s.files {
                let mut fo = json!({
                    "filename": f.filename, "filetype": f.filetype, "sha256": f.sha256,
                    "filename_on_disk": format!("{}-{}", &f.sha256[..f.sha256.len().min(7)], f.filename),
                    "size": f.size, "complete": f.complete,
                });
                if !f.complete {
                    fo["progress"] = json!(0.0);
                    if r.rtype == bootres::UPLOADED {
                        fo["upload_uri"] = json!(format!(
                            "/MAAS/api/2.0/boot-resources/{}/upload/{}/",
                            r.id, f.id
                        ));
                    }
                }
                files.insert(f.filename.clone(), fo);
            }
            let complete = s.files.iter().all(|f| f.complete);
            let mut so = json!({
                "version": s.version, "label": s.label,
                "size": s.files.iter().map(|f| f.size).sum::<i64>(),
                "complete": complete,
            });
            if !complete {
                so["progress"] = json!(0.0);
            }
            so["files"] = Value::Object(files);
            m.insert(s.version.clone(), so);
        }
        o.insert("sets".into(), Value::Object(m));
    }
    Value::Object(o)
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = bootres::list(&app, req.input.get("type")).await?;
            Ok(json(
                &rows
                    .iter()
                    .map(|r| resource_json(r, None))
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::POST, None) => {
            req.admin()?;
            create(&app, &req).await
        }
        (&Method::POST, Some("import")) => {
            req.admin()?;
            Ok(raw(
                "text/plain; charset=utf-8",
                b"Import of boot resources started".to_vec(),
            ))
        }
        (&Method::POST, Some("stop_import")) => {
            req.admin()?;
            Ok(raw(
                "text/plain; charset=utf-8",
                b"Import of boot resources is being stopped".to_vec(),
            ))
        }
        (&Method::GET, Some("is_importing")) => Ok(json(&false)),
        _ => Err(req.unknown_op()),
    }
}

/// Register an uploaded resource's metadata (`sha256` + `size`); the bytes
/// (`content`) are taken with image upload, a later issue.
async fn create(app: &App, req: &Req) -> Result<Response> {
    if req.input.has("content") {
        return Err(Error::field(
            "content",
            "Uploading image content is not supported yet: register the resource with sha256 and size.",
        ));
    }
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
    if bootres::upload_filetype(&filetype).is_none() {
        c.add(
            "filetype",
            format!("Select a valid choice. {filetype} is not one of the available choices."),
        );
    }
    let sha256 = c.text("sha256").unwrap_or_default();
    if sha256.is_empty() {
        c.add("sha256", "This field is required.");
    } else if sha256.len() != 64 || !sha256.chars().all(|x| x.is_ascii_hexdigit()) {
        c.add("sha256", "Ensure this value is a 64-character hex SHA-256.");
    }
    let size = if req.input.get_nonempty("size").is_none() {
        c.add("size", "This field is required.");
        None
    } else {
        c.int_between("size", 0, i64::MAX)
    };
    let title = c.text("title").filter(|t| !t.is_empty());
    let base_image = c.text("base_image").unwrap_or_default();
    c.finish()?;
    let id = bootres::create(
        app,
        &NewResource {
            name: name.clone(),
            title: Some(title.unwrap_or(name)),
            architecture,
            filetype,
            sha256: sha256.to_ascii_lowercase(),
            size: size.unwrap_or(0),
            base_image,
        },
    )
    .await?;
    let (r, sets) = bootres::get(app, &id.to_string()).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &resource_json(&r, Some(&sets)),
    ))
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let (r, sets) = bootres::get(&app, &id).await?;
            Ok(json(&resource_json(&r, Some(&sets))))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            bootres::delete(&app, &id).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
