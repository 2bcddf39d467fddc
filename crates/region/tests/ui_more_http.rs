//! The web UI's controllers, images, devices, account and admin pages over
//! plain HTTP: forms and the services' errors beside the fields, confirm
//! steps before deletes, admin-only refusals, the first-run page after an
//! admin's first sign-in. The browser flows are in `tests/ui/more.mjs`.

use maas_testkit as common;

use common::{Api, TestRegion};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHXz8r6X4bFjQ2y5l9hq0w1pA3mQf7c0n9eJ2s8Xk1aB alice@laptop";

fn client() -> reqwest::Client {
    common::install_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn ui(r: &TestRegion) -> String {
    format!("{}/r", r.url())
}

/// Sign in: the cookie, the CSRF token and where the sign-in sent us.
async fn sign_in(r: &TestRegion, user: &str) -> (String, String, String) {
    let resp = client()
        .post(format!("{}/login", ui(r)))
        .form(&[("username", user), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()[LOCATION].to_str().unwrap().to_string();
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_string();
    let page = get(r, &cookie, "/account").await.1;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a csrf field")
        .to_string();
    (cookie, csrf, to)
}

async fn get(r: &TestRegion, cookie: &str, path: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{}{path}", ui(r)))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// POST a form; status, body and the redirect's target if any.
async fn post(
    r: &TestRegion,
    s: &(String, String, String),
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let mut f: Vec<(&str, &str)> = vec![("csrf", &s.1)];
    f.extend_from_slice(form);
    let resp = client()
        .post(format!("{}{path}", ui(r)))
        .header(COOKIE, &s.0)
        .form(&f)
        .send()
        .await
        .unwrap();
    let to = resp
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (resp.status().as_u16(), resp.text().await.unwrap(), to)
}

/// The text of a field's error (`<span id="<id>-error">`).
fn field_error(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}-error\">");
    let rest = page.split(&marker).nth(1)?;
    let raw = rest.split('<').next()?;
    Some(
        raw.replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
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

#[tokio::test]
async fn zones_pools_and_devices() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let admin = sign_in(&r, "admin").await;
    // Everyone sees zones; only admins change them.
    assert_eq!(get(&r, &alice.0, "/zones").await.0, 200);
    assert_eq!(
        post(&r, &alice, "/zones/add", &[("name", "z1")]).await.0,
        403
    );
    let (st, page, _) = post(&r, &admin, "/zones/add", &[("name", "bad zone")]).await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "name")
            .unwrap()
            .contains("is not a valid name")
    );
    assert_eq!(
        post(
            &r,
            &admin,
            "/zones/add",
            &[("name", "z1"), ("description", "rack row 1")]
        )
        .await
        .0,
        303
    );
    let (st, page, _) = post(&r, &admin, "/zones/add", &[("name", "z1")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "name").unwrap(),
        "Zone with this name already exists."
    );
    assert_eq!(
        post(
            &r,
            &admin,
            "/zone/z1/edit",
            &[("name", "z2"), ("description", "moved")]
        )
        .await
        .0,
        303
    );
    let (_, z) = r.admin.get("zones/z2/", &[]).await;
    assert_eq!(z["description"], "moved");
    assert_eq!(
        post(&r, &admin, "/zone/default/delete", &[("confirmed", "1")])
            .await
            .0,
        400
    );
    assert_eq!(
        post(&r, &alice, "/zone/z2/delete", &[("confirmed", "1")])
            .await
            .0,
        403
    );
    assert_eq!(post(&r, &admin, "/zone/z2/delete", &[]).await.0, 200);
    assert_eq!(
        r.admin.get("zones/z2/", &[]).await.0,
        200,
        "not before confirming"
    );
    assert_eq!(
        post(&r, &admin, "/zone/z2/delete", &[("confirmed", "1")])
            .await
            .0,
        303
    );
    assert_eq!(r.admin.get("zones/z2/", &[]).await.0, 404);
    // Pools by id.
    assert_eq!(
        post(&r, &admin, "/pools/add", &[("name", "p1")]).await.0,
        303
    );
    let (_, pools) = r.admin.get("resourcepools/", &[]).await;
    let id = pools
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "p1")
        .unwrap()["id"]
        .to_string();
    assert_eq!(get(&r, &admin.0, &format!("/pool/{id}")).await.0, 200);
    assert_eq!(get(&r, &alice.0, &format!("/pool/{id}")).await.0, 403);
    assert_eq!(
        post(
            &r,
            &admin,
            &format!("/pool/{id}/delete"),
            &[("confirmed", "1")]
        )
        .await
        .0,
        303
    );

    // Devices: the API's checks beside the fields.
    let (st, page, _) = post(
        &r,
        &alice,
        "/devices/add",
        &[("hostname", "phone"), ("mac_addresses", "nope")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "mac_addresses").unwrap(),
        "'nope' is not a valid MAC address."
    );
    let (st, page, _) = post(
        &r,
        &alice,
        "/devices/add",
        &[
            ("hostname", "phone"),
            ("mac_addresses", "52:54:00:12:34:56"),
            ("parent", "zzzzzz"),
        ],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "parent")
            .unwrap()
            .contains("Select a valid choice")
    );
    let (st, _, to) = post(
        &r,
        &alice,
        "/devices/add",
        &[
            ("hostname", "phone"),
            ("mac_addresses", "52:54:00:12:34:56"),
            ("zone", "default"),
        ],
    )
    .await;
    assert_eq!(st, 303);
    let sid = to.strip_prefix("/MAAS/r/device/").expect(&to).to_string();
    let (st, page) = get(&r, &alice.0, "/devices").await;
    assert_eq!(st, 200);
    assert!(page.contains("phone") && page.contains("52:54:00:12:34:56"));
    let (st, page) = get(&r, &alice.0, &format!("/device/{sid}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete device"));
    // The MAC is taken now.
    let (st, page, _) = post(
        &r,
        &admin,
        "/devices/add",
        &[("mac_addresses", "52:54:00:12:34:56")],
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        field_error(&page, "mac_addresses")
            .unwrap()
            .contains("already in use")
    );
    // Another user may not delete it; its owner confirms, then it goes.
    let carol = r.user("carol", false).await;
    drop(carol);
    let carol = sign_in(&r, "carol").await;
    let del = format!("/device/{sid}/delete");
    assert_eq!(post(&r, &carol, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(post(&r, &alice, &del, &[]).await.0, 200);
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 303);
    assert_eq!(get(&r, &alice.0, &format!("/device/{sid}")).await.0, 404);
}

#[tokio::test]
async fn controllers_and_images() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let admin = sign_in(&r, "admin").await;
    // The region lists itself; its page opens.
    let (st, page) = get(&r, &alice.0, "/controllers").await;
    assert_eq!(st, 200);
    assert!(
        page.contains("Region controllers")
            && page.contains("No rack controller has enrolled yet.")
    );
    let region_sid = page
        .split("href=\"/MAAS/r/controller/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a region link")
        .to_string();
    assert_eq!(
        get(&r, &alice.0, &format!("/controller/{region_sid}"))
            .await
            .0,
        200
    );
    assert_eq!(get(&r, &alice.0, "/controller/nosuch").await.0, 404);
    assert_eq!(
        post(
            &r,
            &alice,
            "/controller/nosuch/delete",
            &[("confirmed", "1")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        post(
            &r,
            &admin,
            "/controller/nosuch/delete",
            &[("confirmed", "1")]
        )
        .await
        .0,
        404
    );

    // Images: an upload (multipart, admins), with the API's checks.
    let upload = |s: &(String, String, String), name: &str, csrf: bool| {
        let mut form = reqwest::multipart::Form::new();
        if csrf {
            form = form.text("csrf", s.1.clone());
        }
        let form = form
            .text("name", name.to_string())
            .text("architecture", "amd64/generic")
            .text("filetype", "ddraw")
            .part(
                "content",
                reqwest::multipart::Part::bytes(b"a disk image".to_vec()).file_name("disk.img"),
            );
        client()
            .post(format!("{}/images/upload", ui(&r)))
            .header(COOKIE, &s.0)
            .multipart(form)
            .send()
    };
    assert_eq!(
        upload(&alice, "custom/img", true).await.unwrap().status(),
        403
    );
    assert_eq!(
        upload(&admin, "custom/img", false).await.unwrap().status(),
        403
    );
    let resp = upload(&admin, "bad name/x/y", true).await.unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.text().await.unwrap();
    assert_eq!(
        field_error(&page, "name").unwrap(),
        "'bad name/x/y' is not a valid boot resource name."
    );
    assert_eq!(r.count("SELECT count(*) FROM boot_resources").await, 0);
    let resp = upload(&admin, "custom/img", true).await.unwrap();
    assert_eq!(resp.status(), 303);
    let (_, res) = r.admin.get("boot-resources/", &[]).await;
    let img = res
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "custom/img")
        .expect("uploaded");
    let id = img["id"].to_string();
    let (_, full) = r.admin.get(&format!("boot-resources/{id}/"), &[]).await;
    let set = full["sets"].as_object().unwrap().values().next().unwrap();
    assert_eq!(set["complete"], true);
    assert_eq!(set["size"], 12);
    let (st, page) = get(&r, &alice.0, "/images").await;
    assert_eq!(st, 200);
    assert!(page.contains("custom/img") && page.contains("complete"));
    assert!(
        !page.contains("Upload image") && !page.contains("Rack image sync"),
        "admins only"
    );
    let (_, page) = get(&r, &admin.0, "/images").await;
    assert!(page.contains("Upload image") && page.contains("enctype=\"multipart/form-data\""));
    // Delete: admins, confirmed.
    let del = format!("/image/{id}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    let (st, page, _) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("custom/img"));
    assert_eq!(post(&r, &admin, &del, &[("confirmed", "1")]).await.0, 303);
    assert_eq!(
        r.admin.get(&format!("boot-resources/{id}/"), &[]).await.0,
        404
    );
}
