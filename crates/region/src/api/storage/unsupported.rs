//! Volume groups, RAIDs, bcaches, bcache cache sets and VMFS datastores:
//! this region has none. Listings are empty (after the machine is checked);
//! writes are refused with a message saying so; single objects are 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::machines;

/// (collection path, item path, what MAAS calls one, name for messages)
const KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "volume-groups",
        "volume-group",
        "VolumeGroup",
        "Volume groups",
    ),
    ("raids", "raid", "RAID", "RAIDs"),
    ("bcaches", "bcache", "Bcache", "Bcaches"),
    (
        "bcache-cache-sets",
        "bcache-cache-set",
        "CacheSet",
        "Bcache cache sets",
    ),
    (
        "vmfs-datastores",
        "vmfs-datastore",
        "VMFS",
        "VMFS datastores",
    ),
];

fn refuse(what: &str) -> Error {
    Error::BadRequest(format!("{what} are not supported by this region yet."))
}

pub fn routes(mut r: Router<App>, n: &str) -> Router<App> {
    for &(coll, item, model, what) in KINDS {
        r = r
            .route(
                &format!("{n}/{coll}/"),
                any(
                    move |State(app): State<App>, Path(sys): Path<String>, req: Req| async move {
                        collection(app, sys, req, what).await
                    },
                ),
            )
            .route(
                &format!("{n}/{item}/{{id}}/"),
                any(
                    move |State(app): State<App>,
                          Path((sys, _id)): Path<(String, String)>,
                          req: Req| async move {
                        one(app, sys, req, model, what).await
                    },
                ),
            );
    }
    r
}

async fn collection(app: App, sys: String, req: Req, what: &str) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            machines::get_visible(&app, u, &sys).await?;
            Ok(json(&Vec::<()>::new()))
        }
        (&Method::POST, _) => {
            req.admin()?;
            machines::get(&app, &sys).await?;
            Err(refuse(what))
        }
        _ => Err(req.unknown_op()),
    }
}

async fn one(app: App, sys: String, req: Req, model: &str, what: &str) -> Result<Response> {
    let u = req.user()?;
    machines::get_visible(&app, u, &sys).await?;
    match req.method {
        Method::GET | Method::DELETE | Method::PUT | Method::POST => Err(Error::NotFound(format!(
            "No {model} matches the given query. ({what} are not supported by this region yet.)"
        ))),
        _ => Err(req.unknown_op()),
    }
}
