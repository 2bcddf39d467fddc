//! `notifications/` and `notifications/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use super::deleted;
use crate::api::app::{App, Req, json};
use crate::api::check::Check;
use crate::error::Result;
use crate::services::misc::notifications::{self, Change, Notification};

async fn notification_json(app: &App, n: &Notification) -> Result<Value> {
    let user = notifications::addressee(app, n).await?.map(
        |(_id, username, email, is_superuser, is_local)| {
            crate::render::user_ref(&username, &email, is_superuser, is_local)
        },
    );
    Ok(json!({
        "id": n.id, "ident": n.ident, "user": user, "users": n.users, "admins": n.admins,
        "message": n.message, "context": n.context, "category": n.category,
        "dismissable": n.dismissable,
        "resource_uri": format!("/MAAS/api/2.0/notifications/{}/", n.id),
    }))
}

/// The fields a create or update carries; booleans checked.
fn change(req: &Req) -> Result<Change> {
    let mut c = Check::new(&req.input);
    let ch = Change {
        ident: c.text("ident"),
        user: c.text("user"),
        users: c.bool("users"),
        admins: c.bool("admins"),
        message: req.input.get("message").map(str::to_string),
        context: c.text("context"),
        category: c.text("category"),
        dismissable: c.bool("dismissable"),
    };
    c.finish()?;
    Ok(ch)
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut out = Vec::new();
            for n in notifications::list(&app, u).await? {
                out.push(notification_json(&app, &n).await?);
            }
            Ok(json(&out))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let n = notifications::save(&app, None, change(&req)?).await?;
            Ok(json(&notification_json(&app, &n).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    let u = req.user()?;
    let n = notifications::get(&app, u, &id).await?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&notification_json(&app, &n).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let n = notifications::save(&app, Some(n), change(&req)?).await?;
            Ok(json(&notification_json(&app, &n).await?))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            notifications::delete(&app, &n).await?;
            Ok(deleted())
        }
        (&Method::POST, Some("dismiss")) => {
            notifications::dismiss(&app, u, &n).await?;
            Ok(crate::api::app::no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
