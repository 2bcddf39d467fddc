//! Who is asking: the session cookie → the signed-in user (else a redirect
//! to the sign-in page), and for every POST the cross-site checks: the
//! browser's `Sec-Fetch-Site` / `Origin` must say same-origin, and the
//! form's CSRF token must be the session's.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::services::auth::User;
use crate::services::sessions;
use crate::ui::error::PageError;
use crate::ui::form::FormData;
use crate::ui::views::Nav;
use crate::ui::{BASE, Ui};

/// The session cookie's name.
pub const COOKIE: &str = "maas_ui_session";
/// Largest form body the UI reads (user data is the big one).
const MAX_FORM: usize = 2 << 20;
/// A form's body must arrive within this (like the API's body timeout).
const FORM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The signed-in user of a request.
#[derive(Clone)]
pub struct Viewer {
    pub user: User,
    pub csrf: String,
    pub cookie: String,
    /// The request's path and query (the active navigation item).
    pub path: String,
}

impl Viewer {
    pub fn nav(&self) -> Nav {
        Nav::new(&self.user, &self.csrf, &self.path)
    }

    /// 403 for non-admins.
    pub fn admin(&self) -> Result<&User, PageError> {
        if self.user.is_superuser {
            Ok(&self.user)
        } else {
            Err(PageError {
                nav: self.nav(),
                error: Error::Forbidden("This page is for administrators only.".into()),
            })
        }
    }
}

/// The value of our cookie in the request's `Cookie` headers.
pub fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
}

/// `Set-Cookie` for a new session (or, with `None`, one that clears it).
pub fn set_cookie(value: Option<&str>, secure: bool) -> String {
    let sec = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!("{COOKIE}={v}; Path=/MAAS/; HttpOnly; SameSite=Lax{sec}"),
        None => format!("{COOKIE}=; Path=/MAAS/; HttpOnly; SameSite=Lax; Max-Age=0{sec}"),
    }
}

/// Whether the client reached us over https (directly or via a proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A request's browser says it came from another site: `Sec-Fetch-Site`
/// other than same-origin/none, or an `Origin` whose host is not ours.
/// Requests without either header (non-browser clients) pass here; the
/// CSRF token still guards them.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    let Some(origin) = get(header::ORIGIN.as_str()) else {
        return false;
    };
    let host = get(header::HOST.as_str()).unwrap_or("");
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host != Some(host) || host.is_empty()
}

fn sign_in_redirect(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/MAAS/r/machines");
    let next: String =
        percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC).to_string();
    Redirect::to(&format!("{BASE}/login?next={next}")).into_response()
}

impl FromRequestParts<Ui> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ui: &Ui) -> Result<Self, Response> {
        let Some(cookie) = cookie_of(&parts.headers) else {
            return Err(sign_in_redirect(parts));
        };
        match sessions::lookup(ui, &cookie).await {
            Ok(Some(s)) => Ok(Viewer {
                user: s.user,
                csrf: s.csrf,
                cookie,
                path: parts.uri.path().to_string(),
            }),
            Ok(None) => Err(sign_in_redirect(parts)),
            Err(e) => Err((crate::ui::error::status(&e), e.to_string()).into_response()),
        }
    }
}

/// A POSTed form from a signed-in user, checked against cross-site use.
pub struct Posted {
    pub viewer: Viewer,
    pub form: FormData,
}

/// 403: a form that did not come from our own pages.
pub fn refused(nav: Option<Nav>, why: &str) -> Response {
    let error = Error::Forbidden(format!("Cross-site request refused: {why}"));
    match nav {
        Some(nav) => PageError { nav, error }.into_response(),
        None => (StatusCode::FORBIDDEN, error.to_string()).into_response(),
    }
}

/// The form body of a request, bounded.
pub async fn read_form(req: Request) -> Result<FormData, Response> {
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM);
    let bytes = tokio::time::timeout(FORM_TIMEOUT, body)
        .await
        .map_err(|_| (StatusCode::REQUEST_TIMEOUT, "form not received in time").into_response())?
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    Ok(FormData::parse(&bytes))
}

impl FromRequest<Ui> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, ui: &Ui) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, ui).await?;
        if cross_site(&parts.headers) {
            return Err(refused(
                Some(viewer.nav()),
                "the form came from another site.",
            ));
        }
        let form = read_form(Request::from_parts(parts, body)).await?;
        let given = form.get("csrf").unwrap_or("");
        let ok: bool = given.as_bytes().ct_eq(viewer.csrf.as_bytes()).into();
        if !ok || given.is_empty() {
            return Err(refused(
                Some(viewer.nav()),
                "the form's token is missing or stale; reload the page and try again.",
            ));
        }
        Ok(Posted { viewer, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        assert!(!cross_site(&headers(&[("host", "a:5240")])));
        assert!(!cross_site(&headers(&[
            ("host", "a:5240"),
            ("origin", "http://a:5240"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "a:5240"),
            ("origin", "http://evil")
        ])));
        assert!(cross_site(&headers(&[
            ("host", "a:5240"),
            ("origin", "null")
        ])));
        assert!(cross_site(&headers(&[
            ("host", "a:5240"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "a:5240"),
            ("sec-fetch-site", "same-site"),
        ])));
    }

    #[test]
    fn our_cookie_among_others() {
        let h = headers(&[("cookie", "a=1; maas_ui_session=abc ; b=2")]);
        assert_eq!(cookie_of(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_of(&headers(&[("cookie", "a=1")])), None);
    }
}
