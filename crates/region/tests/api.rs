//! The rest of the API surface against a real PostgreSQL: version, describe,
//! users, account keys, SSH keys, zones, pools, tags, events, config (machines:
//! `machines_api.rs`).

use maas_testkit as common;

use common::{Api, TestRegion};
use serde_json::Value;

#[tokio::test]
async fn version_and_describe_cover_every_route() {
    let r = TestRegion::start().await;
    let (st, v) = r.anon.get("version/", &[]).await;
    assert_eq!(st, 200);
    assert!(
        v["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "authenticate-api")
    );
    let resp = reqwest::get(r.anon.url("describe/")).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let d: Value = resp.json().await.unwrap();
    let resources = d["resources"].as_array().unwrap();
    assert!(resources.len() >= 15);
    for res in resources {
        assert!(
            res.get("anon").is_some() && res.get("auth").is_some(),
            "{res}"
        );
        for h in [&res["anon"], &res["auth"]] {
            if h.is_null() {
                continue;
            }
            let uri = h["uri"].as_str().unwrap();
            assert!(
                uri.starts_with(&format!("http://{}", r.running.as_ref().unwrap().addr)),
                "{uri}"
            );
            // Fill params with placeholders; every handler path must be routed
            // (a 404 from routing says "Unknown API endpoint").
            let mut path = h["path"].as_str().unwrap().to_string();
            for p in h["params"].as_array().unwrap() {
                path = path.replace(&format!("{{{}}}", p.as_str().unwrap()), "zzzzzz");
            }
            let (_, body) = r.admin.get(&path, &[]).await;
            assert!(
                !body.to_string().contains("Unknown API endpoint"),
                "{path} not routed"
            );
            for a in h["actions"].as_array().unwrap() {
                assert_eq!(a["restful"].as_bool().unwrap(), a["op"].is_null());
            }
        }
    }
}

#[tokio::test]
async fn oauth_is_checked() {
    let r = TestRegion::start().await;
    let url = r.admin.url("users/?op=whoami");
    let key = r.admin.key.clone().unwrap();
    let parts: Vec<&str> = key.split(':').collect();
    let http = maas_testkit::http_client();
    let send = |h: Option<String>| {
        let mut rb = http.get(&url);
        if let Some(h) = h {
            rb = rb.header("Authorization", h);
        }
        async move { rb.send().await.unwrap() }
    };
    // Quoted, percent-encoded (libmaas) and bare (curl) forms both work.
    let ok = send(r.admin.auth_header()).await;
    assert_eq!(ok.status(), 200);
    let bare = format!(
        "OAuth oauth_consumer_key={},oauth_token={},oauth_signature=&{},oauth_signature_method=PLAINTEXT,oauth_timestamp=1,oauth_nonce=x,oauth_version=1.0",
        parts[0], parts[1], parts[2]
    );
    assert_eq!(send(Some(bare.clone())).await.status(), 200);
    let (_, me) = r.admin.get_op("users/", "whoami", &[]).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["is_superuser"], true);
    for bad in [
        "Basic YWRtaW46cHc=".to_string(),
        "OAuth".to_string(),
        "OAuth oauth_token=\"unterminated".to_string(),
        bare.replace(&format!("&{}", parts[2]), "&wrong"),
        bare.replace(parts[0], "otherconsumer"),
        bare.replace(parts[1], "nosuchtoken"),
        bare.replace("PLAINTEXT", "HMAC-SHA1"),
        bare.replace("oauth_nonce=x,", ""),
        bare.replace("oauth_timestamp=1", "oauth_timestamp=soon"),
    ] {
        let resp = send(Some(bad.clone())).await;
        assert_eq!(resp.status(), 401, "{bad}");
        assert!(resp.headers().contains_key("date"));
        assert!(!resp.text().await.unwrap().is_empty());
    }
    assert_eq!(send(None).await.status(), 401);
    // A deleted key stops working at once.
    let (_, t) = r
        .admin
        .op("account/", "create_authorisation_token", &[("name", "tmp")])
        .await;
    let k2 = format!(
        "{}:{}:{}",
        t["consumer_key"].as_str().unwrap(),
        t["token_key"].as_str().unwrap(),
        t["token_secret"].as_str().unwrap()
    );
    let api2 = Api::new(&r.url(), Some(k2.clone()));
    assert_eq!(api2.get_op("users/", "whoami", &[]).await.0, 200);
    let (_, list) = r
        .admin
        .get_op("account/", "list_authorisation_tokens", &[])
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["token"] == k2.as_str() && t["name"] == "tmp")
    );
    // Renamed by its whole key, as the CLI passes it.
    assert_eq!(
        r.admin
            .op(
                "account/",
                "update_token_name",
                &[("token", k2.as_str()), ("name", "renamed")]
            )
            .await
            .0,
        204
    );
    let (_, list) = r
        .admin
        .get_op("account/", "list_authorisation_tokens", &[])
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["token"] == k2.as_str() && t["name"] == "renamed")
    );
    assert_eq!(
        r.admin
            .op(
                "account/",
                "delete_authorisation_token",
                &[("token_key", t["token_key"].as_str().unwrap())]
            )
            .await
            .0,
        204
    );
    assert_eq!(api2.get_op("users/", "whoami", &[]).await.0, 401);
    assert_eq!(
        r.admin
            .op(
                "account/",
                "delete_authorisation_token",
                &[("token_key", "nope")]
            )
            .await
            .0,
        404
    );
    // Password login (python-libmaas login()).
    let resp = http
        .post(r.anon.url("/MAAS/accounts/authenticate/"))
        .form(&[("username", "alice"), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let creds: Value = resp.json().await.unwrap();
    assert!(creds["token_secret"].as_str().unwrap().len() >= 30);
    let resp = http
        .post(r.anon.url("/MAAS/accounts/authenticate/"))
        .form(&[("username", "alice"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn users_and_ssh_keys() {
    let r = TestRegion::start().await;
    let (st, u) = r
        .admin
        .post(
            "users/",
            &[
                ("username", "carol"),
                ("email", "c@example.com"),
                ("password", "x"),
                ("is_superuser", "0"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(u["is_superuser"], false);
    let (st, e) = r
        .admin
        .post(
            "users/",
            &[
                ("username", "carol"),
                ("email", "c@example.com"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["username"].is_array());
    let (st, e) = r
        .admin
        .post(
            "users/",
            &[
                ("username", "bad name!"),
                ("email", "c@example.com"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r.admin.post("users/", &[("username", "dave")]).await;
    assert_eq!(st, 400);
    assert!(e["email"].is_array() && e["password"].is_array());
    let (_, list) = r.alice.get("users/", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(
        r.admin.get("users/carol/", &[]).await.1["email"],
        "c@example.com"
    );
    assert_eq!(r.admin.get("users/nobody/", &[]).await.0, 404);
    assert_eq!(r.admin.delete("users/carol/").await.0, 204);
    assert_eq!(r.admin.delete("users/admin/").await.0, 400);
    assert_eq!(r.admin.get("users/carol/", &[]).await.0, 404);
    // SSH keys: validated, per user.
    let key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbR0G7v1y7l2uK0dC0yqyI1T4gWqI2m7a1Tt4bI5yTQ me@host";
    let (st, k) = r
        .alice
        .post("account/prefs/sshkeys/", &[("key", key)])
        .await;
    assert_eq!(st, 200, "{k}");
    let id = k["id"].as_i64().unwrap();
    assert_eq!(
        r.alice
            .post("account/prefs/sshkeys/", &[("key", key)])
            .await
            .0,
        400,
        "duplicate"
    );
    for bad in [
        "",
        "ssh-rsa",
        "ssh-rsa !!!!",
        "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBbR0G7v1y7l2uK0dC0yqyI1T4gWqI2m7a1Tt4bI5yTQ",
    ] {
        assert_eq!(
            r.alice
                .post("account/prefs/sshkeys/", &[("key", bad)])
                .await
                .0,
            400,
            "{bad}"
        );
    }
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
    assert_eq!(
        r.admin
            .get("account/prefs/sshkeys/", &[])
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        r.admin
            .get(&format!("account/prefs/sshkeys/{id}/"), &[])
            .await
            .0,
        403
    );
    assert_eq!(
        r.alice
            .delete(&format!("account/prefs/sshkeys/{id}/"))
            .await
            .0,
        204
    );
    assert_eq!(
        r.alice
            .get(&format!("account/prefs/sshkeys/{id}/"), &[])
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn zones_pools_and_tags() {
    let r = TestRegion::start().await;
    let (st, z) = r
        .admin
        .post("zones/", &[("name", "rack-a"), ("description", "first")])
        .await;
    assert_eq!((st, z["name"].as_str()), (200, Some("rack-a")));
    assert_eq!(r.admin.post("zones/", &[("name", "rack-a")]).await.0, 400);
    assert_eq!(r.admin.post("zones/", &[("name", "bad zone")]).await.0, 400);
    assert_eq!(r.admin.post("zones/", &[]).await.0, 400);
    let sid = r.ready_machine("zm", 1, 1024).await;
    r.admin
        .put(&format!("machines/{sid}/"), &[("zone", "rack-a")])
        .await;
    let (_, z) = r.admin.put("zones/rack-a/", &[("name", "rack-b")]).await;
    assert_eq!(z["name"], "rack-b");
    let (st, e) = r.admin.put("zones/rack-b/", &[("name", "default")]).await;
    assert_eq!(st, 400);
    assert_eq!(e["name"][0], "Zone with this name already exists.");
    assert_eq!(
        r.admin.get(&format!("machines/{sid}/"), &[]).await.1["zone"]["name"],
        "rack-b"
    );
    assert_eq!(r.admin.delete("zones/default/").await.0, 400);
    assert_eq!(r.admin.delete("zones/rack-b/").await.0, 204);
    assert_eq!(
        r.admin.get(&format!("machines/{sid}/"), &[]).await.1["zone"]["name"],
        "default"
    );
    assert_eq!(r.admin.get("zones/rack-b/", &[]).await.0, 404);
    // Pools.
    let (_, p) = r
        .admin
        .post("resourcepools/", &[("name", "gpu-pool")])
        .await;
    let pid = p["id"].as_i64().unwrap();
    r.admin
        .put(&format!("machines/{sid}/"), &[("pool", "gpu-pool")])
        .await;
    assert_eq!(
        r.admin.get(&format!("machines/{sid}/"), &[]).await.1["pool"]["id"],
        pid
    );
    assert_eq!(
        r.admin.delete(&format!("resourcepool/{pid}/")).await.0,
        400,
        "pool holds machines"
    );
    r.admin
        .put(&format!("machines/{sid}/"), &[("pool", "default")])
        .await;
    let (_, p) = r
        .admin
        .put(&format!("resourcepool/{pid}/"), &[("description", "GPUs")])
        .await;
    assert_eq!(p["description"], "GPUs");
    assert_eq!(r.admin.delete(&format!("resourcepool/{pid}/")).await.0, 204);
    assert_eq!(r.admin.delete("resourcepool/0/").await.0, 400);
    assert_eq!(r.admin.get("resourcepool/abc/", &[]).await.0, 404);
    assert_eq!(
        r.alice
            .get("resourcepools/", &[])
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Tags.
    assert_eq!(
        r.admin
            .post("tags/", &[("name", "fast"), ("comment", "NVMe")])
            .await
            .0,
        200
    );
    assert_eq!(r.admin.post("tags/", &[("name", "fast")]).await.0, 400);
    assert_eq!(r.admin.post("tags/", &[("name", "no spaces")]).await.0, 400);
    let (st, e) = r
        .admin
        .post("tags/", &[("name", "auto"), ("definition", "//node[")])
        .await;
    assert_eq!(st, 400);
    assert!(
        e["definition"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid xpath expression"),
        "{e}"
    );
    assert_eq!(
        r.admin.get("tags/auto/", &[]).await.0,
        404,
        "nothing written"
    );
    let (st, u) = r
        .admin
        .op("tags/fast/", "update_nodes", &[("add", &sid)])
        .await;
    assert_eq!((st, u["added"].as_i64()), (200, Some(1)));
    let (_, u) = r
        .admin
        .op("tags/fast/", "update_nodes", &[("add", &sid)])
        .await;
    assert_eq!(u["added"], 0, "idempotent");
    assert_eq!(
        r.admin
            .op("tags/fast/", "update_nodes", &[("add", "xxxxxx")])
            .await
            .0,
        400
    );
    let (_, ms) = r.admin.get_op("tags/fast/", "machines", &[]).await;
    assert_eq!(ms[0]["system_id"], sid.as_str());
    r.admin.put("tags/fast/", &[("name", "faster")]).await;
    assert_eq!(
        r.admin.get(&format!("machines/{sid}/"), &[]).await.1["tag_names"][0],
        "faster"
    );
    let (_, u) = r
        .admin
        .op("tags/faster/", "update_nodes", &[("remove", &sid)])
        .await;
    assert_eq!(u["removed"], 1);
    r.admin
        .op("tags/faster/", "update_nodes", &[("add", &sid)])
        .await;
    assert_eq!(r.admin.delete("tags/faster/").await.0, 204);
    assert_eq!(
        r.admin.get(&format!("machines/{sid}/"), &[]).await.1["tag_names"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn events_query_pages() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("ev", 1, 1024).await;
    for _ in 0..3 {
        assert_eq!(
            r.admin
                .op(&format!("machines/{sid}/"), "mark_broken", &[])
                .await
                .0,
            200
        );
        assert_eq!(
            r.admin
                .op(&format!("machines/{sid}/"), "mark_fixed", &[])
                .await
                .0,
            200
        );
    }
    let (st, all) = r
        .admin
        .get_op("events/", "query", &[("id", &sid), ("limit", "100")])
        .await;
    assert_eq!(st, 200);
    let ids: Vec<i64> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.len() >= 6);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let (_, page) = r
        .admin
        .get_op("events/", "query", &[("id", &sid), ("limit", "2")])
        .await;
    assert_eq!(page["count"], 2);
    let next = page["next_uri"].as_str().unwrap();
    assert!(next.contains(&format!("before={}", ids[1])));
    let (_, older) = r
        .admin
        .get_op(
            "events/",
            "query",
            &[
                ("id", &sid),
                ("limit", "2"),
                ("before", &ids[1].to_string()),
            ],
        )
        .await;
    assert_eq!(older["events"][0]["id"], ids[2]);
    let (_, newer) = r
        .admin
        .get_op(
            "events/",
            "query",
            &[("id", &sid), ("limit", "2"), ("after", &ids[3].to_string())],
        )
        .await;
    let got: Vec<i64> = newer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1], ids[2]]);
    assert_eq!(
        r.admin
            .get_op("events/", "query", &[("limit", "5000")])
            .await
            .0,
        400
    );
    assert_eq!(
        r.admin
            .get_op("events/", "query", &[("level", "LOUD")])
            .await
            .0,
        400
    );
    assert_eq!(
        r.admin
            .get_op("events/", "query", &[("limit", "x")])
            .await
            .0,
        400
    );
    let e = &all["events"][0];
    for f in [
        "id",
        "node",
        "hostname",
        "username",
        "level",
        "created",
        "type",
        "description",
    ] {
        assert!(e.get(f).is_some(), "{f}");
    }
}

#[tokio::test]
async fn config_get_and_set() {
    let r = TestRegion::start().await;
    assert_eq!(
        r.alice
            .get_op("maas/", "get_config", &[("name", "node_timeout")])
            .await
            .1,
        30
    );
    assert_eq!(
        r.admin
            .get_op("maas/", "get_config", &[("name", "maas_name")])
            .await
            .1,
        "maas"
    );
    assert_eq!(
        r.admin
            .op(
                "maas/",
                "set_config",
                &[("name", "maas_name"), ("value", "lab")]
            )
            .await
            .0,
        200
    );
    assert_eq!(
        r.alice
            .get_op("maas/", "get_config", &[("name", "maas_name")])
            .await
            .1,
        "lab"
    );
    for (name, value) in [
        ("node_timeout", "soon"),
        ("node_timeout", "0"),
        ("enlist_commissioning", "perhaps"),
        ("default_storage_layout", "zfs"),
        ("nonsense", "1"),
    ] {
        let (st, e) = r
            .admin
            .op("maas/", "set_config", &[("name", name), ("value", value)])
            .await;
        assert_eq!(st, 400, "{name}={value}: {e}");
    }
    assert_eq!(
        r.admin
            .get_op("maas/", "get_config", &[("name", "nonsense")])
            .await
            .0,
        400
    );
    assert_eq!(
        r.admin
            .get_op("maas/", "get_config", &[("name", "node_timeout")])
            .await
            .1,
        30
    );
}
