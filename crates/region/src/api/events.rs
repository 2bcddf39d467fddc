//! `events/?op=query`: newest first, with `limit`, `before` and `after`.

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json};
use crate::error::Result;
use crate::services::events::{self, EventRow};

fn event_json(e: &EventRow) -> Value {
    json!({
        "id": e.id,
        "node": e.system_id,
        "hostname": e.hostname,
        "username": e.username,
        "level": e.level,
        "created": e.created.format("%a, %d %b. %Y %H:%M:%S").to_string(),
        "type": e.type_,
        "description": e.description,
    })
}

pub async fn events(State(app): State<App>, req: Req) -> Result<Response> {
    if !(req.method == Method::GET && req.op() == Some("query")) {
        return Err(req.unknown_op());
    }
    let user = req.user()?;
    let i = &req.input;
    let limit = events::limit(i.int("limit")?)?;
    let q = events::Query {
        limit,
        before: i.int("before")?,
        after: i.int("after")?,
        level: i.get_nonempty("level").map(str::to_string),
        hostnames: i.list("hostname"),
        system_ids: i.list("id"),
        mac_addresses: i.list("mac_address"),
        zones: i.list("zone"),
        agent_names: i.list("agent_name"),
        owners: i.list("owner"),
    };
    let out: Vec<Value> = events::query(&app.db, user, q)
        .await?
        .iter()
        .map(event_json)
        .collect();
    let base = "/MAAS/api/2.0/events/?op=query";
    let mut keep: Vec<String> = Vec::new();
    for (k, vs) in &i.params {
        if !["op", "before", "after"].contains(&k.as_str()) {
            for v in vs {
                keep.push(format!(
                    "{}={}",
                    k,
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                ));
            }
        }
    }
    let extra = if keep.is_empty() {
        String::new()
    } else {
        format!("&{}", keep.join("&"))
    };
    let first = out.first().and_then(|e| e["id"].as_i64());
    let last = out.last().and_then(|e| e["id"].as_i64());
    Ok(json(&json!({
        "count": out.len(),
        "events": out,
        "next_uri": last.map(|l| format!("{base}{extra}&before={l}")),
        "prev_uri": first.map(|f| format!("{base}{extra}&after={f}")),
    })))
}
