//! `events/?op=query`: newest first, with `limit`, `before` and `after`.

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};

const LEVELS: &[&str] = &["DEBUG", "INFO", "AUDIT", "WARNING", "ERROR", "CRITICAL"];

pub async fn events(State(app): State<App>, req: Req) -> Result<Response> {
    if !(req.method == Method::GET && req.op() == Some("query")) {
        return Err(req.unknown_op());
    }
    let user = req.user()?;
    let i = &req.input;
    let limit = i.int("limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::field("limit", "limit must be between 1 and 1000."));
    }
    let before = i.int("before")?;
    let after = i.int("after")?;
    if before.is_some() && after.is_some() {
        return Err(Error::BadRequest(
            "There is no meaning in giving both 'before' and 'after'.".into(),
        ));
    }
    let level = i
        .get_nonempty("level")
        .unwrap_or("INFO")
        .to_ascii_uppercase();
    let min = LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
        Error::field(
            "level",
            format!("'{level}' is not a valid level: {}.", LEVELS.join(", ")),
        )
    })?;
    let levels: Vec<String> = LEVELS[min..].iter().map(|s| s.to_string()).collect();

    let mut q = QueryBuilder::<Postgres>::new(
        "SELECT e.id, e.system_id, e.hostname, e.username, e.level, e.created, e.type, e.description
           FROM events e LEFT JOIN machines m ON m.id = e.machine_id
           LEFT JOIN zones z ON z.id = m.zone_id LEFT JOIN users u ON u.id = m.owner_id WHERE e.level = ANY(",
    );
    q.push_bind(levels).push(")");
    if !user.is_superuser {
        q.push(" AND e.machine_id IS NOT NULL AND (m.owner_id IS NULL OR m.owner_id = ")
            .push_bind(user.id)
            .push(")");
    }
    let hostnames = i.list("hostname");
    if !hostnames.is_empty() {
        q.push(" AND e.hostname = ANY(")
            .push_bind(hostnames)
            .push(")");
    }
    let ids = i.list("id");
    if !ids.is_empty() {
        q.push(" AND e.system_id = ANY(").push_bind(ids).push(")");
    }
    let macs: Vec<String> = i
        .list("mac_address")
        .iter()
        .filter_map(|m| maas_model::ids::normalize_mac(m))
        .collect();
    if !macs.is_empty() {
        q.push(" AND e.machine_id IN (SELECT machine_id FROM interfaces WHERE mac_address = ANY(")
            .push_bind(macs)
            .push("))");
    }
    let zones = i.list("zone");
    if !zones.is_empty() {
        q.push(" AND z.name = ANY(").push_bind(zones).push(")");
    }
    let agents = i.list("agent_name");
    if !agents.is_empty() {
        q.push(" AND m.agent_name = ANY(")
            .push_bind(agents)
            .push(")");
    }
    let owners = i.list("owner");
    if !owners.is_empty() {
        q.push(" AND u.username = ANY(").push_bind(owners).push(")");
    }
    if let Some(b) = before {
        q.push(" AND e.id < ").push_bind(b);
    }
    if let Some(a) = after {
        // Oldest-first window just after `a`, shown newest first.
        q.push(" AND e.id > ").push_bind(a);
        q.push(" ORDER BY e.id ASC LIMIT ").push_bind(limit);
    } else {
        q.push(" ORDER BY e.id DESC LIMIT ").push_bind(limit);
    }
    let rows = q.build().fetch_all(&app.db).await?;
    let mut events: Vec<Value> = rows
        .iter()
        .map(|r| {
            let created: chrono::DateTime<chrono::Utc> = r.get("created");
            json!({
                "id": r.get::<i64, _>("id"),
                "node": r.get::<Option<String>, _>("system_id"),
                "hostname": r.get::<String, _>("hostname"),
                "username": r.get::<Option<String>, _>("username"),
                "level": r.get::<String, _>("level"),
                "created": created.format("%a, %d %b. %Y %H:%M:%S").to_string(),
                "type": r.get::<String, _>("type"),
                "description": r.get::<String, _>("description"),
            })
        })
        .collect();
    if after.is_some() {
        events.reverse();
    }
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
    let first = events.first().and_then(|e| e["id"].as_i64());
    let last = events.last().and_then(|e| e["id"].as_i64());
    Ok(json(&json!({
        "count": events.len(),
        "events": events,
        "next_uri": last.map(|l| format!("{base}{extra}&before={l}")),
        "prev_uri": first.map(|f| format!("{base}{extra}&after={f}")),
    })))
}
