//! `users/` and `users/{username}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::Value;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::error::Result;
use crate::services::users::{self, UserRow};

fn user_json(u: &UserRow) -> Value {
    crate::render::user_ref(&u.username, &u.email, u.is_superuser, u.is_local)
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            let out: Vec<Value> = users::list(&app.db).await?.iter().map(user_json).collect();
            Ok(json(&out))
        }
        (&Method::GET, Some("whoami")) => {
            let u = req.user()?;
            Ok(json(&user_json(&users::whoami(&app.db, u).await?)))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let i = &req.input;
            let mut c = Check::new(i);
            for f in ["username", "email", "password"] {
                if i.get_nonempty(f).is_none() {
                    c.add(f, "This field is required.");
                }
            }
            let is_superuser = c.bool("is_superuser").unwrap_or(false);
            c.finish()?;
            let u = users::create(
                &app.db,
                i.get("username").unwrap_or_default(),
                i.get("email").unwrap_or_default(),
                i.get("password").unwrap_or_default(),
                is_superuser,
            )
            .await?;
            Ok(json(&user_json(&u)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(username): Path<String>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            Ok(json(&user_json(&users::get(&app.db, &username).await?)))
        }
        (&Method::DELETE, None) => {
            let me = req.admin()?;
            users::delete(&app, me, &username).await?;
            Ok(no_content())
        }
        // Not in MAAS's API (its web UI alone changes a role): the role
        // change the web UI offers, so neither can do what the other can't.
        (&Method::PUT, None) => {
            let me = req.admin()?;
            let mut c = Check::new(&req.input);
            let given = req.input.get_nonempty("is_superuser").is_some();
            let admin = if given { c.bool("is_superuser") } else { None };
            if !given {
                c.add("is_superuser", "This field is required.");
            }
            c.finish()?;
            users::set_admin(&app, me, &username, admin.unwrap_or(false)).await?;
            Ok(json(&user_json(&users::get(&app.db, &username).await?)))
        }
        _ => Err(req.unknown_op()),
    }
}
