//! The web UI over plain HTTP for tests: a client that does not follow
//! redirects, sign-in (the session cookie and a page's CSRF token), GET and
//! form POSTs with the cookie, and the text of a field's error.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::TestRegion;

pub fn client() -> reqwest::Client {
    crate::install_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The UI's base (`http://…/MAAS/r`).
pub fn base(r: &TestRegion) -> String {
    format!("{}/r", r.url())
}

/// A signed-in browser: its cookie header value, the CSRF token of `page`,
/// where the sign-in sent it, and the whole Set-Cookie it got.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub landed: String,
    pub set_cookie: String,
}

/// Sign in as `user` (password "pw"), then read the CSRF token on `page`.
pub async fn sign_in(r: &TestRegion, user: &str, page: &str) -> Session {
    let resp = client()
        .post(format!("{}/login", base(r)))
        .form(&[("username", user), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sign-in as {user}");
    let landed = resp.headers()[LOCATION].to_str().unwrap().to_string();
    let set_cookie = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let html = get(r, &cookie, page).await.1;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a csrf field")
        .to_string();
    Session {
        cookie,
        csrf,
        landed,
        set_cookie,
    }
}

/// GET a UI path (after `/MAAS/r`) with the cookie: status and body.
pub async fn get(r: &TestRegion, cookie: &str, path: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{}{path}", base(r)))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// POST a form with the cookie (and an Origin header if given): status,
/// the redirect's target (or ""), body.
pub async fn post(
    r: &TestRegion,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
    origin: Option<&str>,
) -> (u16, String, String) {
    let mut rb = client()
        .post(format!("{}{path}", base(r)))
        .header(COOKIE, cookie)
        .form(form);
    if let Some(o) = origin {
        rb = rb.header("origin", o);
    }
    let resp = rb.send().await.unwrap();
    let to = resp
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (resp.status().as_u16(), to, resp.text().await.unwrap())
}

/// The text of a field's error (`<span id="<id>-error">`), unescaped.
pub fn field_error(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}-error\">");
    let raw = page.split(&marker).nth(1)?.split('<').next()?;
    Some(unescape(raw))
}

/// HTML text as the reader sees it (the entities askama writes).
pub fn unescape(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}
