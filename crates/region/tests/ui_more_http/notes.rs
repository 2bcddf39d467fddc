//! Notifications: everyone sees and dismisses theirs; admins create, edit
//! and delete them with the API's checks.

use super::*;

#[tokio::test]
async fn notifications_are_shown_dismissed_and_managed_by_admins() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let alice = sign_in(&r, "alice").await;
    let add = "/notifications/add";
    let good = [
        ("message", "Rack 2 lost its uplink"),
        ("category", "warning"),
        ("users", "1"),
        ("dismissable", "1"),
    ];
    assert_eq!(post(&r, &alice, add, &good).await.0, 403);
    // Refusals with the API's messages.
    let (st, page, _) = post(&r, &admin, add, &[("message", ""), ("context", "[1]")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "message").unwrap(),
        "This field is required."
    );
    assert_eq!(
        field_error(&page, "context").unwrap(),
        "Context is not a mapping."
    );
    let (st, _, to) = post(&r, &admin, add, &good).await;
    assert_eq!((st, to.as_str()), (303, "/MAAS/r/notifications"));
    // For users (not admins, as MAAS addresses them): Alice's list has it.
    let (_, all) = r.alice.get("notifications/", &[]).await;
    let n = all
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["message"] == "Rack 2 lost its uplink")
        .expect("created")
        .clone();
    assert_eq!(
        (n["category"].as_str(), n["users"].as_bool()),
        (Some("warning"), Some(true))
    );
    let id = n["id"].to_string();

    // A user sees it and dismisses it; then it is gone for her.
    let (_, page) = get(&r, &alice.0, "/notifications").await;
    assert!(page.contains("Rack 2 lost its uplink"), "{page}");
    let (st, _, _) = post(&r, &alice, &format!("/notification/{id}/dismiss"), &[]).await;
    assert_eq!(st, 303);
    let (_, page) = get(&r, &alice.0, "/notifications").await;
    assert!(!page.contains("Rack 2 lost its uplink"), "{page}");
    let (_, mine) = r.alice.get("notifications/", &[]).await;
    assert!(!mine.to_string().contains("Rack 2"), "{mine}");

    // Admins manage every notification, whoever it is for.
    let (_, page) = get(&r, &admin.0, "/notifications").await;
    assert!(
        page.contains(&format!("/MAAS/r/notification/{id}\"")),
        "{page}"
    );
    // Admins edit it on its own page and delete it after confirming.
    assert_eq!(
        get(&r, &alice.0, &format!("/notification/{id}")).await.0,
        403
    );
    let (st, page) = get(&r, &admin.0, &format!("/notification/{id}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Rack 2 lost its uplink"), "{page}");
    let changed = [
        ("message", "Rack 2 is back"),
        ("category", "success"),
        ("admins", "1"),
    ];
    let (st, _, _) = post(&r, &admin, &format!("/notification/{id}/edit"), &changed).await;
    assert_eq!(st, 303);
    let (_, n) = r.admin.get(&format!("notifications/{id}/"), &[]).await;
    assert_eq!(n["message"], "Rack 2 is back");
    assert_eq!(
        (n["users"].as_bool(), n["admins"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(n["dismissable"], false, "an unchecked box is false");
    let del = format!("/notification/{id}/delete");
    assert_eq!(post(&r, &alice, &del, &[("confirmed", "1")]).await.0, 403);
    let (st, page, _) = post(&r, &admin, &del, &[]).await;
    assert_eq!(st, 200);
    assert!(page.contains("Delete notification"), "{page}");
    let (st, _, _) = post(&r, &admin, &del, &[("confirmed", "1")]).await;
    assert_eq!(st, 303);
    assert_eq!(
        r.admin.get(&format!("notifications/{id}/"), &[]).await.0,
        404
    );
}
