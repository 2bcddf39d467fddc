//! The web UI's controllers, images, devices, account and admin pages over
//! plain HTTP: forms and the services' errors beside the fields, confirm
//! steps before deletes, admin-only refusals, the first-run page after an
//! admin's first sign-in. The browser flows are in `tests/ui/more.mjs`.

use maas_testkit as common;

use common::ui::{base as ui, client};
use common::{Api, TestRegion};
use reqwest::header::COOKIE;

mod account_more;
mod actions;
mod device_ifaces;
mod infra;
mod machine_fields;
mod notes;
mod places;
mod repos;

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHXz8r6X4bFjQ2y5l9hq0w1pA3mQf7c0n9eJ2s8Xk1aB alice@laptop";

/// Sign in: the cookie, the CSRF token and where the sign-in sent us.
async fn sign_in(r: &TestRegion, user: &str) -> (String, String, String) {
    let s = common::ui::sign_in(r, user, "/account").await;
    (s.cookie, s.csrf, s.landed)
}

use common::ui::{field_error, get};

/// POST a form with the session's CSRF token; status, body and the
/// redirect's target if any.
async fn post(
    r: &TestRegion,
    s: &(String, String, String),
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let mut f: Vec<(&str, &str)> = vec![("csrf", &s.1)];
    f.extend_from_slice(form);
    let (st, to, body) = common::ui::post(r, &s.0, path, &f, None).await;
    (st, body, to)
}

#[tokio::test]
async fn intro_after_an_admins_first_sign_in_until_completed() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    assert_eq!(admin.2, "/MAAS/r/intro?next=%2FMAAS%2Fr%2Fmachines");
    // Users are not sent there, and may not open it.
    let alice = sign_in(&r, "alice").await;
    assert_eq!(alice.2, "/MAAS/r/machines");
    assert_eq!(get(&r, &alice.0, "/intro").await.0, 403);
    assert_eq!(post(&r, &alice, "/intro", &[("skip", "1")]).await.0, 403);
    // The page shows the one command that adds a rack, with the secret.
    let (st, page) = get(&r, &admin.0, "/intro").await;
    assert_eq!(st, 200);
    let secret = maas_region::services::racks::enrollment_secret(r.db())
        .await
        .unwrap();
    assert!(page.contains(&format!("--secret {secret}")), "{page}");
    assert!(page.contains("maas-rack serve --region https://127.0.0.1:5250"));
    // A bad SSH key: the API's message beside the field, nothing saved.
    let (st, page, _) = post(
        &r,
        &admin,
        "/intro",
        &[
            ("maas_name", "lab"),
            ("upstream_dns", "10.0.0.53"),
            ("ssh_key", "ssh-rsa nope"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "ssh_key")
            .unwrap()
            .contains("Invalid SSH public key"),
        "{page}"
    );
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "maas_name")])
        .await;
    assert_eq!(v, "maas");
    // Empty region name: required.
    let (st, page, _) = post(&r, &admin, "/intro", &[("maas_name", " ")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "maas_name").unwrap(),
        "This field is required."
    );
    // Completed: settings and key saved, back to where the admin was going.
    let (st, _, to) = post(
        &r,
        &admin,
        "/intro",
        &[
            ("maas_name", "lab"),
            ("upstream_dns", "10.0.0.53"),
            ("ssh_key", ED25519),
            ("next", "/MAAS/r/devices"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    assert_eq!(to, "/MAAS/r/devices");
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "maas_name")])
        .await;
    assert_eq!(v, "lab");
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "upstream_dns")])
        .await;
    assert_eq!(v, "10.0.0.53");
    let (_, keys) = r.admin.get("account/prefs/sshkeys/", &[]).await;
    assert_eq!(keys[0]["key"], ED25519);
    // Done: the next sign-in goes straight on.
    assert_eq!(sign_in(&r, "admin").await.2, "/MAAS/r/machines");
}

#[tokio::test]
async fn account_ssh_keys_and_api_keys() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    // The API's validation message beside the field.
    let (st, page, _) = post(
        &r,
        &alice,
        "/account/sshkeys",
        &[("key", "ssh-ed25519 !!!")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "key").unwrap(),
        "Invalid SSH public key: the key data is not base64."
    );
    assert!(page.contains("ssh-ed25519 !!!"), "the input is kept");
    let (st, page, _) = post(&r, &alice, "/account/sshkeys", &[("key", "")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "key").unwrap(),
        "This field is required."
    );
    let (st, _, to) = post(&r, &alice, "/account/sshkeys", &[("key", ED25519)]).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/account"));
    let (st, page, _) = post(&r, &alice, "/account/sshkeys", &[("key", ED25519)]).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "key")
            .unwrap()
            .contains("already been added")
    );
    let (_, keys) = r.alice.get("account/prefs/sshkeys/", &[]).await;
    let id = keys[0]["id"].as_i64().unwrap().to_string();
    // Someone else's key: 403, and it stays.
    let admin = sign_in(&r, "admin").await;
    let path = format!("/account/sshkey/{id}/delete");
    assert_eq!(post(&r, &admin, &path, &[("confirmed", "1")]).await.0, 403);
    // Delete confirms first.
    let (st, page, _) = post(&r, &alice, &path, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\" value=\"1\""), "{page}");
    assert_eq!(
        r.alice
            .get("account/prefs/sshkeys/", &[])
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(post(&r, &alice, &path, &[("confirmed", "1")]).await.0, 303);
    assert_eq!(
        r.alice
            .get("account/prefs/sshkeys/", &[])
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A new API key is shown once, and works against the API.
    let (st, page, _) = post(&r, &alice, "/account/tokens", &[("name", "laptop")]).await;
    assert_eq!(st, 200);
    let key = page
        .split("id=\"apikeys-secret\" tabindex=\"0\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the new key")
        .to_string();
    assert_eq!(key.split(':').count(), 3);
    let api = Api::new(&r.url(), Some(key.clone()));
    let (st, me) = api.get_op("users/", "whoami", &[]).await;
    assert_eq!((st, me["username"].as_str()), (200, Some("alice")));
    let (_, page) = get(&r, &alice.0, "/account").await;
    let secret = key.split(':').nth(2).unwrap();
    assert!(
        page.contains("laptop") && !page.contains(secret),
        "listed, never shown again"
    );
    // Deleting it (confirmed) stops it at once.
    let tk = key.split(':').nth(1).unwrap();
    let (st, page, _) = post(&r, &alice, "/account/token/delete", &[("token_key", tk)]).await;
    assert_eq!(st, 200);
    assert!(page.contains("will stop working"));
    assert_eq!(api.get_op("users/", "whoami", &[]).await.0, 200);
    let (st, _, _) = post(
        &r,
        &alice,
        "/account/token/delete",
        &[("token_key", tk), ("confirmed", "1")],
    )
    .await;
    assert_eq!(st, 303);
    assert_eq!(api.get_op("users/", "whoami", &[]).await.0, 401);
}

#[tokio::test]
async fn users_and_settings_are_for_admins() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let admin = sign_in(&r, "admin").await;
    for p in ["/users", "/settings"] {
        assert_eq!(get(&r, &alice.0, p).await.0, 403, "{p}");
    }
    let bob = [
        ("username", "bob"),
        ("email", "bob@example.com"),
        ("password", "secret"),
    ];
    assert_eq!(post(&r, &alice, "/users/add", &bob).await.0, 403);
    assert_eq!(
        post(&r, &alice, "/settings", &[("maas_name", "x")]).await.0,
        403
    );
    assert_eq!(
        post(&r, &alice, "/user/admin/role", &[("admin", "0")])
            .await
            .0,
        403
    );
    assert_eq!(
        post(&r, &alice, "/user/admin/delete", &[("confirmed", "1")])
            .await
            .0,
        403
    );
    // Field errors beside the fields, as the API words them.
    let (st, page, _) = post(
        &r,
        &admin,
        "/users/add",
        &[("username", "bad name!"), ("email", ""), ("password", "x")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "email").unwrap(),
        "This field is required."
    );
    let (st, page, _) = post(
        &r,
        &admin,
        "/users/add",
        &[
            ("username", "bad name!"),
            ("email", "b@x"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "username")
            .unwrap()
            .contains("Enter a valid username")
    );
    assert!(!page.contains("value=\"x\""), "the password is not echoed");
    let (st, _, to) = post(&r, &admin, "/users/add", &bob).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/users"));
    let (st, page, _) = post(&r, &admin, "/users/add", &bob).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "username")
            .unwrap()
            .contains("already exists")
    );
    // Make admin and back; not oneself.
    let is_admin = |name: &'static str| {
        let db = r.db().clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT is_superuser FROM users WHERE username = $1")
                .bind(name)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        post(&r, &admin, "/user/bob/role", &[("admin", "1")])
            .await
            .0,
        303
    );
    assert!(is_admin("bob").await);
    assert_eq!(
        post(&r, &admin, "/user/bob/role", &[("admin", "0")])
            .await
            .0,
        303
    );
    assert!(!is_admin("bob").await);
    assert_eq!(
        post(&r, &admin, "/user/admin/role", &[("admin", "0")])
            .await
            .0,
        400
    );
    assert!(is_admin("admin").await);
    // Delete: confirm page first.
    let (st, page, _) = post(&r, &admin, "/user/bob/delete", &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("User bob will be deleted"));
    assert_eq!(
        r.count("SELECT count(*) FROM users WHERE username = 'bob'")
            .await,
        1
    );
    assert_eq!(
        post(&r, &admin, "/user/bob/delete", &[("confirmed", "1")])
            .await
            .0,
        303
    );
    assert_eq!(
        r.count("SELECT count(*) FROM users WHERE username = 'bob'")
            .await,
        0
    );
    assert_eq!(post(&r, &admin, "/user/nobody/delete", &[]).await.0, 404);

    // Settings: the API's names and checks; nothing written on an error.
    let (st, page) = get(&r, &admin.0, "/settings").await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"node_timeout\""));
    let (st, page, _) = post(
        &r,
        &admin,
        "/settings",
        &[("maas_name", "changed"), ("node_timeout", "0")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "node_timeout").unwrap(),
        "node_timeout must be between 1 and 10080."
    );
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "maas_name")])
        .await;
    assert_eq!(v, "maas", "nothing half-written");
    let (st, page, _) = post(
        &r,
        &admin,
        "/settings",
        &[
            ("maas_name", "changed"),
            ("node_timeout", "45"),
            ("default_storage_layout", "zfs"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "default_storage_layout")
            .unwrap()
            .contains("not one of the available choices")
    );
    // Only the settings posted change.
    let (st, page, _) = post(
        &r,
        &admin,
        "/settings",
        &[("maas_name", "changed"), ("node_timeout", "45")],
    )
    .await;
    assert_eq!(st, 200, "{page}");
    assert!(
        page.contains("Saved 2 settings: maas_name, node_timeout."),
        "{page}"
    );
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "node_timeout")])
        .await;
    assert_eq!(v, 45);
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "enlist_commissioning")])
        .await;
    assert_eq!(v, true, "a box the form did not carry is unchanged");
    // A box as the browser posts it: the hidden "false", then "1" when ticked.
    let (st, _, _) = post(
        &r,
        &admin,
        "/settings",
        &[("enlist_commissioning", "false")],
    )
    .await;
    assert_eq!(st, 200);
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "enlist_commissioning")])
        .await;
    assert_eq!(v, false, "unticked");
    let (st, _, _) = post(
        &r,
        &admin,
        "/settings",
        &[
            ("enlist_commissioning", "false"),
            ("enlist_commissioning", "1"),
        ],
    )
    .await;
    assert_eq!(st, 200);
    let (_, v) = r
        .admin
        .get_op("maas/", "get_config", &[("name", "enlist_commissioning")])
        .await;
    assert_eq!(v, true, "ticked");
}
