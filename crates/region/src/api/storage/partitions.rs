//! `nodes/{system_id}/blockdevices/{device_id}/partitions/` and
//! `…/partition/{id}`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use super::{bytes, format_of, mount_of, tag};
use crate::api::app::{App, Req, json, no_content};
use crate::error::Result;
use crate::services::storage::partitions::{self as parts, NewPart};

pub async fn collection(
    State(app): State<App>,
    Path((system_id, dev)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&parts::list(&app, u, &system_id, &dev).await?)),
        (&Method::POST, None) => {
            let u = req.admin()?;
            let i = &req.input;
            let r = NewPart {
                size: bytes(i, "size")?,
                uuid: i.get_nonempty("uuid").map(str::to_string),
                bootable: i.bool("bootable")?.unwrap_or(false),
            };
            let (_, id) = parts::create(&app, u, &system_id, &dev, r).await?;
            let p = parts::get(&app, u, &system_id, &dev, &id.to_string()).await?;
            Ok(json(&p))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path((system_id, dev, id)): Path<(String, String, String)>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    let sys = system_id.as_str();
    let p = match (&req.method, req.op()) {
        (&Method::GET, None) => return Ok(json(&parts::get(&app, u, sys, &dev, &id).await?)),
        (&Method::DELETE, None) => {
            parts::delete(&app, req.admin()?, sys, &dev, &id).await?;
            return Ok(no_content());
        }
        (&Method::POST, Some("format")) => {
            parts::format(&app, u, sys, &dev, &id, format_of(i)).await?
        }
        (&Method::POST, Some("unformat")) => parts::unformat(&app, u, sys, &dev, &id).await?,
        (&Method::POST, Some("mount")) => {
            parts::mount(&app, u, sys, &dev, &id, mount_of(i)).await?
        }
        (&Method::POST, Some("unmount")) => parts::unmount(&app, u, sys, &dev, &id).await?,
        (&Method::POST, Some("add_tag")) => {
            parts::tag(&app, req.admin()?, sys, &dev, &id, tag(i)?, true).await?
        }
        (&Method::POST, Some("remove_tag")) => {
            parts::tag(&app, req.admin()?, sys, &dev, &id, tag(i)?, false).await?
        }
        _ => return Err(req.unknown_op()),
    };
    Ok(json(
        &parts::get(&app, u, sys, &dev, &p.id.to_string()).await?,
    ))
}
