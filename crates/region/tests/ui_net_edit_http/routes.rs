//! Static routes from the subnet page: added, refused with the API's
//! messages, edited on their own page, deleted after a confirm step.

use crate::common::TestRegion;
use crate::*;

#[tokio::test]
async fn static_routes_are_added_edited_and_deleted() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let (_, a) = r.admin.post("subnets/", &[("cidr", "10.53.0.0/24")]).await;
    let (_, b) = r.admin.post("subnets/", &[("cidr", "10.54.0.0/24")]).await;
    let (src, dst) = (a["id"].to_string(), b["id"].to_string());
    let path = format!("/subnet/{src}");
    let (_, page) = get(&r, &admin, &path).await;
    assert!(page.contains("id=\"add-route\""), "{page}");
    assert!(page.contains("No static routes from this subnet."));

    // A gateway outside the source subnet: the API's message, nothing made.
    let add = format!("{path}/routes");
    let bad = [("destination", dst.as_str()), ("gateway_ip", "10.54.0.1")];
    let (st, _, page) = post(&r, &admin, &add, &bad).await;
    assert_eq!(st, 400);
    let (_, e) = r
        .admin
        .post(
            "static-routes/",
            &[
                ("source", &src),
                ("destination", &dst),
                ("gateway_ip", "10.54.0.1"),
            ],
        )
        .await;
    assert_eq!(
        field_error(&page, "route-gateway_ip"),
        api_msg(&e, "gateway_ip")
    );
    let (st, _, page) = post(&r, &admin, &add, &[("destination", &dst), ("metric", "x")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "route-metric"),
        "'x' is not a valid integer."
    );
    assert_eq!(api(&r, "static-routes/").await, serde_json::json!([]));
    let good = [
        ("destination", dst.as_str()),
        ("gateway_ip", "10.53.0.1"),
        ("metric", "5"),
    ];
    assert_eq!(post(&r, &alice, &add, &good).await.0, 403);
    let (st, loc, page) = post(&r, &admin, &add, &good).await;
    assert_eq!((st, loc), (303, format!("/MAAS/r{path}#routes")), "{page}");
    let routes = api(&r, "static-routes/").await;
    let route = &routes[0];
    assert_eq!(route["destination"]["cidr"], "10.54.0.0/24");
    assert_eq!(route["metric"], 5);
    let id = route["id"].to_string();
    let (_, page) = get(&r, &admin, &path).await;
    assert!(page.contains(&format!("id=\"route-{id}\"")), "{page}");

    // The same route again is refused (the API's uniqueness message).
    let (st, _, page) = post(&r, &admin, &add, &good).await;
    assert_eq!(st, 400);
    assert!(page.contains("already exists"), "{page}");

    // Edited on its own page.
    let edit = format!("/staticroute/{id}/edit");
    let (st, page) = get(&r, &admin, &format!("/staticroute/{id}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("value=\"10.53.0.1\""), "{page}");
    let (st, _, _) = post(
        &r,
        &admin,
        &edit,
        &[("gateway_ip", "10.53.0.254"), ("metric", "10")],
    )
    .await;
    assert_eq!(st, 303);
    let route = api(&r, &format!("static-routes/{id}/")).await;
    assert_eq!(
        (route["gateway_ip"].as_str(), route["metric"].as_i64()),
        (Some("10.53.0.254"), Some(10))
    );

    // Deleted after the confirm step.
    let del = format!("/staticroute/{id}/delete");
    let (st, _, page) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete static route"), "{page}");
    let (st, _, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!(st, 303);
    assert_eq!(api(&r, "static-routes/").await, serde_json::json!([]));
}
