//! The rack's local HTTP endpoint (loopback by default): `/state` (the
//! applied desired state, served even without a region), `/status`,
//! `/metrics` (Prometheus: the network services' counters) and
//! `POST /events` (the hook local services use to report events).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::session::Shared;
use crate::state::StateStore;

#[derive(Clone)]
pub struct Local {
    pub system_id: String,
    pub state: StateStore,
    pub shared: Arc<Shared>,
    pub running: Arc<std::sync::Mutex<crate::services::Running>>,
}

pub fn router(l: Local) -> Router {
    Router::new()
        .route("/state", get(state))
        .route("/status", get(status))
        .route("/events", post(events))
        .route("/metrics", get(metrics))
        .with_state(l)
}

async fn state(State(l): State<Local>) -> Response {
    match l.state.current() {
        Some(s) => Json(crate::state::to_json(&s)).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no desired state yet").into_response(),
    }
}

async fn metrics(State(l): State<Local>) -> Response {
    let text = match l.running.lock() {
        Ok(r) => r.render_prometheus(),
        Err(_) => String::new(),
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
}

async fn status(State(l): State<Local>) -> Json<Value> {
    let st = l.shared.status.lock().expect("status lock").clone();
    let (queued, acked, next) = {
        let q = l.shared.queue.lock().expect("queue lock");
        (q.len(), q.acked, q.next_seq)
    };
    let (generation, hash) = l.state.generation_and_hash();
    Json(json!({
        "system_id": l.system_id,
        "connected_region": st.connected_region,
        "region_url": st.region_url,
        "refused": st.refused,
        "generation": generation,
        "state_hash": hash,
        "events_queued": queued,
        "events_acked": acked,
        "next_seq": next,
    }))
}

/// Body: `[{"kind": "lease", "mac": ..., ...}, ...]`.
async fn events(State(l): State<Local>, body: axum::body::Bytes) -> Response {
    let items: Vec<Value> = match serde_json::from_slice(&body) {
        Ok(Value::Array(a)) => a,
        _ => return (StatusCode::BAD_REQUEST, "expected a JSON array of events").into_response(),
    };
    let mut batch = Vec::with_capacity(items.len());
    for it in items {
        match crate::queue::event_from_json(it) {
            Ok(e) => batch.push(e),
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        }
    }
    let r = l.shared.queue.lock().expect("queue lock").push_many(batch);
    match r {
        Ok((first, last)) => {
            l.shared.events_ready.notify_one();
            Json(json!({"first_seq": first, "last_seq": last})).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
