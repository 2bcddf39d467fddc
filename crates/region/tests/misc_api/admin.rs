//! Notifications and package repositories.

use maas_testkit as common;

use common::TestRegion;
use common::shape::{boolean, int, obj, string};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications() {
    let r = TestRegion::start().await;
    let joe = r.user("joe", false).await;
    let ann = r.user("ann", false).await;
    let (st, _) = joe
        .post("notifications/", &[("message", "hi"), ("users", "true")])
        .await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .post(
            "notifications/",
            &[("category", "loud"), ("context", "[1]"), ("user", "nobody")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    for f in ["message", "category", "context", "user"] {
        assert!(e[f].is_array(), "{f}: {e}");
    }
    assert_eq!(r.count("SELECT count(*) FROM notifications").await, 0);

    let (st, all) = r
        .admin
        .post(
            "notifications/",
            &[
                ("message", "Hello {name}"),
                ("context", r#"{"name": "users"}"#),
                ("users", "true"),
                ("category", "warning"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{all}");
    let o = obj(&all, "notification");
    int(o, "id", "notification");
    for k in ["message", "category", "resource_uri"] {
        string(o, k, "notification");
    }
    for k in ["users", "admins", "dismissable"] {
        boolean(o, k, "notification");
    }
    assert!(all["user"].is_null() && all["ident"].is_null(), "{all}");
    assert_eq!(all["context"]["name"], "users");
    let (st, to_ann) = r
        .admin
        .post(
            "notifications/",
            &[
                ("message", "for ann"),
                ("user", "ann"),
                ("dismissable", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{to_ann}");
    assert_eq!(to_ann["user"]["username"], "ann");
    let (_, admins) = r
        .admin
        .post(
            "notifications/",
            &[("message", "admins only"), ("admins", "true")],
        )
        .await;

    let (_, jl) = joe.get("notifications/", &[]).await;
    assert_eq!(jl.as_array().unwrap().len(), 1, "{jl}");
    let (_, al) = ann.get("notifications/", &[]).await;
    assert_eq!(al.as_array().unwrap().len(), 2, "{al}");
    let (_, adl) = r.admin.get("notifications/", &[]).await;
    assert_eq!(adl.as_array().unwrap().len(), 1, "{adl}");

    let aid = admins["id"].as_i64().unwrap();
    let (st, _) = joe.get(&format!("notifications/{aid}/"), &[]).await;
    assert_eq!(st, 403);
    let (st, _) = joe.get("notifications/9999/", &[]).await;
    assert_eq!(st, 404);

    let id = all["id"].as_i64().unwrap();
    let (st, _) = joe
        .op(&format!("notifications/{id}/"), "dismiss", &[])
        .await;
    assert_eq!(st, 204);
    let (_, jl) = joe.get("notifications/", &[]).await;
    assert_eq!(jl, serde_json::json!([]));
    let annid = to_ann["id"].as_i64().unwrap();
    let (st, _) = ann
        .op(&format!("notifications/{annid}/"), "dismiss", &[])
        .await;
    assert_eq!(st, 400);
    let (st, _) = joe
        .op(&format!("notifications/{annid}/"), "dismiss", &[])
        .await;
    assert_eq!(st, 403);

    let (st, _) = joe
        .put(&format!("notifications/{id}/"), &[("message", "x")])
        .await;
    assert_eq!(st, 403);
    let (st, up) = r
        .admin
        .put(
            &format!("notifications/{id}/"),
            &[("message", "Changed"), ("category", "error")],
        )
        .await;
    assert_eq!(st, 200, "{up}");
    assert_eq!(
        (up["message"].as_str(), up["category"].as_str()),
        (Some("Changed"), Some("error"))
    );
    let (st, _) = r.admin.delete(&format!("notifications/{id}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get(&format!("notifications/{id}/"), &[]).await;
    assert_eq!(st, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_repositories() {
    let r = TestRegion::start().await;
    let joe = r.user("joe", false).await;
    let (st, list) = joe.get("package-repositories/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "main_archive");
    assert_eq!(list[0]["url"], "http://archive.ubuntu.com/ubuntu");
    assert_eq!(list[1]["name"], "ports_archive");
    assert_eq!(list[1]["url"], "http://ports.ubuntu.com/ubuntu-ports");
    for repo in list {
        let o = obj(repo, "repository");
        int(o, "id", "repository");
        for k in ["name", "url", "key", "resource_uri"] {
            string(o, k, "repository");
        }
        for k in [
            "distributions",
            "disabled_pockets",
            "disabled_components",
            "components",
            "arches",
        ] {
            assert!(o[k].is_array(), "{k}: {repo}");
        }
        boolean(o, "enabled", "repository");
        boolean(o, "disable_sources", "repository");
    }
    let main_id = list[0]["id"].as_i64().unwrap();

    let new = [
        ("name", "ppa"),
        ("url", "http://ppa.example.com/ubuntu"),
        ("distributions", "jammy,noble"),
        ("components", "main"),
    ];
    let (st, _) = joe.post("package-repositories/", &new).await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .post(
            "package-repositories/",
            &[
                ("name", "main_archive"),
                ("url", "nope"),
                ("arches", "sparc"),
                ("enabled", "maybe"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, e) = r
        .admin
        .post(
            "package-repositories/",
            &[
                ("name", "main_archive"),
                ("url", "nope"),
                ("arches", "sparc"),
            ],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    for f in ["name", "url", "arches"] {
        assert!(e[f].is_array(), "{f}: {e}");
    }
    assert_eq!(
        r.count("SELECT count(*) FROM package_repositories").await,
        2
    );

    let (st, c) = r.admin.post("package-repositories/", &new).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["distributions"], serde_json::json!(["jammy", "noble"]));
    assert_eq!(c["arches"], serde_json::json!(["amd64", "i386"]));
    assert_eq!(c["enabled"], true);
    let id = c["id"].as_i64().unwrap();
    let (st, u) = r
        .admin
        .put(
            &format!("package-repositories/{id}/"),
            &[("enabled", "false"), ("key", "K")],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    assert_eq!(
        (u["enabled"].clone(), u["key"].clone()),
        (Value::Bool(false), Value::from("K"))
    );
    assert_eq!(u["name"], "ppa");

    let (st, e) = r
        .admin
        .put(
            &format!("package-repositories/{main_id}/"),
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(st, 400, "{e}");
    let (st, _) = r
        .admin
        .put(
            &format!("package-repositories/{main_id}/"),
            &[
                ("disabled_pockets", "backports"),
                ("disabled_components", "universe"),
            ],
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = r
        .admin
        .delete(&format!("package-repositories/{main_id}/"))
        .await;
    assert_eq!(st, 400);
    let (st, _) = joe.delete(&format!("package-repositories/{id}/")).await;
    assert_eq!(st, 403);
    let (st, _) = r.admin.delete(&format!("package-repositories/{id}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r
        .admin
        .get(&format!("package-repositories/{id}/"), &[])
        .await;
    assert_eq!(st, 404);
}
