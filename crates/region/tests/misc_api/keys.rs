//! SSL keys, SSH key import, license keys and describe/.

use maas_testkit as common;

use common::TestRegion;
use serde_json::Value;

const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUQ2xZx1yXbT4mE0v0mS3b5P0vWm8wCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEdGVzdDAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAwMDBa
-----END CERTIFICATE-----";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_describe() {
    let r = TestRegion::start().await;
    let joe = r.user("joe", false).await;
    let ann = r.user("ann", false).await;

    // SSL keys.
    let (st, e) = joe
        .post("account/prefs/sslkeys/", &[("key", "not a cert")])
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["key"].is_array());
    let (st, k) = joe.post("account/prefs/sslkeys/", &[("key", CERT)]).await;
    assert_eq!(st, 201, "{k}");
    assert_eq!(k["key"], CERT);
    let (st, _) = joe.post("account/prefs/sslkeys/", &[("key", CERT)]).await;
    assert_eq!(st, 400);
    let kid = k["id"].as_i64().unwrap();
    let (_, list) = joe.get("account/prefs/sslkeys/", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = ann.get("account/prefs/sslkeys/", &[]).await;
    assert_eq!(list, serde_json::json!([]));
    let (st, _) = ann.get(&format!("account/prefs/sslkeys/{kid}/"), &[]).await;
    assert_eq!(st, 403);
    let (st, _) = ann.delete(&format!("account/prefs/sslkeys/{kid}/")).await;
    assert_eq!(st, 403);
    let (st, one) = joe.get(&format!("account/prefs/sslkeys/{kid}/"), &[]).await;
    assert_eq!((st, one["id"].as_i64()), (200, Some(kid)));
    let (st, _) = joe.delete(&format!("account/prefs/sslkeys/{kid}/")).await;
    assert_eq!(st, 204);
    let (st, _) = joe.get(&format!("account/prefs/sslkeys/{kid}/"), &[]).await;
    assert_eq!(st, 404);

    // SSH key import: no internet here, MAAS's error, nothing written.
    let (st, e) = joe
        .op(
            "account/prefs/sshkeys/",
            "import",
            &[("keysource", "lp:someone")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(
        e.as_str()
            .unwrap()
            .starts_with("Unable to import SSH keys."),
        "{e}"
    );
    let (st, e) = joe.op("account/prefs/sshkeys/", "import", &[]).await;
    assert_eq!(st, 400, "{e}");
    let (st, _) = joe
        .op("account/prefs/sshkeys/", "import", &[("keysource", "xx:y")])
        .await;
    assert_eq!(st, 400);
    assert_eq!(r.count("SELECT count(*) FROM sshkeys").await, 0);

    // License keys (admin).
    let lk = [
        ("osystem", "windows"),
        ("distro_series", "win2022"),
        ("license_key", "AAAA-BBBB"),
    ];
    let (st, _) = joe.post("license-keys/", &lk).await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .post("license-keys/", &[("osystem", "windows")])
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, k) = r.admin.post("license-keys/", &lk).await;
    assert_eq!(st, 200, "{k}");
    assert_eq!(
        k["resource_uri"],
        "/MAAS/api/2.0/license-key/windows/win2022"
    );
    let (st, _) = r.admin.post("license-keys/", &lk).await;
    assert_eq!(st, 400);
    let (st, u) = r
        .admin
        .put("license-key/windows/win2022/", &[("license_key", "CCCC")])
        .await;
    assert_eq!((st, u["license_key"].clone()), (200, Value::from("CCCC")));
    let (_, list) = r.admin.get("license-keys/", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, _) = r.admin.delete("license-key/windows/win2022/").await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get("license-key/windows/win2022/", &[]).await;
    assert_eq!(st, 404);

    // describe/ names every handler of the area.
    let (_, d) = joe.get("describe/", &[]).await;
    let names: Vec<String> = d["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect();
    for h in [
        "BootResourcesHandler",
        "BootResourceHandler",
        "BootSourcesHandler",
        "BootSourceHandler",
        "BootSourceSelectionsHandler",
        "BootSourceSelectionHandler",
        "AnonFilesHandler",
        "FilesHandler",
        "FileHandler",
        "NotificationsHandler",
        "NotificationHandler",
        "PackageRepositoriesHandler",
        "PackageRepositoryHandler",
        "SSLKeysHandler",
        "SSLKeyHandler",
        "LicenseKeysHandler",
        "LicenseKeyHandler",
        "NodeScriptsHandler",
        "NodeScriptResultsHandler",
    ] {
        assert!(names.iter().any(|n| n == h), "{h} missing from describe/");
    }
}
