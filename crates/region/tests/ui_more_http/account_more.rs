//! The account page's SSL keys (added with the API's check, deleted after
//! confirming) and API key renames.

use super::*;

const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUQ2xZx1yXbT4mE0v0mS3b5P0vWm8wCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEdGVzdDAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAwMDBa
-----END CERTIFICATE-----";

#[tokio::test]
async fn ssl_keys_and_api_key_names() {
    let r = TestRegion::start().await;
    let alice = sign_in(&r, "alice").await;
    let (st, page, _) = post(&r, &alice, "/account/sslkeys", &[("ssl_key", "not a cert")]).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "ssl_key").unwrap(), "Invalid SSL key.");
    let (st, _, to) = post(&r, &alice, "/account/sslkeys", &[("ssl_key", CERT)]).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/account"));
    let (_, keys) = r.alice.get("account/prefs/sslkeys/", &[]).await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    let id = keys[0]["id"].to_string();
    let (_, page) = get(&r, &alice.0, "/account").await;
    assert!(
        page.contains(&format!("/MAAS/r/account/sslkey/{id}/delete")),
        "{page}"
    );
    let (st, page, _) = post(&r, &alice, "/account/sslkeys", &[("ssl_key", CERT)]).await;
    assert_eq!(st, 400);
    assert!(page.contains("already been added"), "{page}");
    // Another user cannot delete it.
    let bob = {
        r.user("bob", false).await;
        sign_in(&r, "bob").await
    };
    let del = format!("/account/sslkey/{id}/delete");
    assert_eq!(post(&r, &bob, &del, &[("confirmed", "1")]).await.0, 403);
    let (st, page, _) = post(&r, &alice, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete SSL key"), "{page}");
    let (st, _, _) = post(&r, &alice, &del, &[("confirmed", "1")]).await;
    assert_eq!(st, 303);
    let (_, keys) = r.alice.get("account/prefs/sslkeys/", &[]).await;
    assert_eq!(keys, serde_json::json!([]));

    // Renaming an API key.
    let (_, page) = get(&r, &alice.0, "/account").await;
    assert!(page.contains("id=\"rename-token\""), "{page}");
    let (_, tokens) = r
        .alice
        .get_op("account/", "list_authorisation_tokens", &[])
        .await;
    // consumer key : token key : secret
    let tk = tokens[0]["token"]
        .as_str()
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .to_string();
    let (st, page, _) = post(&r, &alice, "/account/token/rename", &[("token_key", &tk)]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "rename_name").unwrap(),
        "This field is required."
    );
    let form = [("token_key", tk.as_str()), ("name", "laptop")];
    let (st, _, _) = post(&r, &alice, "/account/token/rename", &form).await;
    assert_eq!(st, 303);
    let (_, tokens) = r
        .alice
        .get_op("account/", "list_authorisation_tokens", &[])
        .await;
    assert_eq!(tokens[0]["name"], "laptop", "{tokens}");
}
