//! Redfish against sushy-emulator (fake driver), and the webhook driver against a
//! tiny axum service.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use maas_bmc::{
    BootDevice, BootTarget, OffMode, PowerError, PowerOnOutcome, PowerState, driver_for_with,
};

async fn wait_state(d: &dyn maas_bmc::PowerDriver, want: PowerState) {
    // sushy's fake driver applies power changes after a random 1–11 s.
    let started = Instant::now();
    loop {
        let s = d.query().await.expect("query");
        if s == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still {s:?} after 20 s, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn sushy_emulator_power_and_boot_override() {
    let sim = sushy();
    let base = format!("http://127.0.0.1:{}", sim.port);
    let p = params(&[
        ("power_address", &base),
        ("power_user", "admin"),
        ("power_pass", "secret"),
    ]);
    let d = driver_for_with("redfish", &p, fast()).expect("driver");
    assert_eq!(d.query().await.expect("query"), PowerState::Off);
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::TurnedOn);
    wait_state(d.as_ref(), PowerState::On).await;
    assert_eq!(
        d.power_on().await.expect("on again"),
        PowerOnOutcome::AlreadyOn
    );
    d.set_boot_device(BootDevice {
        target: BootTarget::Pxe,
        persistent: false,
        efi: true,
    })
    .await
    .expect("boot");
    // Read the system back with a plain HTTP client.
    let sys: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{base}/redfish/v1/Systems/5e6c0c2a-0000-4000-8000-000000000002"
        ))
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Pxe", "{sys}");
    d.power_off(OffMode::Hard).await.expect("off");
    wait_state(d.as_ref(), PowerState::Off).await;

    // node_id picks the system; an unknown one is a parameter error.
    let mut p2 = p.clone();
    p2.insert(
        "node_id".into(),
        "5e6c0c2a-0000-4000-8000-000000000002".into(),
    );
    assert_eq!(
        driver_for_with("redfish", &p2, fast())
            .expect("d")
            .query()
            .await
            .expect("q"),
        PowerState::Off
    );
    p2.insert("node_id".into(), "nope".into());
    assert!(matches!(
        driver_for_with("redfish", &p2, fast())
            .expect("d")
            .query()
            .await,
        Err(PowerError::BadParameters(_))
    ));
    // Wrong password.
    let bad = params(&[
        ("power_address", &base),
        ("power_user", "admin"),
        ("power_pass", "wrong"),
    ]);
    assert!(matches!(
        driver_for_with("redfish", &bad, fast())
            .expect("d")
            .query()
            .await,
        Err(PowerError::AuthRefused(_))
    ));
}

/// A Redfish service that misbehaves in the ways we want to see reported.
async fn bad_redfish(mode: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    use axum::{Json, Router, http::StatusCode, routing::get};
    let app = Router::new()
        .route(
            "/redfish/v1/",
            get(move || async move {
                match mode {
                    "500" => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Json(serde_json::json!({"error": {"message": "BMC exploded"}})),
                    ),
                    "no-systems" => (StatusCode::OK, Json(serde_json::json!({"Name": "root"}))),
                    _ => (
                        StatusCode::OK,
                        Json(serde_json::json!({"Systems": {"@odata.id": "/redfish/v1/Systems"}})),
                    ),
                }
            }),
        )
        .route(
            "/redfish/v1/Systems",
            get(|| async {
                Json(serde_json::json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}))
            }),
        )
        .route(
            "/redfish/v1/Systems/1",
            get(move || async move {
                match mode {
                    "no-power" => (StatusCode::OK, "{\"Id\": \"1\"}".to_string()),
                    "garbage" => (StatusCode::OK, "<html>not json".to_string()),
                    "hang" => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        (StatusCode::OK, String::new())
                    }
                    _ => (StatusCode::OK, "{\"PowerState\": \"On\"}".to_string()),
                }
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    let h = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, h)
}

#[tokio::test]
async fn redfish_bad_services_give_clear_errors_in_time() {
    for (mode, check) in [
        (
            "500",
            (|e: &PowerError| matches!(e, PowerError::Http { status: 500, message } if message == "BMC exploded"))
                as fn(&PowerError) -> bool,
        ),
        (
            "no-systems",
            |e| matches!(e, PowerError::Protocol(m) if m.contains("Systems")),
        ),
        (
            "no-power",
            |e| matches!(e, PowerError::Protocol(m) if m.contains("PowerState")),
        ),
        (
            "garbage",
            |e| matches!(e, PowerError::Protocol(m) if m.contains("not JSON")),
        ),
        ("hang", |e| matches!(e, PowerError::Unreachable { .. })),
    ] {
        let (url, h) = bad_redfish(mode).await;
        let p = params(&[
            ("power_address", &url),
            ("power_user", "u"),
            ("power_pass", "p"),
        ]);
        let opts = maas_bmc::DriverOptions {
            call_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_millis(500),
            retries: 0,
        };
        let d = driver_for_with("redfish", &p, opts).expect("driver");
        let started = Instant::now();
        let e = d.query().await.expect_err(mode);
        assert!(check(&e), "{mode}: {e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{mode} took {:?}",
            started.elapsed()
        );
        h.abort();
    }
    // Nothing listening: Unreachable.
    let port = free_tcp_port();
    let p = params(&[("power_address", &format!("http://127.0.0.1:{port}"))]);
    let opts = maas_bmc::DriverOptions {
        call_timeout: Duration::from_secs(3),
        attempt_timeout: Duration::from_millis(300),
        retries: 1,
    };
    let e = driver_for_with("redfish", &p, opts)
        .expect("driver")
        .query()
        .await
        .expect_err("closed port");
    assert!(matches!(e, PowerError::Unreachable { .. }), "{e:?}");
}

#[tokio::test]
async fn webhook_posts_and_matches_the_query_regex() {
    use axum::{
        Router,
        extract::State,
        http::HeaderMap,
        routing::{get, post},
    };
    type S = Arc<Mutex<(String, Vec<String>)>>;
    let state: S = Arc::new(Mutex::new(("stopped".into(), Vec::new())));
    fn auth(h: &HeaderMap) -> String {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
    let app = Router::new()
        .route(
            "/on",
            post(|State(s): State<S>, h: HeaderMap| async move {
                let mut g = s.lock().expect("lock");
                g.0 = "running".into();
                g.1.push(format!("on {}", auth(&h)));
            }),
        )
        .route(
            "/off",
            post(|State(s): State<S>, h: HeaderMap| async move {
                let mut g = s.lock().expect("lock");
                g.0 = "stopped".into();
                g.1.push(format!("off {}", auth(&h)));
            }),
        )
        .route(
            "/status",
            get(|State(s): State<S>| async move {
                format!("{{\"status\": \"{}\"}}", s.lock().expect("lock").0)
            }),
        )
        .with_state(state.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let h = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    let p = params(&[
        ("power_on_uri", &format!("{base}/on")),
        ("power_off_uri", &format!("{base}/off")),
        ("power_query_uri", &format!("{base}/status")),
        ("power_token", "tok"),
    ]);
    let d = driver_for_with("webhook", &p, fast()).expect("driver");
    assert_eq!(d.query().await.expect("q"), PowerState::Off);
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::TurnedOn);
    assert_eq!(d.query().await.expect("q"), PowerState::On);
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::AlreadyOn);
    d.power_off(OffMode::Hard).await.expect("off");
    assert_eq!(
        state.lock().expect("lock").1,
        vec!["on Bearer tok".to_string(), "off Bearer tok".to_string()]
    );
    assert!(matches!(
        d.set_boot_device(BootDevice::pxe_once()).await,
        Err(PowerError::Unsupported(_))
    ));
    // A bad regex or a missing URL is a parameter error.
    let mut bad = p.clone();
    bad.insert("power_on_regex".into(), "(".into());
    assert!(matches!(
        driver_for_with("webhook", &bad, fast()),
        Err(PowerError::BadParameters(_))
    ));
    let mut bad = p.clone();
    bad.remove("power_on_uri");
    assert!(matches!(
        driver_for_with("webhook", &bad, fast()),
        Err(PowerError::BadParameters(_))
    ));
    h.abort();
}

#[tokio::test]
async fn manual_records_intent_and_answers_unknown() {
    let d = maas_bmc::manual::ManualDriver::default();
    use maas_bmc::PowerDriver;
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::Recorded);
    d.power_off(OffMode::Soft).await.expect("off");
    assert_eq!(d.query().await.expect("q"), PowerState::Unknown);
    assert_eq!(
        d.intents(),
        vec!["power_on".to_string(), "power_off soft".to_string()]
    );
    assert!(matches!(
        driver_for_with("virsh", &params(&[]), fast()),
        Err(PowerError::Unsupported(_))
    ));
}

/// A service that refuses basic auth (sessions only) and demands If-Match on PATCH.
#[tokio::test]
async fn redfish_sessions_when_basic_is_refused_and_if_match_on_patch() {
    use axum::{
        Json, Router,
        extract::State,
        http::{HeaderMap, StatusCode},
        response::IntoResponse,
        routing::{get, post},
    };
    type S = Arc<Mutex<Vec<String>>>;
    let log: S = Arc::new(Mutex::new(Vec::new()));
    fn authed(h: &HeaderMap) -> bool {
        h.get("x-auth-token").and_then(|v| v.to_str().ok()) == Some("tok-1")
    }
    let app = Router::new()
        .route(
            "/redfish/v1/",
            get(|h: HeaderMap| async move {
                if !authed(&h) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(serde_json::json!({"Systems": {"@odata.id": "/redfish/v1/Systems"}})).into_response()
            }),
        )
        .route(
            "/redfish/v1/SessionService/Sessions",
            post(|Json(b): Json<serde_json::Value>| async move {
                if b["UserName"] == "admin" && b["Password"] == "secret" {
                    (StatusCode::CREATED, [("X-Auth-Token", "tok-1")], "{}").into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        )
        .route(
            "/redfish/v1/Systems",
            get(|h: HeaderMap| async move {
                if !authed(&h) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                Json(serde_json::json!({"Members": [{"@odata.id": "/redfish/v1/Systems/a"}, {"@odata.id": "/redfish/v1/Systems/b"}]}))
                    .into_response()
            }),
        )
        .route(
            "/redfish/v1/Systems/b",
            get(|h: HeaderMap| async move {
                if !authed(&h) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                (
                    [("ETag", "\"v7\"")],
                    Json(serde_json::json!({"PowerState": "Off", "Boot": {"BootSourceOverrideTarget": "None"},
                        "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/b/Reset",
                        "ResetType@Redfish.AllowableValues": ["ForceOn", "ForceOff"]}}})),
                )
                    .into_response()
            })
            .patch(|State(s): State<S>, h: HeaderMap, Json(b): Json<serde_json::Value>| async move {
                if h.get("if-match").and_then(|v| v.to_str().ok()) != Some("\"v7\"") {
                    return StatusCode::PRECONDITION_FAILED.into_response();
                }
                s.lock().expect("lock").push(format!("patch {b}"));
                StatusCode::NO_CONTENT.into_response()
            }),
        )
        .route(
            "/redfish/v1/Systems/b/Reset",
            post(|State(s): State<S>, Json(b): Json<serde_json::Value>| async move {
                s.lock().expect("lock").push(format!("reset {}", b["ResetType"]));
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(log.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    let h = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    let p = params(&[
        ("power_address", &base),
        ("power_user", "admin"),
        ("power_pass", "secret"),
    ]);
    // Two systems and no node_id: the operator must say which.
    let d = driver_for_with("redfish", &p, fast()).expect("driver");
    assert!(matches!(d.query().await, Err(PowerError::BadParameters(_))));
    let mut p = p;
    p.insert("node_id".into(), "b".into());
    let d = driver_for_with("redfish", &p, fast()).expect("driver");
    assert_eq!(
        d.query().await.expect("query over a session"),
        PowerState::Off
    );
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::TurnedOn);
    d.set_boot_device(BootDevice {
        target: BootTarget::Pxe,
        persistent: false,
        efi: true,
    })
    .await
    .expect("boot with If-Match");
    d.power_off(OffMode::Soft)
        .await
        .expect_err("GracefulShutdown is not offered");
    let got = log.lock().expect("lock").clone();
    assert_eq!(
        got,
        vec![
            "reset \"ForceOn\"".to_string(),
            // No BootSourceOverrideMode: the resource does not show one (quirk layer).
            "patch {\"Boot\":{\"BootSourceOverrideEnabled\":\"Once\",\"BootSourceOverrideTarget\":\"Pxe\"}}".to_string(),
        ]
    );
    let mut bad = p.clone();
    bad.insert("power_pass".into(), "wrong".into());
    assert!(matches!(
        driver_for_with("redfish", &bad, fast())
            .expect("d")
            .query()
            .await,
        Err(PowerError::AuthRefused(_))
    ));
    h.abort();
}
