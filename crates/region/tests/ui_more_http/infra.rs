//! Controllers and images: the lists, a rack's admin-only delete, image
//! upload (multipart, the API's checks) and delete.

use super::*;

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
