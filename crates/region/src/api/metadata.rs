//! The metadata API booting machines call with their own token
//! (`/MAAS/metadata/...`): `signal` completes commissioning, testing,
//! deployment, disk erasing and rescue mode; `user-data` read by the deployed
//! OS marks a deploying machine deployed, as in MAAS.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::app::{App, Req};
use crate::error::{Error, Result};
use crate::services::metadata::{self, Signal};
use crate::services::preseed;

const VERSIONS: &[&str] = &["latest", "2012-03-01", "2012-08-01", "2012-09-15", "1.0"];

fn text(body: impl Into<Body>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn check_version(v: &str) -> Result<()> {
    if VERSIONS.contains(&v) {
        Ok(())
    } else {
        Err(Error::NotFound(format!("Unknown metadata version: {v}")))
    }
}

/// The machine behind a node token.
async fn node(app: &App, req: &Req) -> Result<String> {
    let u = req.user.as_ref().ok_or_else(|| {
        Error::Unauthorized("The metadata API needs the machine's OAuth token.".into())
    })?;
    let mid = u.machine_id.ok_or_else(|| {
        Error::Forbidden("Only a machine's own token can use the metadata API.".into())
    })?;
    metadata::system_id_of(app, mid).await
}

pub async fn index(
    State(_app): State<App>,
    Path(version): Path<String>,
    req: Req,
) -> Result<Response> {
    check_version(&version)?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(text("meta-data/\nuser-data\n")),
        (&Method::POST, Some("signal")) => signal(&_app, &req).await,
        (&Method::POST, Some(op @ ("netboot_off" | "netboot_on"))) => {
            let sid = node(&_app, &req).await?;
            metadata::set_netboot(&_app, &sid, op == "netboot_on").await?;
            Ok(text("OK"))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn path(
    State(app): State<App>,
    Path((version, rest)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    check_version(&version)?;
    if req.method != Method::GET {
        return Err(req.unknown_op());
    }
    if let Some(r) = anonymous(&app, &req, &rest).await {
        return r;
    }
    let sid = node(&app, &req).await?;
    let r = metadata::view(&app, &sid).await?;
    let rest = rest.trim_end_matches('/');
    match rest {
        "meta-data" => Ok(text(
            "instance-id\nlocal-hostname\npublic-keys\nvendor-data\n",
        )),
        "meta-data/instance-id" => Ok(text(sid)),
        "meta-data/local-hostname" => Ok(text(r.hostname)),
        "meta-data/public-keys" => {
            let keys = metadata::public_keys(&app, &sid, &r).await?;
            Ok(text(keys.join("\n")))
        }
        "meta-data/vendor-data" => Ok(text("#cloud-config\n{}\n")),
        "maas-task" => {
            let url = format!("{}/MAAS/metadata/", req.base_url());
            let t = crate::services::images::task::task(&app, &sid, &url).await?;
            Ok(crate::api::app::json(&t))
        }
        "user-data" => {
            metadata::user_data_read(&app, &sid, r.status).await?;
            Ok(text(r.user_data.unwrap_or_default()))
        }
        _ => Err(Error::NotFound(format!("Unknown metadata item: {rest}"))),
    }
}

/// The anonymous lookups a booting machine makes before it has a token:
/// `by-id/<system_id>/?op=get_preseed` and
/// `enlist-preseed/?op=get_enlist_preseed`. `None`: not one of them.
async fn anonymous(app: &App, req: &Req, rest: &str) -> Option<Result<Response>> {
    let url = format!("{}/MAAS/metadata/", req.base_url());
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match (parts.as_slice(), req.op()) {
        (["by-id", sid], Some("get_preseed")) => Some(preseed::get(app, sid, &url).await.map(text)),
        (["enlist-preseed"], Some("get_enlist_preseed")) => Some(Ok(text(preseed::enlist(&url)))),
        (["by-id", _] | ["enlist-preseed"], _) => Some(Err(req.unknown_op())),
        _ => None,
    }
}

async fn signal(app: &App, req: &Req) -> Result<Response> {
    let sid = node(app, req).await?;
    let i = &req.input;
    let status = i
        .get_nonempty("status")
        .ok_or_else(|| Error::field("status", "This field is required."))?
        .to_ascii_uppercase();
    const KNOWN: &[&str] = &[
        "OK",
        "FAILED",
        "WORKING",
        "COMMISSIONING",
        "TESTING",
        "TIMEDOUT",
        "INSTALLING",
        "APPLYING_NETCONF",
        "RELEASING",
        "DEPLOYING",
    ];
    if !KNOWN.contains(&status.as_str()) {
        return Err(Error::field(
            "status",
            format!("'{status}' is not a valid signal status."),
        ));
    }
    let exit_status = i.int("exit_status")?;
    let files = i
        .files
        .iter()
        .flat_map(|(name, files)| {
            files
                .iter()
                .map(move |(fname, data)| (name.as_str(), fname.as_str(), data.as_slice()))
        })
        .collect();
    let s = Signal {
        status: &status,
        exit_status,
        runtime: i.get("runtime"),
        error: i.get("error").unwrap_or(""),
        files,
        power: i
            .get_nonempty("power_type")
            .map(|pt| (pt, i.get_nonempty("power_parameters"))),
    };
    metadata::signal(app, &sid, s).await?;
    Ok(text("OK"))
}

/// `POST /MAAS/metadata/status/{system_id}`: cloud-init/curtin reporting.
pub async fn status(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    if req.method != Method::POST {
        return Err(req.unknown_op());
    }
    let sid = node(&app, &req).await?;
    if sid != system_id {
        return Err(Error::Forbidden(
            "A machine may only report its own status.".into(),
        ));
    }
    let i = &req.input;
    let event_type = i.get("event_type").unwrap_or("").to_string();
    let name = i.get("name").unwrap_or("").to_string();
    let result = i.get("result").unwrap_or("").to_ascii_uppercase();
    let desc = i.get("description").unwrap_or("").to_string();
    metadata::report(&app, &sid, &event_type, &name, &result, &desc).await?;
    Ok(text("OK"))
}
