//! The metadata API booting machines call with their own token
//! (`/MAAS/metadata/...`): `signal` completes commissioning, testing,
//! deployment, disk erasing and rescue mode; `user-data` read by the deployed
//! OS marks a deploying machine deployed, as in MAAS.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maas_model::NodeStatus;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::api::app::{App, Req};
use crate::error::{Error, Result};
use crate::services::lifecycle::{self, Core};

const VERSIONS: &[&str] = &["latest", "2012-03-01", "2012-08-01", "2012-09-15", "1.0"];

fn text(body: impl Into<Body>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn check_version(v: &str) -> Result<()> {
    if VERSIONS.contains(&v) {
        Ok(())
    } else {
        Err(Error::NotFound(format!("Unknown metadata version: {v}")))
    }
}

/// The machine behind a node token.
async fn node(app: &App, req: &Req) -> Result<String> {
    let u = req.user.as_ref().ok_or_else(|| {
        Error::Unauthorized("The metadata API needs the machine's OAuth token.".into())
    })?;
    let mid = u.machine_id.ok_or_else(|| {
        Error::Forbidden("Only a machine's own token can use the metadata API.".into())
    })?;
    let sid: String = sqlx::query_scalar("SELECT system_id FROM machines WHERE id = $1")
        .bind(mid)
        .fetch_one(&app.db)
        .await?;
    Ok(sid)
}

pub async fn index(
    State(_app): State<App>,
    Path(version): Path<String>,
    req: Req,
) -> Result<Response> {
    check_version(&version)?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(text("meta-data/\nuser-data\n")),
        (&Method::POST, Some("signal")) => signal(&_app, &req).await,
        (&Method::POST, Some(op @ ("netboot_off" | "netboot_on"))) => {
            let sid = node(&_app, &req).await?;
            sqlx::query("UPDATE machines SET netboot = $2 WHERE system_id = $1")
                .bind(&sid)
                .bind(op == "netboot_on")
                .execute(&_app.db)
                .await?;
            Ok(text("OK"))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn path(
    State(app): State<App>,
    Path((version, rest)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    check_version(&version)?;
    if req.method != Method::GET {
        return Err(req.unknown_op());
    }
    let sid = node(&app, &req).await?;
    let r = sqlx::query(
        "SELECT id, hostname, status, owner_id, user_data FROM machines WHERE system_id = $1",
    )
    .bind(&sid)
    .fetch_one(&app.db)
    .await?;
    let rest = rest.trim_end_matches('/');
    match rest {
        "meta-data" => Ok(text(
            "instance-id\nlocal-hostname\npublic-keys\nvendor-data\n",
        )),
        "meta-data/instance-id" => Ok(text(sid)),
        "meta-data/local-hostname" => Ok(text(r.get::<String, _>("hostname"))),
        "meta-data/public-keys" => {
            let keys: Vec<String> =
                sqlx::query_scalar("SELECT key FROM sshkeys WHERE user_id = $1 ORDER BY id")
                    .bind(r.get::<Option<i64>, _>("owner_id"))
                    .fetch_all(&app.db)
                    .await?;
            Ok(text(keys.join("\n")))
        }
        "meta-data/vendor-data" => Ok(text("#cloud-config\n{}\n")),
        "user-data" => {
            let status = NodeStatus::from_i16(r.get("status"));
            if status == Some(NodeStatus::Deploying) {
                // The deployed OS fetched its user data: deployment is done.
                let mut tx = app.db.begin().await?;
                let mut m = lifecycle::lock(&mut tx, &sid).await?;
                if m.status == NodeStatus::Deploying {
                    lifecycle::transition(&mut tx, &mut m, NodeStatus::Deployed, None, "Deployed")
                        .await?;
                }
                tx.commit().await?;
            }
            let data: Option<Vec<u8>> = r.get("user_data");
            Ok(text(data.unwrap_or_default()))
        }
        _ => Err(Error::NotFound(format!("Unknown metadata item: {rest}"))),
    }
}

/// Where a signal in a given status leads (OK, FAILED).
fn signal_targets(m: &Core) -> Option<(NodeStatus, NodeStatus)> {
    use NodeStatus::*;
    Some(match m.status {
        Commissioning => (Ready, FailedCommissioning),
        Testing => (
            m.previous_status
                .filter(|p| Testing.can_transition_to(*p) && *p != Commissioning)
                .unwrap_or(Ready),
            FailedTesting,
        ),
        Deploying => (Deployed, FailedDeployment),
        DiskErasing => (Ready, FailedDiskErasing),
        EnteringRescueMode => (RescueMode, FailedEnteringRescueMode),
        Releasing => (Ready, FailedReleasing),
        _ => return None,
    })
}

fn result_type(s: NodeStatus) -> i16 {
    match s {
        NodeStatus::Testing => 2,
        NodeStatus::Releasing | NodeStatus::DiskErasing => 3,
        NodeStatus::Deploying => 4,
        _ => 0,
    }
}

/// Apply a hardware inventory (`hardware.json`, the boot agent's format).
async fn apply_inventory(tx: &mut sqlx::PgConnection, m: &Core, inv: &Value) -> Result<()> {
    let bad = |f: &str| Error::field(f, format!("Inventory field '{f}' has the wrong type."));
    let int = |k: &str| -> Result<Option<i64>> {
        match inv.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(k)),
        }
    };
    let cpu = int("cpu_count")?;
    let mem = int("memory")?;
    let speed = int("cpu_speed")?;
    sqlx::query(
        "UPDATE machines SET cpu_count = coalesce($2, cpu_count), memory = coalesce($3, memory),
                cpu_speed = coalesce($4, cpu_speed) WHERE id = $1",
    )
    .bind(m.id)
    .bind(cpu.map(|v| v.clamp(0, 100_000) as i32))
    .bind(mem.map(|v| v.clamp(0, 1 << 40)))
    .bind(speed.map(|v| v.clamp(0, 1_000_000) as i32))
    .execute(&mut *tx)
    .await?;
    if let Some(disks) = inv.get("disks") {
        let disks = disks.as_array().ok_or_else(|| bad("disks"))?;
        sqlx::query("DELETE FROM block_devices WHERE machine_id = $1")
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        for d in disks {
            let name = d
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("disks.name"))?;
            let size = d
                .get("size")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("disks.size"))?;
            let tags: Vec<String> = d
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO block_devices (machine_id, name, size, tags, model, serial)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (machine_id, name) DO NOTHING",
            )
            .bind(m.id)
            .bind(name)
            .bind(size.max(0))
            .bind(tags)
            .bind(d.get("model").and_then(Value::as_str).unwrap_or(""))
            .bind(d.get("serial").and_then(Value::as_str).unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

async fn signal(app: &App, req: &Req) -> Result<Response> {
    let sid = node(app, req).await?;
    let i = &req.input;
    let status = i
        .get_nonempty("status")
        .ok_or_else(|| Error::field("status", "This field is required."))?
        .to_ascii_uppercase();
    const KNOWN: &[&str] = &[
        "OK",
        "FAILED",
        "WORKING",
        "COMMISSIONING",
        "TESTING",
        "TIMEDOUT",
        "INSTALLING",
        "APPLYING_NETCONF",
        "RELEASING",
        "DEPLOYING",
    ];
    if !KNOWN.contains(&status.as_str()) {
        return Err(Error::field(
            "status",
            format!("'{status}' is not a valid signal status."),
        ));
    }
    let exit_status = i.int("exit_status")?;
    let mut tx = app.db.begin().await?;
    let mut m = lifecycle::lock(&mut tx, &sid).await?;
    let (ok_to, fail_to) = signal_targets(&m).ok_or_else(|| {
        Error::Conflict(format!(
            "Machine {} is not in a status that takes signals (status: {}).",
            m.hostname,
            m.status.label()
        ))
    })?;
    // Results first: a failed script fails the whole run.
    let mut script_failed = false;
    for (name, files) in &i.files {
        for (fname, data) in files {
            let failed = exit_status.is_some_and(|e| e != 0) || status == "FAILED";
            script_failed |= failed;
            sqlx::query(
                "INSERT INTO script_results (machine_id, result_type, name, status, exit_status, runtime, output)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(m.id)
            .bind(result_type(m.status))
            .bind(if fname.is_empty() { name } else { fname })
            .bind(if failed { 3i16 } else { 2i16 })
            .bind(exit_status.map(|e| e as i32))
            .bind(i.get("runtime"))
            .bind(data)
            .execute(&mut *tx)
            .await?;
            if (name == "hardware.json" || fname == "hardware.json") && !failed {
                let inv: Value = serde_json::from_slice(data).map_err(|_| {
                    Error::field("hardware.json", "The inventory is not valid JSON.")
                })?;
                apply_inventory(&mut tx, &m, &inv).await?;
            }
        }
    }
    if let Some(pt) = i.get_nonempty("power_type") {
        if !maas_model::power::is_known_power_type(pt) {
            return Err(Error::field(
                "power_type",
                format!("'{pt}' is not a valid power type."),
            ));
        }
        let params: Map<String, Value> = match i.get_nonempty("power_parameters") {
            Some(p) => serde_json::from_str(p)
                .map_err(|_| Error::field("power_parameters", "Must be a JSON object."))?,
            None => Map::new(),
        };
        sqlx::query("UPDATE machines SET power_type = $2, power_parameters = $3 WHERE id = $1")
            .bind(m.id)
            .bind(pt)
            .bind(
                app.secrets
                    .seal(Value::Object(params).to_string().as_bytes()),
            )
            .execute(&mut *tx)
            .await?;
    }
    let error = i.get("error").unwrap_or("").to_string();
    match status.as_str() {
        "OK" if !script_failed => {
            let label = m.status.label().to_lowercase();
            lifecycle::transition(&mut tx, &mut m, ok_to, None, &format!("Finished {label}"))
                .await?;
        }
        "OK" | "FAILED" | "TIMEDOUT" => {
            let msg = if error.is_empty() {
                format!("{} failed.", m.status.label())
            } else {
                error
            };
            lifecycle::transition(&mut tx, &mut m, fail_to, None, &msg).await?;
        }
        _ => {
            // WORKING and progress statuses: a heartbeat that extends the deadline.
            let timeout = crate::services::config::get_i64(&mut *tx, "node_timeout").await?;
            let mins = m.status.deadline_minutes(timeout).unwrap_or(timeout);
            sqlx::query(
                "UPDATE machines SET status_message = $2,
                        status_expires = now() + make_interval(mins => $3::int) WHERE id = $1",
            )
            .bind(m.id)
            .bind(if error.is_empty() {
                status.clone()
            } else {
                error.clone()
            })
            .bind(mins)
            .execute(&mut *tx)
            .await?;
            lifecycle::event(
                &mut tx,
                Some(&m),
                None,
                "DEBUG",
                "Progress",
                &format!("{status} {error}"),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(text("OK"))
}

/// `POST /MAAS/metadata/status/{system_id}`: cloud-init/curtin reporting.
pub async fn status(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    if req.method != Method::POST {
        return Err(req.unknown_op());
    }
    let sid = node(&app, &req).await?;
    if sid != system_id {
        return Err(Error::Forbidden(
            "A machine may only report its own status.".into(),
        ));
    }
    let i = &req.input;
    let event_type = i.get("event_type").unwrap_or("").to_string();
    let name = i.get("name").unwrap_or("").to_string();
    let result = i.get("result").unwrap_or("").to_ascii_uppercase();
    let desc = i.get("description").unwrap_or("").to_string();
    let mut tx = app.db.begin().await?;
    let mut m = lifecycle::lock(&mut tx, &sid).await?;
    let level = if result == "FAILURE" {
        "ERROR"
    } else {
        "DEBUG"
    };
    lifecycle::event(
        &mut tx,
        Some(&m),
        None,
        level,
        &format!("{event_type} {name}"),
        &desc,
    )
    .await?;
    if event_type == "finish"
        && result == "FAILURE"
        && let Some(failed) = m.status.failure_status()
    {
        let msg = format!("{name} failed: {desc}");
        lifecycle::transition(&mut tx, &mut m, failed, None, &msg).await?;
    }
    tx.commit().await?;
    Ok(text("OK"))
}
