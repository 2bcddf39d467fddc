//! The web UI over plain HTTP: sessions (cookie attributes, expiry row,
//! sign-out), CSRF and cross-site refusals, roles, the list's paging and
//! search, and the live event stream. The browser flows are in `ui.rs`.

use std::time::Duration;

use maas_testkit as common;

use common::TestRegion;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use common::ui::{base as ui, client, get};

/// Sign in; the cookie header value and the page's CSRF token. The cookie
/// is HttpOnly, SameSite=Lax, for /MAAS/.
async fn sign_in(r: &TestRegion, user: &str) -> (String, String) {
    let s = common::ui::sign_in(r, user, "/machines").await;
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/MAAS/"] {
        assert!(s.set_cookie.contains(attr), "{} lacks {attr}", s.set_cookie);
    }
    (s.cookie, s.csrf)
}

async fn post(
    r: &TestRegion,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
    origin: Option<&str>,
) -> (u16, String) {
    let (st, _, body) = common::ui::post(r, cookie, path, form, origin).await;
    (st, body)
}

#[tokio::test]
async fn sessions_sign_in_and_out() {
    let r = TestRegion::start().await;
    // Not signed in: to the sign-in page, remembering where to go.
    let resp = client()
        .get(format!("{}/machines", ui(&r)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/MAAS/r/login?next=")
    );
    // A wrong password: 401 with the form again, no session.
    let resp = client()
        .post(format!("{}/login", ui(&r)))
        .form(&[("username", "admin"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    let (cookie, csrf) = sign_in(&r, "admin").await;
    assert_eq!(r.count("SELECT count(*) FROM ui_sessions").await, 1);
    // Only the hash is stored.
    let id = cookie.split('=').nth(1).unwrap();
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ui_sessions WHERE id_hash = decode($1, 'hex')")
            .bind(id)
            .fetch_one(r.db())
            .await
            .unwrap();
    assert_eq!(stored, 0);
    assert_eq!(get(&r, &cookie, "/machines").await.0, 200);
    // Sign-out needs the token, then deletes the row.
    assert_eq!(post(&r, &cookie, "/logout", &[], None).await.0, 403);
    assert_eq!(
        post(&r, &cookie, "/logout", &[("csrf", &csrf)], None)
            .await
            .0,
        303
    );
    assert_eq!(r.count("SELECT count(*) FROM ui_sessions").await, 0);
    assert_eq!(get(&r, &cookie, "/machines").await.0, 303);
    // An expired session is no session.
    let (cookie, _) = sign_in(&r, "alice").await;
    sqlx::query("UPDATE ui_sessions SET expires = now() - interval '1 s'")
        .execute(r.db())
        .await
        .unwrap();
    assert_eq!(get(&r, &cookie, "/machines").await.0, 303);
    // Junk cookies never reach the database and are no session either.
    assert_eq!(
        get(&r, "maas_ui_session=../../etc", "/machines").await.0,
        303
    );
    // After sign-in only our own pages are places to go next.
    let resp = client()
        .post(format!("{}/login", ui(&r)))
        .form(&[
            // (a user: an admin's first sign-in goes to the first-run page)
            ("username", "alice"),
            ("password", "pw"),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/MAAS/r/machines");
}

#[tokio::test]
async fn cross_site_and_tokenless_posts_are_refused() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("n1", 2, 2048).await;
    let (cookie, csrf) = sign_in(&r, "admin").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("action", "mark_broken"),
        ("sid", &sid),
        ("confirmed", "1"),
    ];
    // Another site's form, even with the right token.
    let (st, body) = post(
        &r,
        &cookie,
        "/machines/action",
        &form,
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("Cross-site request refused"));
    // No token, a wrong token.
    assert_eq!(
        post(&r, &cookie, "/machines/action", &form[1..], None)
            .await
            .0,
        403
    );
    let wrong = [
        ("csrf", "0"),
        ("action", "mark_broken"),
        ("sid", &sid),
        ("confirmed", "1"),
    ];
    assert_eq!(
        post(&r, &cookie, "/machines/action", &wrong, None).await.0,
        403
    );
    assert_eq!(r.status_of(&sid).await, 4, "nothing happened");
    // Our own form works.
    let host = r.url().trim_end_matches("/MAAS").to_string();
    let (st, body) = post(&r, &cookie, "/machines/action", &form, Some(&host)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(r.status_of(&sid).await, 8, "broken");
    // Sign-in from another site is refused too (login CSRF).
    let resp = client()
        .post(format!("{}/login", ui(&r)))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "admin"), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn roles_as_the_api_enforces_them() {
    let r = TestRegion::start().await;
    let free = r.ready_machine("free", 2, 2048).await;
    let taken = r.ready_machine("taken", 2, 2048).await;
    assert_eq!(
        r.admin
            .op("machines/", "allocate", &[("system_id", &taken)])
            .await
            .0,
        200
    );
    let (cookie, csrf) = sign_in(&r, "alice").await;
    assert_eq!(get(&r, &cookie, "/users").await.0, 403);
    assert_eq!(get(&r, &cookie, "/settings").await.0, 403);
    // As the API answers: 403 for a machine that is not hers to see.
    assert_eq!(get(&r, &cookie, &format!("/machine/{taken}")).await.0, 403);
    assert_eq!(get(&r, &cookie, &format!("/machine/{free}")).await.0, 200);
    let (_, list) = get(&r, &cookie, "/machines").await;
    assert!(list.contains(&format!("m-{free}")) && !list.contains(&format!("m-{taken}")));
    // Admin-only bulk actions are refused; actions on another's machine fail per machine.
    let del = [
        ("csrf", csrf.as_str()),
        ("action", "delete"),
        ("sid", &free),
        ("confirmed", "1"),
    ];
    assert_eq!(
        post(&r, &cookie, "/machines/action", &del, None).await.0,
        403
    );
    let rel = [
        ("csrf", csrf.as_str()),
        ("action", "release"),
        ("sid", &taken),
        ("confirmed", "1"),
    ];
    let (st, body) = post(&r, &cookie, "/machines/action", &rel, None).await;
    assert_eq!(st, 200);
    assert!(body.contains("0 done, 1 refused"), "{body}");
    assert_eq!(r.status_of(&taken).await, 10, "still allocated");
    // Editing a machine's configuration is for admins.
    let edit = [("csrf", csrf.as_str()), ("hostname", "x")];
    assert_eq!(
        post(&r, &cookie, &format!("/machine/{free}/edit"), &edit, None)
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn list_pages_sorts_groups_and_searches() {
    let r = TestRegion::start().await;
    for i in 0..130 {
        r.ready_machine(&format!("n{i:03}"), 1 + i % 4, 1024).await;
    }
    let odd = r.ready_machine("zz-broken", 8, 4096).await;
    r.force_status(&odd, 8).await;
    let (cookie, _) = sign_in(&r, "admin").await;
    let rows = |html: &str| html.matches("<tr id=\"m-").count();
    let (st, p1) = get(&r, &cookie, "/machines").await;
    assert_eq!(st, 200);
    assert_eq!(rows(&p1), 100);
    assert!(p1.contains("1&ndash;100 of 131"));
    let (_, p2) = get(&r, &cookie, "/machines?page=2").await;
    assert_eq!(rows(&p2), 31);
    // Sorted by name descending: zz-broken first.
    let (_, d) = get(&r, &cookie, "/machines?sort=name&dir=desc").await;
    assert!(d.find("zz-broken").unwrap() < d.find("n129").unwrap());
    // Grouped by status: headings with the counts.
    let (_, g) = get(&r, &cookie, "/machines?group=status").await;
    assert!(g.contains("Ready (130)"), "group heading");
    let (_, g2) = get(&r, &cookie, "/machines?group=status&page=2").await;
    assert!(g2.contains("Broken (1)"));
    // Search: keys and free text.
    let (_, s) = get(&r, &cookie, "/machines?q=status%3Abroken").await;
    assert_eq!(rows(&s), 1);
    let (_, s) = get(&r, &cookie, "/machines?q=n12").await;
    assert_eq!(rows(&s), 10, "n120..n129");
    let (_, s) = get(&r, &cookie, "/machines?q=%21status%3Aready+zz").await;
    assert_eq!(rows(&s), 1);
    let (st, s) = get(&r, &cookie, "/machines?q=colour%3Ared").await;
    assert_eq!(st, 200);
    assert!(s.contains("Unknown filter"));
    // Small pages: the list's HTML stays well under 100 KB for 100 rows,
    // and goes gzip'ed to a client that asks (a fifth of it or less).
    assert!(p1.len() < 100_000, "{} bytes", p1.len());
    let resp = client()
        .get(format!("{}/machines", ui(&r)))
        .header(COOKIE, &cookie)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let zipped = resp.bytes().await.unwrap();
    assert!(zipped.starts_with(&[0x1f, 0x8b]));
    assert!(
        zipped.len() * 5 < p1.len(),
        "{} of {}",
        zipped.len(),
        p1.len()
    );
}

#[tokio::test]
async fn the_event_stream_pushes_changed_rows() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("live1", 2, 2048).await;
    let other = r.ready_machine("live2", 2, 2048).await;
    let (cookie, _) = sign_in(&r, "alice").await;
    let mut resp = client()
        .get(format!("{}/events?ids={sid}", ui(&r)))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    // Events are never held back in a compressor.
    let zipped = client()
        .get(format!("{}/events?ids={sid}", ui(&r)))
        .header(COOKIE, &cookie)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(zipped.headers().get("content-encoding").is_none());
    drop(zipped);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A machine the page does not show: nothing. Then the one it shows.
    r.force_status(&other, 8).await;
    r.force_status(&sid, 8).await;
    let mut got = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !got.contains("</tr>") {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("an event in time");
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert!(got.starts_with("event: row"), "{got}");
    assert!(
        got.contains(&format!("id=\"m-{sid}\"")) && got.contains("Broken"),
        "{got}"
    );
    assert!(!got.contains(&other));
    // Allocated to someone else: no longer hers to see, so `gone`.
    r.force_status(&sid, 4).await;
    let mut got = String::new();
    while !got.contains("event: row") {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("an event in time");
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert_eq!(
        r.admin
            .op("machines/", "allocate", &[("system_id", &sid)])
            .await
            .0,
        200
    );
    let mut got = String::new();
    while !got.contains("event: gone") {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("an event in time");
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert!(got.contains(&sid));
    // Without a session: no stream.
    let resp = client()
        .get(format!("{}/events?ids={sid}", ui(&r)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

/// Read a stream until `want` is in what arrived (10 s at most).
async fn read_until(resp: &mut reqwest::Response, want: &str) -> String {
    let mut got = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !got.contains(want) {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {want:?} in time; got {got:?}"));
        got.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    got
}

#[tokio::test]
async fn an_open_list_hears_of_machines_added_after_it_loaded() {
    let r = TestRegion::start().await;
    let (cookie, _) = sign_in(&r, "alice").await;
    let (_, page) = get(&r, &cookie, "/machines").await;
    assert!(page.contains("id=\"added-note\""), "the list has the note");
    let open = |added: bool| {
        let q = if added { "&added=1" } else { "" };
        client()
            .get(format!("{}/events?ids={q}", ui(&r)))
            .header(COOKIE, &cookie)
            .send()
    };
    let mut list = open(true).await.unwrap();
    let mut plain = open(false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A machine alice may see (unowned): the list hears of it.
    let sid = r.ready_machine("added1", 2, 2048).await;
    let got = read_until(&mut list, "event: added").await;
    assert!(got.contains(&format!("data: {sid}")), "{got}");
    // A change to a machine already there is not an addition.
    r.force_status(&sid, 8).await;
    let third = r.ready_machine("added2", 2, 2048).await;
    let got = read_until(&mut list, &third).await;
    assert!(!got.contains(&sid), "{got}");
    assert_eq!(got.matches("event: added").count(), 1, "{got}");
    // A stream that did not ask hears nothing of additions.
    r.force_status(&third, 8).await;
    let quiet = tokio::time::timeout(Duration::from_millis(800), plain.chunk()).await;
    assert!(
        quiet.is_err(),
        "an event without added=1: {:?}",
        quiet.map(|c| c.ok().flatten())
    );
}

#[tokio::test]
async fn add_machine_and_edit_show_field_errors() {
    let r = TestRegion::start().await;
    let (cookie, csrf) = sign_in(&r, "admin").await;
    let (st, page) = get(&r, &cookie, "/machines/add").await;
    assert_eq!(st, 200);
    for t in ["manual", "ipmi", "redfish", "webhook"] {
        assert!(
            page.contains(&format!("data-power-type=\"{t}\"")),
            "{t} fieldset"
        );
    }
    let (st, body) = post(
        &r,
        &cookie,
        "/machines/add",
        &[
            ("csrf", &csrf),
            ("hostname", "web1"),
            ("architecture", "amd64/generic"),
            ("mac_addresses", "52:54:00:00:00:aa"),
            ("power_type", "ipmi"),
            ("pp_ipmi_power_address", "10.0.0.9"),
            ("pp_ipmi_power_user", "root"),
            ("pp_ipmi_power_pass", "s3cret"),
            ("pp_redfish_power_address", "ignored"),
            ("zone", "default"),
            ("pool", "default"),
        ],
        None,
    )
    .await;
    assert_eq!(st, 303, "{body}");
    let (_, m) = r.admin.get("machines/", &[("hostname", "web1")]).await;
    let sid = m[0]["system_id"].as_str().unwrap().to_string();
    assert_eq!(m[0]["power_type"], "ipmi");
    let (_, p) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "power_parameters", &[])
        .await;
    assert_eq!(p["power_address"], "10.0.0.9");
    assert_eq!(p["power_pass"], "s3cret");
    // The details page never echoes the password.
    let (st, page) = get(&r, &cookie, &format!("/machine/{sid}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("10.0.0.9") && !page.contains("s3cret"));
    // The service's errors appear beside the fields.
    let (st, body) = post(
        &r,
        &cookie,
        &format!("/machine/{sid}/edit"),
        &[
            ("csrf", &csrf),
            ("hostname", "web1"),
            ("zone", "nowhere"),
            ("pool", "default"),
            ("power_type", "ipmi"),
            ("pp_ipmi_power_address", "10.0.0.9"),
        ],
        None,
    )
    .await;
    assert_eq!(st, 400);
    assert!(body.contains("id=\"zone-error\""), "{body}");
    // A duplicate MAC on add: the form again with the reason.
    let (st, body) = post(
        &r,
        &cookie,
        "/machines/add",
        &[
            ("csrf", &csrf),
            ("mac_addresses", "52:54:00:00:00:aa"),
            ("power_type", "manual"),
        ],
        None,
    )
    .await;
    assert_eq!(st, 400, "{body}");
    // An edit that passes keeps the unchanged password.
    let (st, _) = post(
        &r,
        &cookie,
        &format!("/machine/{sid}/edit"),
        &[
            ("csrf", &csrf),
            ("hostname", "web2"),
            ("zone", "default"),
            ("pool", "default"),
            ("power_type", "ipmi"),
            ("pp_ipmi_power_address", "10.0.0.10"),
        ],
        None,
    )
    .await;
    assert_eq!(st, 303);
    let (_, p) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "power_parameters", &[])
        .await;
    assert_eq!(
        (p["power_address"].as_str(), p["power_pass"].as_str()),
        (Some("10.0.0.10"), Some("s3cret"))
    );
}
