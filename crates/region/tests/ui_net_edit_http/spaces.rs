//! Spaces: list, create, rename, delete.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn spaces_are_listed_created_renamed_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;

    let (st, page) = get(&r, &alice, "/spaces").await;
    assert_eq!(st, 200);
    assert!(page.contains("aria-current=\"page\">Subnets"));
    assert!(!page.contains("id=\"add-space\""));
    let (_, page) = get(&r, &admin, "/spaces").await;
    assert!(page.contains("id=\"add-space\""));

    let good = [("name", "dmz"), ("description", "outside")];
    assert_eq!(post(&r, &alice, "/spaces/add", &good).await.0, 403);
    assert_eq!(post_no_csrf(&r, &admin, "/spaces/add", &good).await, 403);
    for bad in ["bad name", "undefined"] {
        let (_, e) = r.admin.post("spaces/", &[("name", bad)]).await;
        let (st, _, page) = post(&r, &admin, "/spaces/add", &[("name", bad)]).await;
        assert_eq!(st, 400);
        assert_eq!(field_error(&page, "name"), api_msg(&e, "name"), "{bad}");
        assert!(page.contains(&format!("value=\"{bad}\"")));
    }
    assert_eq!(api(&r, "spaces/").await.as_array().unwrap().len(), 0);

    let (st, loc, _) = post(&r, &admin, "/spaces/add", &good).await;
    assert_eq!((st, loc.as_str()), (303, "/MAAS/r/spaces"));
    let list = api(&r, "spaces/").await;
    let sp = &list.as_array().unwrap()[0];
    assert_eq!(
        (sp["name"].as_str(), sp["description"].as_str()),
        (Some("dmz"), Some("outside"))
    );
    let id = sp["id"].as_i64().unwrap();
    let (_, page) = get(&r, &alice, "/spaces").await;
    assert!(page.contains("<td>dmz</td>"), "{page}");
    let (_, e) = r.admin.post("spaces/", &[("name", "dmz")]).await;
    let (st, _, page) = post(&r, &admin, "/spaces/add", &[("name", "dmz")]).await;
    assert_eq!(st, 400);
    assert_eq!(field_error(&page, "name"), api_msg(&e, "name"));

    // Rename (admins only).
    let path = format!("/space/{id}");
    assert_eq!(get(&r, &alice, &path).await.0, 403);
    assert_eq!(get(&r, &admin, &path).await.0, 200);
    let edit = format!("{path}/edit");
    assert_eq!(post(&r, &alice, &edit, &[("name", "x")]).await.0, 403);
    let (st, _, page) = post(&r, &admin, &edit, &[("name", "a b")]).await;
    assert_eq!(st, 400);
    assert!(field_error(&page, "name").contains("not a valid space name"));
    let (st, _, _) = post(&r, &admin, &edit, &[("name", "edge"), ("description", "")]).await;
    assert_eq!(st, 303);
    let sp = api(&r, &format!("spaces/{id}/")).await;
    assert_eq!(
        (sp["name"].as_str(), sp["description"].as_str()),
        (Some("edge"), Some(""))
    );

    // Delete: confirm first.
    let del = format!("{path}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    assert_eq!(
        post_no_csrf(&r, &admin, &del, &[("confirmed", "1")]).await,
        403
    );
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("name=\"confirmed\""));
    assert_eq!(r.admin.get(&format!("spaces/{id}/"), &[]).await.0, 200);
    let (st, _, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!(st, 303);
    assert_eq!(r.admin.get(&format!("spaces/{id}/"), &[]).await.0, 404);
}
