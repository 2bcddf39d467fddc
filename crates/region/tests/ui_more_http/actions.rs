//! The machine action menu's options as the API takes them: allocate,
//! rescue mode in and out, override failed testing, release's erase
//! choices, power off's stop mode, and a comment kept in the events.

use super::*;
use common::node_api;

/// Run `action` on `sid` from the list's menu (confirmed), with options.
async fn act(
    r: &TestRegion,
    s: &(String, String, String),
    action: &str,
    sid: &str,
    opts: &[(&str, &str)],
) -> String {
    let mut f = vec![("action", action), ("sid", sid), ("confirmed", "1")];
    f.extend_from_slice(opts);
    let (st, body, _) = post(r, s, "/machines/action", &f).await;
    assert_eq!(st, 200, "{body}");
    body
}

/// What the boot task tells the machine's agent to do.
async fn task(r: &TestRegion, sid: &str) -> serde_json::Value {
    let (st, t) = node_api(r, sid)
        .await
        .get("/MAAS/metadata/latest/maas-task", &[])
        .await;
    assert_eq!(st, 200, "{t}");
    t
}

#[tokio::test]
async fn every_lifecycle_action_and_its_options_as_the_api_takes_them() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    // The confirm page offers what the API takes.
    let (_, page, _) = post(
        &r,
        &admin,
        "/machines/action",
        &[("action", "deploy"), ("sid", "x")],
    )
    .await;
    for f in ["hwe_kernel", "ephemeral_deploy", "user_data", "comment"] {
        assert!(page.contains(&format!("name=\"{f}\"")), "{f}: {page}");
    }
    let (_, page, _) = post(
        &r,
        &admin,
        "/machines/action",
        &[("action", "power_off"), ("sid", "x")],
    )
    .await;
    assert!(page.contains("name=\"stop_mode\""), "{page}");
    let (_, page, _) = post(
        &r,
        &admin,
        "/machines/action",
        &[("action", "commission"), ("sid", "x")],
    )
    .await;
    for f in [
        "enable_ssh",
        "skip_bmc_config",
        "skip_networking",
        "skip_storage",
    ] {
        assert!(page.contains(&format!("name=\"{f}\"")), "{f}: {page}");
    }

    // Allocate, with a comment that lands in the machine's events.
    let ui_m = r.ready_machine("by-ui", 2, 2048).await;
    let api_m = r.ready_machine("by-api", 2, 2048).await;
    let body = act(
        &r,
        &admin,
        "allocate",
        &ui_m,
        &[("comment", "for the demo")],
    )
    .await;
    assert!(body.contains("Allocate: 1 done"), "{body}");
    assert_eq!(r.status_of(&ui_m).await, 10);
    let (_, m) = r.admin.get(&format!("machines/{ui_m}/"), &[]).await;
    assert_eq!(m["owner"], "admin");
    let (_, ev) = r
        .admin
        .get("events/", &[("op", "query"), ("id", &ui_m)])
        .await;
    assert!(ev.to_string().contains("for the demo"), "{ev}");

    // Rescue mode in and out, on the UI's machine and the API's alike.
    for sid in [&ui_m, &api_m] {
        r.force_status(sid, 6).await;
    }
    act(&r, &admin, "rescue_mode", &ui_m, &[]).await;
    let (st, e) = r
        .admin
        .op(&format!("machines/{api_m}/"), "rescue_mode", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    assert_eq!(r.status_of(&ui_m).await, 17, "entering rescue mode");
    assert_eq!(r.status_of(&ui_m).await, r.status_of(&api_m).await);
    for sid in [&ui_m, &api_m] {
        r.force_status(sid, 16).await;
    }
    act(&r, &admin, "exit_rescue_mode", &ui_m, &[]).await;
    let (st, e) = r
        .admin
        .op(&format!("machines/{api_m}/"), "exit_rescue_mode", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    assert_ne!(r.status_of(&ui_m).await, 16);
    assert_eq!(r.status_of(&ui_m).await, r.status_of(&api_m).await);

    // Override failed testing: out of Failed testing, where the API goes.
    for sid in [&ui_m, &api_m] {
        r.force_status(sid, 22).await;
    }
    act(&r, &admin, "override_failed_testing", &ui_m, &[]).await;
    let (st, e) = r
        .admin
        .op(
            &format!("machines/{api_m}/"),
            "override_failed_testing",
            &[],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    assert_ne!(r.status_of(&ui_m).await, 22);
    assert_eq!(r.status_of(&ui_m).await, r.status_of(&api_m).await);

    // Release with quick erase alone: erasing, quickly (not a full erase).
    r.force_status(&ui_m, 6).await;
    act(&r, &admin, "release", &ui_m, &[("quick_erase", "1")]).await;
    assert_eq!(r.status_of(&ui_m).await, 14, "disk erasing");
    let t = task(&r, &ui_m).await;
    assert_eq!(
        t["erase"],
        serde_json::json!({"quick": true, "secure": false}),
        "{t}"
    );

    // Commissioning's options reach the boot task as the API's do.
    r.force_status(&ui_m, 4).await;
    let opts = [("enable_ssh", "1"), ("skip_bmc_config", "1")];
    act(&r, &admin, "commission", &ui_m, &opts).await;
    assert_eq!(r.status_of(&ui_m).await, 1, "commissioning");
    let t = task(&r, &ui_m).await;
    assert_eq!(
        (&t["enable_ssh"], &t["skip_bmc_config"]),
        (&true.into(), &true.into()),
        "{t}"
    );
    r.force_status(&ui_m, 4).await;
    act(&r, &admin, "commission", &ui_m, &[]).await;
    assert_eq!(task(&r, &ui_m).await["enable_ssh"], false);

    // A stop mode the API refuses is refused once, with its message.
    r.force_status(&api_m, 6).await;
    let body = act(&r, &admin, "power_off", &api_m, &[("stop_mode", "gently")]).await;
    assert!(body.contains("stop_mode must be"), "{body}");
    assert_eq!(r.status_of(&api_m).await, 6);
}
