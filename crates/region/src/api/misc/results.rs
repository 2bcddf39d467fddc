//! `nodes/{system_id}/results/`, `scripts/`, and a machine's `op=details`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::raw;
use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::machines;
use crate::services::misc::results::{self, BUILTIN_SCRIPTS, ScriptSet};

/// MAAS's `format_datetime`.
fn http_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S -0000").to_string()
}

/// MAAS's `fmt_time` for started/ended.
fn short_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b. %Y %H:%M:%S").to_string()
}

fn set_json(system_id: &str, s: &ScriptSet, with_output: bool) -> Value {
    let (t, type_name) = results::result_type(s.stored_type);
    let first = s.results.iter().map(|r| r.created).min();
    let last = s.results.iter().map(|r| r.created).max();
    let status = s.status();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let items: Vec<Value> = s
        .results
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id, "created": http_time(&r.created), "updated": http_time(&r.created),
                "name": r.name, "status": r.status, "status_name": results::status_name(r.status),
                "exit_status": r.exit_status, "started": short_time(&r.created),
                "ended": short_time(&r.created), "runtime": r.runtime.clone().unwrap_or_default(),
                "starttime": r.created.timestamp() as f64, "endtime": r.created.timestamp() as f64,
                "estimated_runtime": r.runtime.clone().unwrap_or_default(),
                "parameters": {}, "script_id": null, "script_revision_id": null,
                "suppressed": false,
            });
            if with_output {
                v["output"] = json!(b64(&r.output));
                v["stdout"] = json!(b64(&r.output));
                v["stderr"] = json!("");
                v["result"] = json!("");
            }
            v
        })
        .collect();
    json!({
        "id": s.id, "system_id": system_id, "type": t, "type_name": type_name,
        "last_ping": last.map(|t| http_time(&t)), "status": status,
        "status_name": results::status_name(status),
        "started": first.map(|t| short_time(&t)), "ended": last.map(|t| short_time(&t)),
        "runtime": "0:00:00", "results": items, "suppressed": false,
        "resource_uri": format!("/MAAS/api/2.0/nodes/{system_id}/results/{}/", s.id),
    })
}

pub async fn results(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            machines::get_visible(&app, u, &system_id).await?;
            let with_output = req.input.bool("include_output")?.unwrap_or(false);
            let wanted = match req.input.get_nonempty("type") {
                None => None,
                Some(t) => Some(match t.to_ascii_lowercase().as_str() {
                    "0" | "commissioning" => 0,
                    "1" | "installation" => 1,
                    "2" | "testing" => 2,
                    "3" | "release" => 3,
                    _ => {
                        return Err(Error::field(
                            "result_type",
                            format!("Unknown result type '{t}'."),
                        ));
                    }
                }),
            };
            let sets = results::sets(&app, &system_id, with_output).await?;
            let out: Vec<Value> = sets
                .iter()
                .filter(|s| wanted.is_none_or(|w| results::result_type(s.stored_type).0 == w))
                .map(|s| set_json(&system_id, s, with_output))
                .collect();
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

/// `nodes/{system_id}/results/{id}/`: one set, by id or `current-<type>`.
pub async fn result(
    State(app): State<App>,
    Path((system_id, id)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            machines::get_visible(&app, u, &system_id).await?;
            let with_output = req.input.bool("include_output")?.unwrap_or(false);
            let sets = results::sets(&app, &system_id, with_output).await?;
            let found = match id.strip_prefix("current-") {
                Some(kind) => sets.iter().find(|s| {
                    results::result_type(s.stored_type)
                        .1
                        .eq_ignore_ascii_case(kind)
                }),
                None => sets.iter().find(|s| s.id.to_string() == id),
            };
            let s = found
                .ok_or_else(|| Error::NotFound("No ScriptSet matches the given query.".into()))?;
            Ok(json(&set_json(&system_id, s, with_output)))
        }
        _ => Err(req.unknown_op()),
    }
}

fn script_json(id: usize, s: &results::Builtin) -> Value {
    let (name, title, description, t, hw, timeout) = *s;
    let type_name = if t == 2 { "testing" } else { "commissioning" };
    let hw_name = maas_model::node_device::HardwareType::from_number(hw).name();
    json!({
        "id": id, "name": name, "title": title, "description": description,
        "tags": [type_name], "type": t, "type_name": type_name,
        "hardware_type": hw, "hardware_type_name": hw_name,
        "parallel": 2, "parallel_name": "Run along other instances",
        "results": {}, "parameters": {}, "packages": {},
        "timeout": format!("0:{:02}:{:02}", timeout / 60, timeout % 60),
        "destructive": false, "default": true, "for_hardware": [], "may_reboot": false,
        "recommission": false, "apply_configured_networking": false,
        "resource_uri": format!("/MAAS/api/2.0/scripts/{name}"), "history": [],
    })
}

pub async fn scripts(State(_app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let wanted = match req.input.get_nonempty("type") {
                None => None,
                Some(t) => Some(match t.to_ascii_lowercase().as_str() {
                    "0" | "commissioning" => 0,
                    "2" | "testing" => 2,
                    _ => {
                        return Err(Error::field("type", format!("Unknown script type '{t}'.")));
                    }
                }),
            };
            let out: Vec<Value> = BUILTIN_SCRIPTS
                .iter()
                .enumerate()
                .filter(|(_, s)| wanted.is_none_or(|w| s.3 == w))
                .map(|(i, s)| script_json(i + 1, s))
                .collect();
            Ok(json(&out))
        }
        (&Method::POST, None) => {
            req.admin()?;
            Err(Error::BadRequest(
                "Uploading scripts is not supported: this region runs its built-in commissioning only."
                    .into(),
            ))
        }
        _ => Err(req.unknown_op()),
    }
}

/// `scripts/{name}`: one built-in script.
pub async fn script(
    State(_app): State<App>,
    Path(name): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    let found = BUILTIN_SCRIPTS
        .iter()
        .enumerate()
        .find(|(_, s)| s.0 == name)
        .ok_or_else(|| Error::NotFound("No Script matches the given query.".into()))?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&script_json(found.0 + 1, found.1))),
        _ => Err(req.unknown_op()),
    }
}

/// `machines/{system_id}/?op=details` (and `nodes/`): lshw and lldp
/// outputs of commissioning as BSON.
pub async fn details(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let u = req.user()?;
    machines::get_visible(app, u, system_id).await?;
    Ok(raw(
        "application/bson",
        results::details(app, system_id).await?,
    ))
}
