//! `machines/`, `machines/{system_id}/` and the node sub-resources.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maas_model::{Action, NodeStatus, Perm, ids, power};
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::api::app::{App, Req, json_bytes, no_content};
use crate::error::{Error, Result};
use crate::render::{FullMachine, MACHINE_SELECT, MACHINE_VERSIONS, MachineRow, machine_to_json};
use crate::services::auth::{self, User};
use crate::services::lifecycle::{self, Core};
use crate::services::load::{complete, list_response};
use crate::services::{allocate, config};

pub fn can_view(u: &User, owner_id: Option<i64>) -> bool {
    u.is_superuser || owner_id.is_none() || owner_id == Some(u.id)
}

pub fn can_edit(u: &User, owner_id: Option<i64>) -> bool {
    u.is_superuser || owner_id == Some(u.id)
}

/// Load one machine with everything it renders (one round trip when its
/// related set is cached).
pub async fn fetch(app: &App, system_id: &str) -> Result<FullMachine> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MACHINE_SELECT} WHERE m.system_id = $1"
    )))
    .bind(system_id);
    let row = app
        .hot
        .run(async |c| q.fetch_optional(c).await)
        .await?
        .ok_or_else(|| lifecycle::not_found(system_id))?;
    let row = MachineRow::from_row(&row)?;
    Ok(complete(app, vec![row]).await?.remove(0))
}

async fn fetch_visible(app: &App, u: &User, system_id: &str) -> Result<FullMachine> {
    let m = fetch(app, system_id).await?;
    if !can_view(u, m.row.owner_id) {
        return Err(Error::Forbidden(
            "You do not have permission to view this machine.".into(),
        ));
    }
    Ok(m)
}

pub fn machine_response(m: &FullMachine) -> Response {
    json_bytes(StatusCode::OK, machine_to_json(m))
}

/// The fields an anonymous caller may see (MAAS's anonymous machine view).
fn anonymous_view(m: &FullMachine) -> Response {
    let full: Value = serde_json::to_value(m.json()).unwrap_or_default();
    let keep = [
        "system_id",
        "hostname",
        "domain",
        "fqdn",
        "architecture",
        "status",
        "power_type",
        "power_state",
        "zone",
        "status_action",
        "status_message",
        "status_name",
        "node_type",
        "resource_uri",
    ];
    let out: Map<String, Value> = full
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    crate::api::app::json(&out)
}

// ---------------------------------------------------------------- listing

fn push_list_filter(
    q: &mut QueryBuilder<Postgres>,
    values: Vec<String>,
    column: &str,
    negate: bool,
) {
    if values.is_empty() {
        return;
    }
    q.push(if negate { " AND NOT (" } else { " AND (" });
    q.push(column).push(" = ANY(").push_bind(values).push("))");
}

/// Apply MAAS's read filters (`ReadNodesForm`) and visibility.
fn apply_read_filters(q: &mut QueryBuilder<Postgres>, req: &Req, user: &User) -> Result<()> {
    let i = &req.input;
    if !user.is_superuser {
        q.push(" AND (m.owner_id IS NULL OR m.owner_id = ")
            .push_bind(user.id)
            .push(")");
    }
    push_list_filter(q, i.list("id"), "m.system_id", false);
    push_list_filter(q, i.list("not_id"), "m.system_id", true);
    for (key, neg) in [("hostname", false), ("not_hostname", true)] {
        let hs = i.list(key);
        if !hs.is_empty() {
            // A hostname filter matches the short name or the FQDN.
            let short: Vec<String> = hs
                .iter()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
                .collect();
            push_list_filter(q, short, "m.hostname", neg);
        }
    }
    let macs = i.list("mac_address");
    if !macs.is_empty() {
        let mut norm = Vec::new();
        for m in macs {
            norm.push(ids::normalize_mac(&m).ok_or_else(|| {
                Error::field("mac_address", format!("'{m}' is not a valid MAC address."))
            })?);
        }
        q.push(" AND EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY(")
            .push_bind(norm)
            .push("))");
    }
    push_list_filter(q, i.list("domain"), "d.name", false);
    push_list_filter(q, i.list("not_domain"), "d.name", true);
    push_list_filter(q, i.list("agent_name"), "m.agent_name", false);
    push_list_filter(q, i.list("not_agent_name"), "m.agent_name", true);
    for (key, neg) in [("status", false), ("not_status", true)] {
        let vals = i.list(key);
        if vals.is_empty() {
            continue;
        }
        let mut nums: Vec<i16> = Vec::new();
        for v in vals {
            let s = NodeStatus::parse(&v)
                .ok_or_else(|| Error::field(key, format!("'{v}' is not a valid status.")))?;
            nums.push(s.as_i16());
        }
        q.push(if neg {
            " AND NOT (m.status = ANY("
        } else {
            " AND (m.status = ANY("
        })
        .push_bind(nums)
        .push("))");
    }
    for (key, neg) in [("simple_status", false), ("not_simple_status", true)] {
        let vals = i.list(key);
        if vals.is_empty() {
            continue;
        }
        let nums: Vec<i16> = NodeStatus::ALL
            .iter()
            .filter(|s| vals.iter().any(|v| v.eq_ignore_ascii_case(s.simplified())))
            .map(|s| s.as_i16())
            .collect();
        if nums.is_empty() {
            return Err(Error::field(key, "No such simplified status."));
        }
        q.push(if neg {
            " AND NOT (m.status = ANY("
        } else {
            " AND (m.status = ANY("
        })
        .push_bind(nums)
        .push("))");
    }
    push_list_filter(q, i.list("owner"), "u.username", false);
    push_list_filter(q, i.list("not_owner"), "u.username", true);
    for (key, neg) in [("power_state", false), ("not_power_state", true)] {
        let vals = i.list(key);
        for v in &vals {
            if !power::POWER_STATES.contains(&v.as_str()) {
                return Err(Error::field(
                    key,
                    format!("'{v}' is not a valid power state."),
                ));
            }
        }
        push_list_filter(q, vals, "m.power_state", neg);
    }
    push_list_filter(q, i.list("zone"), "z.name", false);
    push_list_filter(q, i.list("not_in_zone"), "z.name", true);
    push_list_filter(q, i.list("pool"), "p.name", false);
    push_list_filter(q, i.list("not_in_pool"), "p.name", true);
    let tags = i.list("tags");
    if !tags.is_empty() {
        q.push(" AND m.tag_names @> ").push_bind(tags);
    }
    let not_tags = i.list("not_tags");
    if !not_tags.is_empty() {
        q.push(" AND NOT (m.tag_names && ")
            .push_bind(not_tags)
            .push(")");
    }
    for (key, neg) in [("arch", false), ("not_arch", true)] {
        let arches = i.list(key);
        if arches.is_empty() {
            continue;
        }
        q.push(if neg {
            " AND NOT (false"
        } else {
            " AND (false"
        });
        for a in arches {
            if a.contains('/') {
                q.push(" OR m.architecture = ").push_bind(a);
            } else {
                q.push(" OR split_part(m.architecture, '/', 1) = ")
                    .push_bind(a);
            }
        }
        q.push(")");
    }
    if let Some(n) = i.int("cpu_count")? {
        q.push(" AND m.cpu_count >= ").push_bind(n as i32);
    }
    if let Some(v) = i.get_nonempty("mem") {
        let n: f64 = v
            .parse()
            .map_err(|_| Error::field("mem", format!("'{v}' is not a number.")))?;
        q.push(" AND m.memory >= ").push_bind(n);
    }
    Ok(())
}

/// Opaque cursor for the opt-in pagination: the last row id, hex.
fn decode_cursor(c: &str) -> Result<i64> {
    c.strip_prefix('c')
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .ok_or_else(|| Error::field("cursor", "Invalid cursor."))
}

async fn read(app: &App, req: &Req) -> Result<Response> {
    let user = req.user()?;
    let mut q = QueryBuilder::<Postgres>::new(MACHINE_VERSIONS);
    q.push(" WHERE true");
    apply_read_filters(&mut q, req, user)?;
    let limit = req.input.int("limit")?;
    if let Some(l) = limit
        && !(1..=10_000).contains(&l)
    {
        return Err(Error::field("limit", "limit must be between 1 and 10000."));
    }
    if let Some(c) = req.input.get_nonempty("cursor") {
        if limit.is_none() {
            return Err(Error::field("cursor", "cursor needs limit."));
        }
        q.push(" AND m.id > ").push_bind(decode_cursor(c)?);
    }
    q.push(" ORDER BY m.id");
    if let Some(l) = limit {
        q.push(" LIMIT ").push_bind(l + 1);
    }
    list_response(app, user, q, limit).await
}

// ---------------------------------------------------------------- create / update

fn normalise_arch(arch: &str, sub: Option<&str>) -> Result<String> {
    let a = match (arch.contains('/'), sub) {
        (false, Some(s)) if !s.is_empty() => format!("{arch}/{s}"),
        (false, _) => format!("{arch}/generic"),
        (true, _) => arch.to_string(),
    };
    let ok = a.split_once('/').is_some_and(|(x, y)| {
        let good = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        good(x) && good(y)
    });
    if !ok {
        return Err(Error::field(
            "architecture",
            format!("'{arch}' is not a valid architecture."),
        ));
    }
    Ok(a)
}

/// Power parameters from `power_parameters_<name>` fields or a JSON
/// `power_parameters` object, checked against the driver's parameter names.
fn power_params_from(req: &Req, power_type: &str) -> Result<Option<Map<String, Value>>> {
    let known = power::power_params_for(power_type).ok_or_else(|| {
        Error::field(
            "power_type",
            format!("'{power_type}' is not a valid power type."),
        )
    })?;
    let mut out = Map::new();
    let mut any = false;
    if let Some(j) = req.input.get_nonempty("power_parameters") {
        any = true;
        let v: Value = serde_json::from_str(j).map_err(|_| {
            Error::field(
                "power_parameters",
                "power_parameters must be a JSON object.",
            )
        })?;
        let Value::Object(m) = v else {
            return Err(Error::field(
                "power_parameters",
                "power_parameters must be a JSON object.",
            ));
        };
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.insert(k, Value::String(s));
        }
    }
    for (k, vals) in &req.input.params {
        if let Some(name) = k.strip_prefix("power_parameters_") {
            if name == "skip_check" {
                continue;
            }
            any = true;
            out.insert(
                name.to_string(),
                Value::String(vals.last().cloned().unwrap_or_default()),
            );
        }
    }
    for k in out.keys() {
        if !known.contains(&k.as_str()) {
            return Err(Error::field(
                &format!("power_parameters_{k}"),
                format!("Unknown parameter '{k}' for power type '{power_type}'."),
            ));
        }
    }
    Ok(any.then_some(out))
}

async fn zone_id(tx: &mut PgConnection, name: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM zones WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::field("zone", format!("No such zone: '{name}'.")))
}

async fn pool_id(tx: &mut PgConnection, name: &str) -> Result<i64> {
    let by_id = name.parse::<i64>().ok();
    sqlx::query_scalar("SELECT id FROM resource_pools WHERE name = $1 OR id = $2")
        .bind(name)
        .bind(by_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::field("pool", format!("No such resource pool: '{name}'.")))
}

async fn domain_id(tx: &mut PgConnection, name: &str) -> Result<i64> {
    let by_id = name.parse::<i64>().ok();
    sqlx::query_scalar("SELECT id FROM domains WHERE name = $1 OR id = $2")
        .bind(name)
        .bind(by_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::field("domain", format!("No such domain: '{name}'.")))
}

async fn hostname_taken(
    tx: &mut PgConnection,
    hostname: &str,
    domain: i64,
    except: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM machines WHERE hostname = $1 AND domain_id = $2 AND id <> $3)",
    )
    .bind(hostname)
    .bind(domain)
    .bind(except)
    .fetch_one(&mut *tx)
    .await?)
}

/// The user that owns machines' node tokens (as MAAS's node-init user).
async fn node_init_user(tx: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (username, email, is_superuser, is_local)
         VALUES ('maas-init-node', '', false, false)
         ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await?)
}

/// The machine's own OAuth token (created on first use).
pub async fn node_token(
    tx: &mut PgConnection,
    machine_id: i64,
) -> Result<(String, String, String)> {
    if let Some(r) = sqlx::query(
        "SELECT consumer_key, token_key, token_secret FROM tokens WHERE machine_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(machine_id)
    .fetch_optional(&mut *tx)
    .await?
    {
        return Ok((r.get(0), r.get(1), r.get(2)));
    }
    let uid = node_init_user(tx).await?;
    let (ck, tk, ts) = auth::new_key();
    sqlx::query(
        "INSERT INTO tokens (user_id, consumer_key, token_key, token_secret, name, machine_id)
         VALUES ($1, $2, $3, $4, 'node', $5)",
    )
    .bind(uid)
    .bind(&ck)
    .bind(&tk)
    .bind(&ts)
    .bind(machine_id)
    .execute(&mut *tx)
    .await?;
    Ok((ck, tk, ts))
}

async fn create(app: &App, req: &Req) -> Result<Response> {
    let user = req.user.as_ref();
    if let Some(u) = user
        && u.machine_id.is_some()
    {
        return Err(crate::api::app::node_token_refused());
    }
    let i = &req.input;
    let mut errors = maas_model::constraints::FieldErrors::new();
    let arch = match i.get_nonempty("architecture") {
        Some(a) => match normalise_arch(a, i.get_nonempty("subarchitecture")) {
            Ok(a) => Some(a),
            Err(Error::Validation(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        },
        None => {
            errors.insert(
                "architecture".into(),
                vec!["This field is required.".into()],
            );
            None
        }
    };
    let raw_macs = i.list("mac_addresses");
    let mut macs = Vec::new();
    if raw_macs.is_empty() {
        errors.insert(
            "mac_addresses".into(),
            vec!["This field is required.".into()],
        );
    }
    for m in &raw_macs {
        match ids::normalize_mac(m) {
            Some(n) if !macs.contains(&n) => macs.push(n),
            Some(_) => {
                errors
                    .entry("mac_addresses".into())
                    .or_default()
                    .push(format!("'{m}' is given twice."));
            }
            None => {
                errors
                    .entry("mac_addresses".into())
                    .or_default()
                    .push(format!("'{m}' is not a valid MAC address."));
            }
        }
    }
    let hostname = i.get_nonempty("hostname").map(|h| h.trim().to_string());
    if let Some(h) = &hostname
        && !ids::is_valid_hostname(h.split('.').next().unwrap_or(h))
    {
        errors.insert(
            "hostname".into(),
            vec![format!("'{h}' is not a valid hostname.")],
        );
    }
    let power_type = i.get("power_type").unwrap_or("").trim().to_string();
    if !power_type.is_empty() && !power::is_known_power_type(&power_type) {
        errors.insert(
            "power_type".into(),
            vec![format!("'{power_type}' is not a valid power type.")],
        );
    }
    let is_admin = user.is_some_and(|u| u.is_superuser);
    let commission = i.bool("commission")?.unwrap_or(is_admin);
    let deployed = i.bool("deployed")?.unwrap_or(false);
    if deployed && user.is_none() {
        return Err(Error::Unauthorized(
            "deployed=true needs an authenticated user.".into(),
        ));
    }
    if commission && !is_admin {
        return Err(Error::Forbidden(
            "Only admins can commission machines.".into(),
        ));
    }
    let cpu_count = i.int("cpu_count")?.unwrap_or(0);
    let memory = i.int("memory")?.unwrap_or(0);
    if !(0..=100_000).contains(&cpu_count) {
        errors.insert(
            "cpu_count".into(),
            vec!["cpu_count is out of range.".into()],
        );
    }
    if !(0..=1i64 << 40).contains(&memory) {
        errors.insert("memory".into(), vec!["memory is out of range.".into()]);
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let params = if power_type.is_empty() {
        None
    } else {
        power_params_from(req, &power_type)?
    };
    let arch = arch.unwrap_or_default();

    let mut tx = app.db.begin().await?;
    let domain = match i.get_nonempty("domain") {
        Some(d) => domain_id(&mut tx, d).await?,
        None => 0,
    };
    let zone = match i.get_nonempty("zone") {
        Some(z) => zone_id(&mut tx, z).await?,
        None => 1,
    };
    let pool = match i.get_nonempty("pool") {
        Some(p) => pool_id(&mut tx, p).await?,
        None => 0,
    };
    let taken: Vec<String> = sqlx::query_scalar(
        "SELECT mac_address FROM interfaces WHERE type = 'physical' AND mac_address = ANY($1)",
    )
    .bind(&macs)
    .fetch_all(&mut *tx)
    .await?;
    if !taken.is_empty() {
        return Err(Error::field(
            "mac_addresses",
            format!(
                "One or more MAC addresses is invalid. ({} already in use.)",
                taken.join(", ")
            ),
        ));
    }
    let hostname = match hostname {
        Some(h) => {
            let h = h.split('.').next().unwrap_or(&h).to_string();
            if hostname_taken(&mut tx, &h, domain, -1).await? {
                return Err(Error::field(
                    "hostname",
                    format!("Node with hostname \"{h}\" already exists."),
                ));
            }
            h
        }
        None => {
            let mut h = ids::new_hostname();
            while hostname_taken(&mut tx, &h, domain, -1).await? {
                h = format!(
                    "{}-{}",
                    ids::new_hostname(),
                    auth::random_string(4).to_lowercase()
                );
            }
            h
        }
    };
    let sealed = params.as_ref().map(|p| {
        app.secrets
            .seal(Value::Object(p.clone()).to_string().as_bytes())
    });
    let status = if deployed {
        NodeStatus::Deployed
    } else {
        NodeStatus::New
    };
    let owner = if deployed { user.map(|u| u.id) } else { None };
    let mut system_id = ids::new_system_id();
    let mid: i64 = loop {
        let r = sqlx::query(
            "INSERT INTO machines (system_id, hostname, domain_id, description, status, owner_id,
                 zone_id, pool_id, architecture, cpu_count, memory, power_type, power_parameters,
                 min_hwe_kernel, hardware_uuid, enlisting)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
             ON CONFLICT (system_id) DO NOTHING RETURNING id",
        )
        .bind(&system_id)
        .bind(&hostname)
        .bind(domain)
        .bind(i.get("description").unwrap_or(""))
        .bind(status.as_i16())
        .bind(owner)
        .bind(zone)
        .bind(pool)
        .bind(&arch)
        .bind(cpu_count as i32)
        .bind(memory)
        .bind(&power_type)
        .bind(sealed.clone())
        .bind(i.get("min_hwe_kernel").unwrap_or(""))
        .bind(i.get_nonempty("hardware_uuid"))
        .bind(user.is_none())
        .fetch_optional(&mut *tx)
        .await?;
        match r {
            Some(r) => break r.get(0),
            None => system_id = ids::new_system_id(),
        }
    };
    for (n, mac) in macs.iter().enumerate() {
        sqlx::query(
            "INSERT INTO interfaces (machine_id, name, mac_address, is_boot) VALUES ($1, $2, $3, $4)",
        )
        .bind(mid)
        .bind(format!("eth{n}"))
        .bind(mac)
        .bind(n == 0)
        .execute(&mut *tx)
        .await?;
    }
    let mut core = lifecycle::lock(&mut tx, &system_id).await?;
    let who = user.map(|u| u.username.as_str());
    let what = if user.is_none() {
        "Enlisted"
    } else {
        "Created"
    };
    lifecycle::event(
        &mut tx,
        Some(&core),
        who,
        "INFO",
        what,
        &format!("{what} machine {hostname}."),
    )
    .await?;
    if commission && !deployed {
        lifecycle::transition(
            &mut tx,
            &mut core,
            NodeStatus::Commissioning,
            who,
            "Commissioning",
        )
        .await?;
        power_intent(&mut tx, &core, who, "on").await?;
    }
    tx.commit().await?;
    let m = fetch(app, &system_id).await?;
    if user.is_none() {
        return Ok(anonymous_view(&m));
    }
    Ok(machine_response(&m))
}

async fn update(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let user = req.admin()?;
    let i = &req.input;
    let mut tx = app.db.begin().await?;
    let core = lifecycle::lock(&mut tx, system_id).await?;
    if core.locked {
        return Err(Error::Conflict(format!(
            "Cannot update machine {}: it is locked.",
            core.hostname
        )));
    }
    let cur = sqlx::query("SELECT domain_id, power_parameters FROM machines WHERE id = $1")
        .bind(core.id)
        .fetch_one(&mut *tx)
        .await?;
    let mut domain: i64 = cur.get(0);
    let old_params: Option<Vec<u8>> = cur.get(1);
    if let Some(d) = i.get_nonempty("domain") {
        domain = domain_id(&mut tx, d).await?;
    }
    let mut sets: QueryBuilder<Postgres> =
        QueryBuilder::new("UPDATE machines SET updated = now(), domain_id = ");
    sets.push_bind(domain);
    if let Some(h) = i.get_nonempty("hostname") {
        let h = h.split('.').next().unwrap_or(h).to_string();
        if !ids::is_valid_hostname(&h) {
            return Err(Error::field(
                "hostname",
                format!("'{h}' is not a valid hostname."),
            ));
        }
        if hostname_taken(&mut tx, &h, domain, core.id).await? {
            return Err(Error::field(
                "hostname",
                format!("Node with hostname \"{h}\" already exists."),
            ));
        }
        sets.push(", hostname = ").push_bind(h);
    }
    if let Some(d) = i.get("description") {
        sets.push(", description = ").push_bind(d.to_string());
    }
    if let Some(z) = i.get_nonempty("zone") {
        let z = zone_id(&mut tx, z).await?;
        sets.push(", zone_id = ").push_bind(z);
    }
    if let Some(p) = i.get_nonempty("pool") {
        let p = pool_id(&mut tx, p).await?;
        sets.push(", pool_id = ").push_bind(p);
    }
    if let Some(a) = i.get_nonempty("architecture") {
        let a = normalise_arch(a, i.get_nonempty("subarchitecture"))?;
        sets.push(", architecture = ").push_bind(a);
    }
    if let Some(k) = i.get("min_hwe_kernel") {
        sets.push(", min_hwe_kernel = ").push_bind(k.to_string());
    }
    if let Some(n) = i.int("cpu_count")? {
        if !(0..=100_000).contains(&n) {
            return Err(Error::field("cpu_count", "cpu_count is out of range."));
        }
        sets.push(", cpu_count = ").push_bind(n as i32);
    }
    if let Some(n) = i.int("memory")? {
        if !(0..=1i64 << 40).contains(&n) {
            return Err(Error::field("memory", "memory is out of range."));
        }
        sets.push(", memory = ").push_bind(n);
    }
    if let Some(n) = i.int("swap_size")? {
        sets.push(", swap_size = ").push_bind(n);
    }
    if let Some(u) = i.get("hardware_uuid") {
        sets.push(", hardware_uuid = ")
            .push_bind(Some(u.to_string()).filter(|s| !s.is_empty()));
    }
    let new_type = i.get("power_type").map(|s| s.trim().to_string());
    let ptype = new_type.clone().unwrap_or(core.power_type.clone());
    if !ptype.is_empty() && !power::is_known_power_type(&ptype) {
        return Err(Error::field(
            "power_type",
            format!("'{ptype}' is not a valid power type."),
        ));
    }
    let given = if ptype.is_empty() {
        None
    } else {
        power_params_from(req, &ptype)?
    };
    if new_type.is_some() || given.is_some() {
        // Same driver: merge into the stored parameters; new driver: replace.
        let mut merged = Map::new();
        if new_type.as_deref().is_none_or(|t| t == core.power_type)
            && let Some(old) = old_params
            && let Ok(Value::Object(o)) = decrypt_params(app, &old)
        {
            merged = o;
        }
        merged.extend(given.unwrap_or_default());
        sets.push(", power_type = ").push_bind(ptype);
        sets.push(", power_parameters = ").push_bind(
            app.secrets
                .seal(Value::Object(merged).to_string().as_bytes()),
        );
    }
    sets.push(" WHERE id = ").push_bind(core.id);
    sets.build().execute(&mut *tx).await?;
    lifecycle::event(
        &mut tx,
        Some(&core),
        Some(&user.username),
        "INFO",
        "Updated",
        "Machine updated.",
    )
    .await?;
    tx.commit().await?;
    Ok(machine_response(&fetch(app, system_id).await?))
}

fn decrypt_params(app: &App, sealed: &[u8]) -> Result<Value> {
    let plain = app.secrets.open(sealed).map_err(Error::Internal)?;
    serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.into()))
}

async fn delete(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let user = req.admin()?;
    let mut tx = app.db.begin().await?;
    let core = lifecycle::lock(&mut tx, system_id).await?;
    if core.locked {
        return Err(Error::Conflict(format!(
            "Cannot delete machine {}: it is locked.",
            core.hostname
        )));
    }
    lifecycle::event(
        &mut tx,
        Some(&core),
        Some(&user.username),
        "INFO",
        "Deleted",
        &format!("Deleted machine {}.", core.hostname),
    )
    .await?;
    sqlx::query("DELETE FROM machines WHERE id = $1")
        .bind(core.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // Its node tokens and cached renderings went with it.
    app.tokens.clear();
    app.render.remove(core.id);
    Ok(no_content())
}

// ---------------------------------------------------------------- actions

/// Record a power request. Until racks drive BMCs, a manual machine is done
/// (the operator acts by hand) and other drivers keep the request on record.
pub async fn power_intent(
    tx: &mut PgConnection,
    m: &Core,
    who: Option<&str>,
    state: &str,
) -> Result<()> {
    let desc = if m.power_type == "manual" || m.power_type.is_empty() {
        format!("Power {state} (manual power type: change the power by hand).")
    } else {
        format!(
            "Power {state} requested; waiting for a rack controller to drive the {} BMC.",
            m.power_type
        )
    };
    lifecycle::event(tx, Some(m), who, "INFO", &format!("Power {state}"), &desc).await
}

fn parse_series(req: &Req, default_os: &str, default_series: &str) -> Result<(String, String)> {
    let good = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    let os = req
        .input
        .get_nonempty("osystem")
        .unwrap_or(default_os)
        .to_string();
    let (os, series) = match req.input.get_nonempty("distro_series") {
        Some(ds) => match ds.split_once('/') {
            Some((o, s)) => (o.to_string(), s.to_string()),
            None => (os, ds.to_string()),
        },
        None => (os, default_series.to_string()),
    };
    if !good(&os) || !good(&series) {
        return Err(Error::field(
            "distro_series",
            format!("'{os}/{series}' is not a valid OS/series."),
        ));
    }
    Ok((os, series))
}

async fn run_action(app: &App, req: &Req, system_id: &str, action: Action) -> Result<Response> {
    let user = req.user()?;
    if action.perm() == Perm::Admin && !user.is_superuser {
        return Err(Error::Forbidden(format!(
            "You do not have permission to {} this machine (admin only).",
            action.op().replace('_', " ")
        )));
    }
    let who = Some(user.username.as_str());
    let i = &req.input;
    let comment = i.get_nonempty("comment").map(str::to_string);
    let mut tx = app.db.begin().await?;
    let mut m = lifecycle::lock(&mut tx, system_id).await?;
    let unowned_deploy = matches!(action, Action::Deploy | Action::Allocate)
        && m.owner_id.is_none()
        && m.status == NodeStatus::Ready;
    if !can_edit(user, m.owner_id) && !unowned_deploy {
        return Err(Error::Forbidden(format!(
            "You do not have permission to {} this machine.",
            action.op().replace('_', " ")
        )));
    }
    if m.locked && action != Action::Unlock {
        return Err(Error::Conflict(format!(
            "Cannot {} machine {}: it is locked.",
            action.op().replace('_', " "),
            m.hostname
        )));
    }
    if !action.allowed_from(m.status) {
        return Err(Error::Conflict(action.refusal(m.status)));
    }
    let desc = |d: &str| match &comment {
        Some(c) => format!("{d} ({c})"),
        None => d.to_string(),
    };
    match action {
        Action::Allocate => {
            allocate::claim(
                &mut tx,
                &mut m,
                user,
                i.get("agent_name").unwrap_or(""),
                &desc("Allocated"),
            )
            .await?;
        }
        Action::Deploy => {
            let def_os = config::get_str(&mut *tx, "default_osystem").await?;
            let def_series = config::get_str(&mut *tx, "default_distro_series").await?;
            let (os, series) = parse_series(req, &def_os, &def_series)?;
            let user_data = match i.text_or_file("user_data") {
                Some(b) if !b.is_empty() => Some(decode_user_data(&b)?),
                _ => None,
            };
            let ephemeral = i.bool("ephemeral_deploy")?.unwrap_or(false);
            if m.status == NodeStatus::Ready {
                allocate::claim(
                    &mut tx,
                    &mut m,
                    user,
                    i.get("agent_name").unwrap_or(""),
                    "Allocated for deployment",
                )
                .await?;
            }
            sqlx::query(
                "UPDATE machines SET osystem = $2, distro_series = $3, hwe_kernel = $4,
                        user_data = $5, ephemeral_deploy = $6, netboot = true,
                        agent_name = CASE WHEN $7 = '' THEN agent_name ELSE $7 END
                  WHERE id = $1",
            )
            .bind(m.id)
            .bind(&os)
            .bind(&series)
            .bind(i.get_nonempty("hwe_kernel"))
            .bind(user_data)
            .bind(ephemeral)
            .bind(i.get("agent_name").unwrap_or(""))
            .execute(&mut *tx)
            .await?;
            lifecycle::transition(
                &mut tx,
                &mut m,
                NodeStatus::Deploying,
                who,
                &desc(&format!("Deploying {os}/{series}")),
            )
            .await?;
            power_intent(&mut tx, &m, who, "on").await?;
        }
        Action::Release => {
            let erase = i.bool("erase")?.unwrap_or(false)
                || i.bool("secure_erase")?.unwrap_or(false)
                || i.bool("quick_erase")?.unwrap_or(false)
                || config::get_bool(&mut *tx, "enable_disk_erasing_on_release").await?;
            if erase {
                lifecycle::transition(
                    &mut tx,
                    &mut m,
                    NodeStatus::DiskErasing,
                    who,
                    &desc("Erasing disks"),
                )
                .await?;
                power_intent(&mut tx, &m, who, "on").await?;
            } else {
                lifecycle::transition(
                    &mut tx,
                    &mut m,
                    NodeStatus::Releasing,
                    who,
                    &desc("Releasing"),
                )
                .await?;
                power_intent(&mut tx, &m, who, "off").await?;
                if m.power_type == "manual" || m.power_type.is_empty() || m.power_state == "off" {
                    lifecycle::transition(&mut tx, &mut m, NodeStatus::Ready, who, "Released")
                        .await?;
                }
            }
        }
        Action::Commission => {
            for k in [
                "enable_ssh",
                "skip_bmc_config",
                "skip_networking",
                "skip_storage",
            ] {
                i.bool(k)?;
            }
            lifecycle::transition(
                &mut tx,
                &mut m,
                NodeStatus::Commissioning,
                who,
                &desc("Commissioning"),
            )
            .await?;
            power_intent(&mut tx, &m, who, "on").await?;
        }
        Action::Test => {
            i.bool("enable_ssh")?;
            lifecycle::transition(&mut tx, &mut m, NodeStatus::Testing, who, &desc("Testing"))
                .await?;
            power_intent(&mut tx, &m, who, "on").await?;
        }
        Action::Abort => {
            let to = match m.status {
                NodeStatus::Testing => m
                    .previous_status
                    .filter(|p| NodeStatus::Testing.can_transition_to(*p))
                    .unwrap_or(NodeStatus::Ready),
                s => action
                    .first_target(s)
                    .ok_or_else(|| Error::Conflict(action.refusal(s)))?,
            };
            let what = format!("Aborted {}", m.status.label().to_lowercase());
            lifecycle::transition(&mut tx, &mut m, to, who, &desc(&what)).await?;
            power_intent(&mut tx, &m, who, "off").await?;
        }
        Action::MarkBroken => {
            let reason = i
                .get_nonempty("comment")
                .or(i.get_nonempty("error_description"))
                .unwrap_or("")
                .to_string();
            lifecycle::transition(
                &mut tx,
                &mut m,
                NodeStatus::Broken,
                who,
                &desc("Marked broken"),
            )
            .await?;
            sqlx::query("UPDATE machines SET error_description = $2 WHERE id = $1")
                .bind(m.id)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
        }
        Action::MarkFixed => {
            let to = if m.previous_status == Some(NodeStatus::Deployed) {
                NodeStatus::Deployed
            } else {
                NodeStatus::Ready
            };
            lifecycle::transition(&mut tx, &mut m, to, who, &desc("Marked fixed")).await?;
            sqlx::query("UPDATE machines SET error_description = '' WHERE id = $1")
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
        }
        Action::OverrideFailedTesting => {
            let to = m
                .previous_status
                .filter(|p| NodeStatus::FailedTesting.can_transition_to(*p))
                .unwrap_or(NodeStatus::Ready);
            lifecycle::transition(&mut tx, &mut m, to, who, &desc("Overrode failed testing"))
                .await?;
        }
        Action::RescueMode => {
            lifecycle::transition(
                &mut tx,
                &mut m,
                NodeStatus::EnteringRescueMode,
                who,
                &desc("Entering rescue mode"),
            )
            .await?;
            power_intent(&mut tx, &m, who, "cycle").await?;
        }
        Action::ExitRescueMode => {
            lifecycle::transition(
                &mut tx,
                &mut m,
                NodeStatus::ExitingRescueMode,
                who,
                &desc("Exiting rescue mode"),
            )
            .await?;
            power_intent(&mut tx, &m, who, "off").await?;
            if m.power_type == "manual" || m.power_type.is_empty() {
                let to = m
                    .previous_status
                    .filter(|p| NodeStatus::ExitingRescueMode.can_transition_to(*p))
                    .unwrap_or(NodeStatus::Ready);
                lifecycle::transition(&mut tx, &mut m, to, who, "Exited rescue mode").await?;
            }
        }
        Action::Lock | Action::Unlock => {
            let lock = action == Action::Lock;
            if m.locked == lock {
                return Err(Error::Conflict(format!(
                    "Machine {} is {}locked.",
                    m.hostname,
                    if lock { "already " } else { "not " }
                )));
            }
            sqlx::query("UPDATE machines SET locked = $2 WHERE id = $1")
                .bind(m.id)
                .bind(lock)
                .execute(&mut *tx)
                .await?;
            let what = if lock { "Locked" } else { "Unlocked" };
            lifecycle::event(&mut tx, Some(&m), who, "INFO", what, &desc(what)).await?;
        }
        Action::PowerOn => {
            if m.owner_id.is_none() {
                return Err(Error::Conflict(format!(
                    "Can't start machine {}: it hasn't been allocated.",
                    m.hostname
                )));
            }
            power_intent(&mut tx, &m, who, "on").await?;
        }
        Action::PowerOff => {
            if let Some(mode) = i.get_nonempty("stop_mode")
                && mode != "soft"
                && mode != "hard"
            {
                return Err(Error::field(
                    "stop_mode",
                    "stop_mode must be 'soft' or 'hard'.",
                ));
            }
            power_intent(&mut tx, &m, who, "off").await?;
        }
    }
    tx.commit().await?;
    Ok(machine_response(&fetch(app, system_id).await?))
}

/// `user_data` is base64 (MAAS); raw text is accepted when it is not.
fn decode_user_data(b: &[u8]) -> Result<Vec<u8>> {
    use base64::Engine;
    let clean: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(&clean) {
        Ok(d) => Ok(d),
        Err(_) => Err(Error::field(
            "user_data",
            "user_data must be base64-encoded.",
        )),
    }
}

async fn set_owner_data(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let user = req.user()?;
    let mut tx = app.db.begin().await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    if !can_edit(user, m.owner_id) {
        return Err(Error::Forbidden("You do not own this machine.".into()));
    }
    let cur: Value = sqlx::query_scalar("SELECT owner_data FROM machines WHERE id = $1")
        .bind(m.id)
        .fetch_one(&mut *tx)
        .await?;
    let mut data = cur.as_object().cloned().unwrap_or_default();
    for (k, v) in &req.input.params {
        if k == "op" {
            continue;
        }
        let v = v.last().cloned().unwrap_or_default();
        if v.is_empty() {
            data.remove(k);
        } else {
            data.insert(k.clone(), Value::String(v));
        }
    }
    sqlx::query("UPDATE machines SET owner_data = $2 WHERE id = $1")
        .bind(m.id)
        .bind(Value::Object(data))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(machine_response(&fetch(app, system_id).await?))
}

// ---------------------------------------------------------------- handlers

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => read(&app, &req).await,
        (&Method::POST, None) => create(&app, &req).await,
        (&Method::POST, Some("allocate")) => allocate::allocate(&app, &req).await,
        (&Method::GET, Some("is_registered")) => {
            let mac = req
                .input
                .get_nonempty("mac_address")
                .ok_or_else(|| Error::field("mac_address", "This field is required."))?;
            let mac = ids::normalize_mac(mac)
                .ok_or_else(|| Error::field("mac_address", "Invalid MAC address."))?;
            let found: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM interfaces WHERE mac_address = $1)",
            )
            .bind(mac)
            .fetch_one(&app.db)
            .await?;
            Ok(crate::api::app::json(&found))
        }
        (&Method::GET, Some("list_allocated")) => {
            let u = req.user()?;
            let mut q = QueryBuilder::<Postgres>::new(MACHINE_VERSIONS);
            q.push(" WHERE m.owner_id = ")
                .push_bind(u.id)
                .push(" ORDER BY m.id");
            list_response(&app, u, q, None).await
        }
        (&Method::GET, Some("power_parameters")) => {
            req.admin()?;
            let wanted = req.input.list("id");
            let rows = sqlx::query(
                "SELECT system_id, power_parameters FROM machines
                  WHERE cardinality($1::text[]) = 0 OR system_id = ANY($1) ORDER BY id",
            )
            .bind(&wanted)
            .fetch_all(&app.db)
            .await?;
            let mut out = Map::new();
            for r in rows {
                let p: Option<Vec<u8>> = r.get(1);
                let v = match p {
                    Some(s) => decrypt_params(&app, &s)?,
                    None => json!({}),
                };
                out.insert(r.get(0), v);
            }
            Ok(crate::api::app::json(&out))
        }
        (&Method::POST, Some("release")) => {
            let ids_ = req.input.list("machines");
            let mut released = Vec::new();
            for sid in &ids_ {
                run_action(&app, &req, sid, Action::Release).await?;
                released.push(sid.clone());
            }
            Ok(crate::api::app::json(&released))
        }
        (&Method::POST, Some(op @ ("accept" | "accept_all"))) => {
            let u = req.admin()?;
            let ids_: Vec<String> = if op == "accept_all" {
                sqlx::query_scalar("SELECT system_id FROM machines WHERE status = 0 ORDER BY id")
                    .fetch_all(&app.db)
                    .await?
            } else {
                req.input.list("machines")
            };
            let mut accepted = Vec::new();
            for sid in &ids_ {
                let mut tx = app.db.begin().await?;
                let mut m = lifecycle::lock(&mut tx, sid).await?;
                if m.status == NodeStatus::New {
                    lifecycle::transition(
                        &mut tx,
                        &mut m,
                        NodeStatus::Commissioning,
                        Some(&u.username),
                        "Accepted; commissioning",
                    )
                    .await?;
                    power_intent(&mut tx, &m, Some(&u.username), "on").await?;
                    tx.commit().await?;
                    accepted.push(sid.clone());
                }
            }
            let mut q = QueryBuilder::<Postgres>::new(MACHINE_VERSIONS);
            q.push(" WHERE m.system_id = ANY(")
                .push_bind(accepted)
                .push(") ORDER BY m.id");
            list_response(&app, u, q, None).await
        }
        (&Method::POST, Some("set_zone")) => {
            let u = req.admin()?;
            let zone = req
                .input
                .get_nonempty("zone")
                .ok_or_else(|| Error::field("zone", "This field is required."))?;
            let mut tx = app.db.begin().await?;
            let z = zone_id(&mut tx, zone).await?;
            let n = sqlx::query("UPDATE machines SET zone_id = $1 WHERE system_id = ANY($2)")
                .bind(z)
                .bind(req.input.list("nodes"))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            lifecycle::event(
                &mut tx,
                None,
                Some(&u.username),
                "INFO",
                "Zone set",
                &format!("{n} machines moved to zone {zone}."),
            )
            .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let u = req.user()?;
            Ok(machine_response(&fetch_visible(&app, u, &system_id).await?))
        }
        (&Method::PUT, None) => update(&app, &req, &system_id).await,
        (&Method::DELETE, None) => delete(&app, &req, &system_id).await,
        (&Method::GET, Some("query_power_state")) => {
            let u = req.user()?;
            let m = fetch_visible(&app, u, &system_id).await?;
            Ok(crate::api::app::json(&json!({"state": m.row.power_state})))
        }
        (&Method::GET, Some("power_parameters")) => {
            req.admin()?;
            let p: Option<Option<Vec<u8>>> =
                sqlx::query_scalar("SELECT power_parameters FROM machines WHERE system_id = $1")
                    .bind(&system_id)
                    .fetch_optional(&app.db)
                    .await?;
            let p = p.ok_or_else(|| lifecycle::not_found(&system_id))?;
            let v = match p {
                Some(s) => decrypt_params(&app, &s)?,
                None => json!({}),
            };
            Ok(crate::api::app::json(&v))
        }
        (&Method::GET | &Method::POST, Some("get_token")) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            let m = lifecycle::lock(&mut tx, &system_id).await?;
            let (ck, tk, ts) = node_token(&mut tx, m.id).await?;
            tx.commit().await?;
            Ok(crate::api::app::json(&json!({
                "consumer_key": ck, "token_key": tk, "token_secret": ts
            })))
        }
        (&Method::POST, Some("set_owner_data")) => set_owner_data(&app, &req, &system_id).await,
        (&Method::POST, Some(op)) => match Action::from_op(op) {
            Some(a) => run_action(&app, &req, &system_id, a).await,
            None => Err(req.unknown_op()),
        },
        _ => Err(req.unknown_op()),
    }
}

/// `nodes/{system_id}/interfaces/`: list; `op=create_physical` (admin).
pub async fn interfaces(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let m = fetch_visible(&app, u, &system_id).await?;
            Ok(crate::api::app::json(&m.related.interfaces))
        }
        (&Method::POST, Some("create_physical")) => {
            let u = req.admin()?;
            let i = &req.input;
            let mac = i
                .get_nonempty("mac_address")
                .ok_or_else(|| Error::field("mac_address", "This field is required."))?;
            let mac = ids::normalize_mac(mac).ok_or_else(|| {
                Error::field(
                    "mac_address",
                    format!("'{mac}' is not a valid MAC address."),
                )
            })?;
            let mut tx = app.db.begin().await?;
            let m = lifecycle::lock(&mut tx, &system_id).await?;
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM interfaces WHERE machine_id = $1")
                    .bind(m.id)
                    .fetch_one(&mut *tx)
                    .await?;
            let name = i
                .get_nonempty("name")
                .map(str::to_string)
                .unwrap_or(format!("eth{n}"));
            if name.len() > 15
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(Error::field(
                    "name",
                    format!("'{name}' is not a valid interface name."),
                ));
            }
            let vlan: Option<i64> = match i.int("vlan")? {
                Some(v) => Some(
                    sqlx::query_scalar("SELECT id FROM vlans WHERE id = $1")
                        .bind(v)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| Error::field("vlan", format!("No such VLAN: {v}.")))?,
                ),
                None => None,
            };
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM interfaces WHERE type = 'physical' AND mac_address = $1)",
            )
            .bind(&mac)
            .fetch_one(&mut *tx)
            .await?;
            if taken {
                return Err(Error::field(
                    "mac_address",
                    format!("MAC address {mac} is already in use."),
                ));
            }
            let speed = i.int("link_speed")?.unwrap_or(0);
            sqlx::query(
                "INSERT INTO interfaces (machine_id, name, mac_address, tags, vlan_id, link_speed, interface_speed, is_boot)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
            )
            .bind(m.id)
            .bind(&name)
            .bind(&mac)
            .bind(i.list("tags"))
            .bind(vlan)
            .bind(speed as i32)
            .bind(n == 0)
            .execute(&mut *tx)
            .await?;
            lifecycle::event(
                &mut tx,
                Some(&m),
                Some(&u.username),
                "INFO",
                "Interface added",
                &format!("Added interface {name} ({mac})."),
            )
            .await?;
            tx.commit().await?;
            let full = fetch(&app, &system_id).await?;
            let iface = full
                .related
                .interfaces
                .iter()
                .find(|x| x.name == name)
                .cloned();
            Ok(crate::api::app::json(&iface))
        }
        _ => Err(req.unknown_op()),
    }
}

/// `nodes/{system_id}/blockdevices/`: list; create a physical disk (admin).
pub async fn blockdevices(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let m = fetch_visible(&app, u, &system_id).await?;
            Ok(crate::api::app::json(&m.related.disks))
        }
        (&Method::POST, None) => {
            let u = req.admin()?;
            let i = &req.input;
            let name = i
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?
                .to_string();
            if name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(Error::field(
                    "name",
                    format!("'{name}' is not a valid device name."),
                ));
            }
            let size = i
                .int("size")?
                .ok_or_else(|| Error::field("size", "This field is required."))?;
            if size < 4 * 1024 * 1024 {
                return Err(Error::field(
                    "size",
                    "Ensure this value is greater than or equal to 4194304.",
                ));
            }
            let block_size = i.int("block_size")?.unwrap_or(512);
            if !(512..=65536).contains(&block_size) {
                return Err(Error::field(
                    "block_size",
                    "Ensure this value is between 512 and 65536.",
                ));
            }
            let mut tx = app.db.begin().await?;
            let m = lifecycle::lock(&mut tx, &system_id).await?;
            sqlx::query(
                "INSERT INTO block_devices (machine_id, name, size, block_size, tags, model, serial, id_path)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(m.id)
            .bind(&name)
            .bind(size)
            .bind(block_size as i32)
            .bind(i.list("tags"))
            .bind(i.get("model").unwrap_or(""))
            .bind(i.get("serial").unwrap_or(""))
            .bind(i.get_nonempty("id_path"))
            .execute(&mut *tx)
            .await?;
            lifecycle::event(
                &mut tx,
                Some(&m),
                Some(&u.username),
                "INFO",
                "Disk added",
                &format!("Added block device {name}."),
            )
            .await?;
            tx.commit().await?;
            let full = fetch(&app, &system_id).await?;
            let d = full.related.disks.iter().find(|x| x.name == name).cloned();
            Ok(crate::api::app::json(&d))
        }
        _ => Err(req.unknown_op()),
    }
}
