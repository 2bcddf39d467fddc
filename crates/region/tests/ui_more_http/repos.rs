//! Package repositories and license keys (admins): added, refused with the
//! services' messages, edited, deleted after confirming.

use super::*;

#[tokio::test]
async fn repositories_and_license_keys() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    assert_eq!(get(&r, &alice.0, "/repositories").await.0, 403);
    assert_eq!(
        post(
            &r,
            &alice,
            "/repositories/add",
            &[("name", "x"), ("url", "http://x/")]
        )
        .await
        .0,
        403
    );
    let (st, page) = get(&r, &admin.0, "/repositories").await;
    assert_eq!(st, 200);
    let (_, seeded) = r.admin.get("package-repositories/", &[]).await;
    let main = seeded[0]["name"].as_str().unwrap().to_string();
    assert!(page.contains(&main), "{page}");
    assert!(
        !page.contains(&format!("Delete repository {main}")),
        "seeded ones stay"
    );

    // A bad URL: the service's message, as the API gives it.
    let bad = [("name", "internal"), ("url", "nope")];
    let (st, page, _) = post(&r, &admin, "/repositories/add", &bad).await;
    assert_eq!(st, 400);
    let (_, e) = r.admin.post("package-repositories/", &bad).await;
    assert_eq!(field_error(&page, "url").as_deref(), e["url"][0].as_str());
    let good = [
        ("name", "internal"),
        ("url", "http://mirror.lab/debian"),
        ("distributions", "bookworm"),
        ("components", "main, contrib"),
        ("enabled", "1"),
    ];
    let (st, _, to) = post(&r, &admin, "/repositories/add", &good).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/repositories"));
    let (_, all) = r.admin.get("package-repositories/", &[]).await;
    let repo = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "internal")
        .expect("created")
        .clone();
    assert_eq!(repo["components"], serde_json::json!(["main", "contrib"]));
    assert_eq!(repo["enabled"], true);
    let id = repo["id"].to_string();
    let mut moved = good.to_vec();
    moved[1] = ("url", "https://mirror2.lab/debian");
    let (st, _, _) = post(&r, &admin, &format!("/repository/{id}/edit"), &moved).await;
    assert_eq!(st, 303);
    let (_, repo) = r
        .admin
        .get(&format!("package-repositories/{id}/"), &[])
        .await;
    assert_eq!(repo["url"], "https://mirror2.lab/debian");
    let del = format!("/repository/{id}/delete");
    let (st, page, _) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete repository"), "{page}");
    assert_eq!(post(&r, &admin, &del, &[("confirmed", "1")]).await.0, 303);
    assert_eq!(
        r.admin
            .get(&format!("package-repositories/{id}/"), &[])
            .await
            .0,
        404
    );

    // License keys: added, changed by adding again, deleted.
    let lic = "/repositories/licenses";
    let (st, page, _) = post(
        &r,
        &admin,
        lic,
        &[("osystem", "windows"), ("distro_series", "win2022")],
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "lic_key").unwrap(),
        "This field is required."
    );
    let add = |key: &'static str| {
        [
            ("osystem", "windows"),
            ("distro_series", "win2022"),
            ("license_key", key),
        ]
    };
    assert_eq!(post(&r, &admin, lic, &add("AAAA-1")).await.0, 303);
    assert_eq!(post(&r, &admin, lic, &add("BBBB-2")).await.0, 303);
    let (_, keys) = r.admin.get("license-keys/", &[]).await;
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys[0]["license_key"], "BBBB-2");
    let del = "/repositories/license/delete";
    let which = [("osystem", "windows"), ("distro_series", "win2022")];
    let (st, page, _) = post(&r, &admin, del, &which).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete license key"), "{page}");
    let mut sure = which.to_vec();
    sure.push(("confirmed", "1"));
    assert_eq!(post(&r, &admin, del, &sure).await.0, 303);
    let (_, keys) = r.admin.get("license-keys/", &[]).await;
    assert_eq!(keys, serde_json::json!([]));
}
