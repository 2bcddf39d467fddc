//! Sign-in (username and password, the same check and throttling as API
//! logins) and sign-out (deletes the session).

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::services::sessions;
use crate::ui::Ui;
use crate::ui::error::{PageResult, render, status};
use crate::ui::session::{Posted, cross_site, is_https, read_form, refused, set_cookie};
use crate::ui::views::Nav;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    username: String,
    error: String,
}

/// Only our own pages are places to go back to after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/MAAS/r/") && !n.contains("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/MAAS/r/machines".into(),
    }
}

pub async fn form(Query(q): Query<HashMap<String, String>>) -> Response {
    render(&LoginPage {
        nav: Nav::anonymous(),
        next: safe_next(q.get("next").map(String::as_str)),
        username: String::new(),
        error: String::new(),
    })
}

pub async fn submit(State(ui): State<Ui>, req: Request) -> Response {
    // A sign-in form posted from another site (login CSRF) is refused.
    if cross_site(req.headers()) {
        return refused(None, "the sign-in form came from another site.");
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let secure = is_https(req.headers());
    let f = match read_form(req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let username = f.get("username").unwrap_or("").trim().to_string();
    let password = f.get("password").unwrap_or("");
    let next = safe_next(f.get("next"));
    match sessions::sign_in(&ui, peer, &username, password).await {
        Ok(s) => {
            let next = crate::ui::admin::after_sign_in(&ui, &username, next).await;
            (
                StatusCode::SEE_OTHER,
                [
                    (header::SET_COOKIE, set_cookie(Some(&s.cookie), secure)),
                    (header::LOCATION, next),
                ],
            )
                .into_response()
        }
        Err(e) => {
            let code = status(&e);
            let page = LoginPage {
                nav: Nav::anonymous(),
                next,
                username,
                error: e.to_string(),
            };
            (code, render(&page)).into_response()
        }
    }
}

pub async fn logout(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    use crate::ui::error::OrPage;
    sessions::sign_out(&ui, &p.viewer.cookie)
        .await
        .or_page(&nav)?;
    Ok((
        [(header::SET_COOKIE, set_cookie(None, false))],
        Redirect::to("/MAAS/r/login"),
    )
        .into_response())
}
