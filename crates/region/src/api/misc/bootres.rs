//! `boot-resources/` and `boot-resources/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{deleted, raw};
use crate::api::app::{App, Req, json};
use crate::error::Result;
use crate::services::images::select;
use crate::services::misc::bootres::{self, Resource, Set};

/// Bytes received so far of each incomplete file (chunked uploads).
pub(crate) type Received = std::collections::HashMap<i64, u64>;

pub(crate) async fn received(app: &App, sets: &[Set]) -> Received {
    let mut out = Received::new();
    for f in sets.iter().flat_map(|s| &s.files).filter(|f| !f.complete) {
        out.insert(f.id, app.blobs.part_len(f.id).await);
    }
    out
}

fn percent(done: u64, size: i64) -> f64 {
    if size <= 0 {
        return 0.0;
    }
    (done as f64 * 100.0 / size as f64).min(100.0)
}

pub(crate) fn resource_json(r: &Resource, sets: Option<(&[Set], &Received)>) -> Value {
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
    if let Some((sets, received)) = sets {
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
                    let done = received.get(&f.id).copied().unwrap_or(0);
                    fo["progress"] = json!(percent(done, f.size));
                    if r.rtype == bootres::UPLOADED {
                        fo["upload_uri"] = json!(format!(
                            "/MAAS/api/2.0/boot-resources/{}/upload/{}/",
                            r.id, f.id
                        ));
                    }
                }
                files.insert(f.filename.clone(), fo);
            }
            let complete = select::set_complete(&r.name, &s.files);
            let size = s.files.iter().map(|f| f.size).sum::<i64>();
            let mut so = json!({
                "version": s.version, "label": s.label,
                "size": size,
                "complete": complete,
            });
            if !complete {
                let done: u64 = s
                    .files
                    .iter()
                    .map(|f| {
                        if f.complete {
                            f.size.max(0) as u64
                        } else {
                            received.get(&f.id).copied().unwrap_or(0)
                        }
                    })
                    .sum();
                so["progress"] = json!(percent(done, size));
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
            super::upload::create_small(&app, &req).await
        }
        (&Method::GET, Some("rack_sync")) => {
            req.admin()?;
            Ok(json(&crate::services::images::rack_sync(&app).await?))
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

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let (r, sets) = bootres::get(&app, &id).await?;
            let got = received(&app, &sets).await;
            Ok(json(&resource_json(&r, Some((&sets, &got)))))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            crate::services::images::upload::delete(&app, &id).await?;
            Ok(deleted())
        }
        _ => Err(req.unknown_op()),
    }
}
