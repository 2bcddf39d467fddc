//! Creating and editing the network model from the web UI over plain HTTP:
//! fabrics, VLANs, subnets, spaces and users' address reservations. Each
//! form changes what the API shows; a refusal is a 400 with the API's own
//! message beside the field (compared with the API's answer to the same
//! values) and writes nothing; users get 403 on admin forms; a form without
//! the CSRF token is refused; deletions ask first. The browser flow is in
//! `tests/ui/networks.mjs`.

use maas_testkit as common;

use common::TestRegion;
use serde_json::Value;

mod edits;
mod fabrics;
mod renames;
mod reserved;
mod routes;
mod settings;
mod spaces;
mod subnets;

/// A signed-in session: cookie and CSRF token.
pub(crate) type S = (String, String);

pub(crate) async fn sign_in(r: &TestRegion, user: &str) -> S {
    let s = common::ui::sign_in(r, user, "/subnets").await;
    (s.cookie, s.csrf)
}

/// POST a form with the session's token: status, Location, body.
pub(crate) async fn post(
    r: &TestRegion,
    s: &S,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let mut f: Vec<(&str, &str)> = vec![("csrf", &s.1)];
    f.extend_from_slice(form);
    common::ui::post(r, &s.0, path, &f, None).await
}

/// POST without the CSRF token.
pub(crate) async fn post_no_csrf(r: &TestRegion, s: &S, path: &str, form: &[(&str, &str)]) -> u16 {
    common::ui::post(r, &s.0, path, form, None).await.0
}

pub(crate) async fn get(r: &TestRegion, s: &S, path: &str) -> (u16, String) {
    common::ui::get(r, &s.0, path).await
}

pub(crate) fn field_error(page: &str, id: &str) -> String {
    common::ui::field_error(page, id).unwrap_or_default()
}

/// The API's first message for `key` in a refusal.
pub(crate) fn api_msg(v: &Value, key: &str) -> String {
    v[key][0].as_str().unwrap_or_default().to_string()
}

/// GET an API path as the admin (200 expected).
pub(crate) async fn api(r: &TestRegion, path: &str) -> Value {
    let (st, v) = r.admin.get(path, &[]).await;
    assert_eq!(st, 200, "{path}: {v}");
    v
}

/// The id at the end of a redirect (`/MAAS/r/fabric/7` → 7).
pub(crate) fn id_of(location: &str) -> i64 {
    location
        .rsplit('/')
        .next()
        .and_then(|x| x.split('#').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location}"))
}
