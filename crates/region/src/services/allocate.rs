//! `machines/?op=allocate`: MAAS constraint semantics, cheapest match first,
//! atomic across any number of region processes on one database.
//!
//! Without storage/interface constraints the whole claim is one SQL statement
//! (`FOR UPDATE SKIP LOCKED` on the READY-by-cost partial index, the status
//! update and the event insert). With them, candidates are matched in Rust in
//! cost order and claimed one by one with a status re-check.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use maas_model::NodeStatus;
use maas_model::constraints::{
    self, Constraints, DiskFacts, InterfaceFacts, match_interfaces, match_storage,
};
use serde_json::json;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::api::app::{App, Req, json_bytes};
use crate::error::{Error, Result};
use crate::render::{FullMachine, MACHINE_SELECT, MachineRow, machine_to_json};
use crate::services::auth::User;
use crate::services::lifecycle::{self, Core};
use crate::services::load::complete;

/// Claim a locked READY machine for `user` (deploy of a READY machine).
pub async fn claim(
    tx: &mut PgConnection,
    m: &mut Core,
    user: &User,
    agent_name: &str,
    desc: &str,
) -> Result<()> {
    sqlx::query("UPDATE machines SET owner_id = $2, agent_name = $3 WHERE id = $1")
        .bind(m.id)
        .bind(user.id)
        .bind(agent_name)
        .execute(&mut *tx)
        .await?;
    m.owner_id = Some(user.id);
    lifecycle::transition(tx, m, NodeStatus::Allocated, Some(&user.username), desc).await
}

/// Constraints with names resolved to ids.
struct Resolved {
    c: Constraints,
    zone: Option<i64>,
    not_zones: Vec<i64>,
    pool: Option<i64>,
    not_pools: Vec<i64>,
}

async fn ids_by_name(
    db: &sqlx::PgPool,
    table: &str,
    field: &str,
    names: &[String],
    what: &str,
) -> Result<Vec<i64>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, name FROM {table} WHERE name = ANY($1)"
    )))
    .bind(names)
    .fetch_all(db)
    .await?;
    let found: Vec<String> = rows.iter().map(|r| r.get::<String, _>(1)).collect();
    let missing: Vec<&String> = names.iter().filter(|n| !found.contains(n)).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
        return Err(Error::field(
            field,
            format!("No such {what}(s): {}.", list.join(", ")),
        ));
    }
    Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
}

async fn resolve(app: &App, req: &Req) -> Result<Resolved> {
    let c = Constraints::parse(&req.input.params).map_err(Error::Validation)?;
    let zone = match &c.zone {
        Some(z) => {
            Some(ids_by_name(&app.db, "zones", "zone", std::slice::from_ref(z), "zone").await?[0])
        }
        None => None,
    };
    let pool = match &c.pool {
        Some(p) => Some(
            ids_by_name(
                &app.db,
                "resource_pools",
                "pool",
                std::slice::from_ref(p),
                "pool",
            )
            .await?[0],
        ),
        None => None,
    };
    let not_zones = ids_by_name(&app.db, "zones", "not_in_zone", &c.not_in_zone, "zone").await?;
    let not_pools = ids_by_name(
        &app.db,
        "resource_pools",
        "not_in_pool",
        &c.not_in_pool,
        "pool",
    )
    .await?;
    ids_by_name(&app.db, "tags", "tags", &c.tags, "tag").await?;
    Ok(Resolved {
        c,
        zone,
        not_zones,
        pool,
        not_pools,
    })
}

/// WHERE clauses for everything SQL can check.
fn push_filters(q: &mut QueryBuilder<Postgres>, r: &Resolved) {
    let c = &r.c;
    q.push(" m.status = 4 AND m.owner_id IS NULL");
    if let Some(s) = &c.system_id {
        q.push(" AND m.system_id = ").push_bind(s.clone());
    }
    if let Some(n) = &c.name {
        let (host, domain) = match n.split_once('.') {
            Some((h, d)) => (h.to_string(), Some(d.to_string())),
            None => (n.clone(), None),
        };
        q.push(" AND m.hostname = ").push_bind(host);
        if let Some(d) = domain {
            q.push(" AND m.domain_id = (SELECT id FROM domains WHERE name = ")
                .push_bind(d)
                .push(")");
        }
    }
    for (arches, neg) in [(&c.arch, false), (&c.not_arch, true)] {
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
                q.push(" OR m.architecture = ").push_bind(a.clone());
            } else {
                q.push(" OR split_part(m.architecture, '/', 1) = ")
                    .push_bind(a.clone());
            }
        }
        q.push(")");
    }
    if let Some(n) = c.cpu_count {
        q.push(" AND m.cpu_count >= ").push_bind(n);
    }
    if let Some(n) = c.cpu_speed {
        q.push(" AND m.cpu_speed >= ").push_bind(n);
    }
    if let Some(n) = c.mem {
        q.push(" AND m.memory >= ").push_bind(n);
    }
    if !c.tags.is_empty() {
        q.push(" AND m.tag_names @> ").push_bind(c.tags.clone());
    }
    if !c.not_tags.is_empty() {
        q.push(" AND NOT (m.tag_names && ")
            .push_bind(c.not_tags.clone())
            .push(")");
    }
    if let Some(z) = r.zone {
        q.push(" AND m.zone_id = ").push_bind(z);
    }
    if !r.not_zones.is_empty() {
        q.push(" AND NOT (m.zone_id = ANY(")
            .push_bind(r.not_zones.clone())
            .push("))");
    }
    if let Some(p) = r.pool {
        q.push(" AND m.pool_id = ").push_bind(p);
    }
    if !r.not_pools.is_empty() {
        q.push(" AND NOT (m.pool_id = ANY(")
            .push_bind(r.not_pools.clone())
            .push("))");
    }
    if let Some(p) = &c.power_state {
        q.push(" AND m.power_state = ").push_bind(p.clone());
    }
    if let Some(p) = &c.not_power_state {
        q.push(" AND m.power_state <> ").push_bind(p.clone());
    }
}

/// One statement: lock the chosen READY machine(s), allocate, log the event,
/// and return the rendered row. `candidate` limits it to one machine id.
async fn claim_statement(
    app: &App,
    r: &Resolved,
    user: &User,
    desc: &str,
    candidate: Option<i64>,
) -> Result<Option<FullMachine>> {
    maas_model::status::check_transition(NodeStatus::Ready, NodeStatus::Allocated)
        .map_err(|e| Error::Internal(e.into()))?;
    let mut q = QueryBuilder::<Postgres>::new("WITH c AS (SELECT m.id FROM machines m WHERE");
    push_filters(&mut q, r);
    if let Some(id) = candidate {
        q.push(" AND m.id = ").push_bind(id);
    }
    q.push(" ORDER BY m.cost, m.id LIMIT 1 FOR UPDATE SKIP LOCKED), u AS (UPDATE machines m SET status = 10, previous_status = 4, status_expires = NULL, owner_id = ");
    q.push_bind(user.id);
    q.push(", agent_name = ")
        .push_bind(r.c.agent_name.clone().unwrap_or_default());
    q.push(", status_message = ").push_bind(desc.to_string());
    q.push(", updated = now() FROM c WHERE m.id = c.id AND m.status = 4 RETURNING m.*), e AS (INSERT INTO events (machine_id, system_id, hostname, username, level, type, description) SELECT id, system_id, hostname, ");
    q.push_bind(user.username.clone());
    q.push(", 'INFO', 'Allocated', ");
    q.push_bind(desc.to_string());
    q.push(" FROM u) ");
    q.push(MACHINE_SELECT.replace("FROM machines m", "FROM u m"));
    let row = app
        .hot
        .run(async |c| q.build().fetch_optional(c).await)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let row = MachineRow::from_row(&row)?;
    Ok(complete(app, vec![row]).await?.pop())
}

/// Candidate READY machines in allocation order (no locks).
async fn candidates(
    app: &App,
    r: &Resolved,
    offset: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let mut q = QueryBuilder::<Postgres>::new("SELECT m.id, m.system_id FROM machines m WHERE");
    push_filters(&mut q, r);
    q.push(" ORDER BY m.cost, m.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = q.build().fetch_all(&app.db).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn disk_facts(app: &App, ids: &[i64]) -> Result<BTreeMap<i64, Vec<DiskFacts>>> {
    let rows = sqlx::query(
        "SELECT machine_id, id, name, size, tags FROM block_devices WHERE machine_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&app.db)
    .await?;
    let mut out: BTreeMap<i64, Vec<DiskFacts>> = BTreeMap::new();
    for r in rows {
        out.entry(r.get(0)).or_default().push(DiskFacts {
            id: r.get(1),
            name: r.get(2),
            size_bytes: r.get(3),
            tags: r.get(4),
        });
    }
    Ok(out)
}

async fn interface_facts(app: &App, ids: &[i64]) -> Result<BTreeMap<i64, Vec<InterfaceFacts>>> {
    let rows = sqlx::query(
        "SELECT i.machine_id, i.id, i.name, i.type, i.tags, i.link_speed, m.hostname,
                v.id AS vlan_id, v.vid, v.name AS vlan_name, f.id AS fabric_id, f.name AS fabric,
                f.class_type, sp.name AS space,
                coalesce(array_agg(DISTINCT s.cidr::text) FILTER (WHERE s.id IS NOT NULL), '{}') AS cidrs,
                coalesce(array_agg(DISTINCT s.id::text) FILTER (WHERE s.id IS NOT NULL), '{}') AS subnet_ids,
                coalesce(array_agg(DISTINCT s.name) FILTER (WHERE s.id IS NOT NULL), '{}') AS subnet_names,
                coalesce(array_agg(DISTINCT host(l.ip)) FILTER (WHERE l.ip IS NOT NULL), '{}') AS ips,
                coalesce(array_agg(DISTINCT l.mode) FILTER (WHERE l.id IS NOT NULL), '{}') AS modes
           FROM interfaces i
           JOIN machines m ON m.id = i.machine_id
           LEFT JOIN vlans v ON v.id = i.vlan_id
           LEFT JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN spaces sp ON sp.id = v.space_id
           LEFT JOIN interface_links l ON l.interface_id = i.id
           LEFT JOIN subnets s ON s.id = l.subnet_id
          WHERE i.machine_id = ANY($1)
          GROUP BY i.id, m.hostname, v.id, f.id, sp.name",
    )
    .bind(ids)
    .fetch_all(&app.db)
    .await?;
    let mut out: BTreeMap<i64, Vec<InterfaceFacts>> = BTreeMap::new();
    for r in rows {
        let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let id: i64 = r.get("id");
        attrs.insert("id".into(), vec![id.to_string()]);
        attrs.insert("name".into(), vec![r.get("name")]);
        attrs.insert("type".into(), vec![r.get("type")]);
        attrs.insert("tag".into(), r.get("tags"));
        attrs.insert("hostname".into(), vec![r.get("hostname")]);
        if let Some(vid) = r.get::<Option<i32>, _>("vid") {
            attrs.insert("vid".into(), vec![vid.to_string()]);
            let vlan_id: i64 = r.get("vlan_id");
            let mut vl = vec![vlan_id.to_string()];
            vl.extend(r.get::<Option<String>, _>("vlan_name"));
            attrs.insert("vlan".into(), vl);
            let fid: i64 = r.get("fabric_id");
            attrs.insert("fabric".into(), vec![fid.to_string(), r.get("fabric")]);
            attrs.insert(
                "fabric_class".into(),
                r.get::<Option<String>, _>("class_type")
                    .into_iter()
                    .collect(),
            );
            attrs.insert(
                "space".into(),
                r.get::<Option<String>, _>("space").into_iter().collect(),
            );
        }
        let cidrs: Vec<String> = r.get("cidrs");
        let mut subnet: Vec<String> = r.get("subnet_ids");
        subnet.extend(r.get::<Vec<String>, _>("subnet_names"));
        subnet.extend(cidrs.iter().cloned());
        attrs.insert("subnet".into(), subnet);
        attrs.insert("subnet_cidr".into(), cidrs);
        attrs.insert("ip".into(), r.get("ips"));
        let mut modes: Vec<String> = r.get("modes");
        if modes.is_empty() {
            modes.push("unconfigured".into());
        }
        attrs.insert("mode".into(), modes);
        out.entry(r.get("machine_id"))
            .or_default()
            .push(InterfaceFacts {
                id,
                attrs,
                link_speed: r.get::<i32, _>("link_speed") as i64,
            });
    }
    Ok(out)
}

fn describe(params: &constraints::Params) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| {
            !["op", "agent_name", "comment", "dry_run", "verbose"].contains(&k.as_str())
        })
        .map(|(k, v)| format!("{k}={}", v.join(",")))
        .collect();
    if parts.is_empty() {
        "(none)".into()
    } else {
        parts.join(" ")
    }
}

pub async fn allocate(app: &App, req: &Req) -> Result<Response> {
    let user = req.user()?;
    let r = resolve(app, req).await?;
    let desc = match &r.c.comment {
        Some(c) => format!("Allocated ({c})"),
        None => "Allocated".to_string(),
    };
    let no_match = || {
        Error::Conflict(format!(
            "No available machine matches constraints: {}",
            describe(&req.input.params)
        ))
    };
    let needs_rust = !r.c.storage.is_empty() || !r.c.interfaces.is_empty();
    let mut by_type = json!({});
    let mut claimed: Option<FullMachine> = None;
    let id = if !needs_rust {
        if r.c.dry_run {
            candidates(app, &r, 0, 1).await?.into_iter().next()
        } else {
            claimed = claim_statement(app, &r, user, &desc, None).await?;
            claimed
                .as_ref()
                .map(|m| (m.row.id, m.row.system_id.clone()))
        }
    } else {
        let mut chosen = None;
        let mut offset = 0;
        'outer: loop {
            let batch = candidates(app, &r, offset, 200).await?;
            if batch.is_empty() {
                break;
            }
            offset += batch.len() as i64;
            let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
            let disks = disk_facts(app, &ids).await?;
            let ifaces = interface_facts(app, &ids).await?;
            for (id, system_id) in &batch {
                let disks_of = disks.get(id).map(|v| v.as_slice()).unwrap_or(&[]);
                let Some(s) = match_storage(&r.c.storage, disks_of) else {
                    continue;
                };
                let ifaces_of = ifaces.get(id).map(|v| v.as_slice()).unwrap_or(&[]);
                let Some(n) = match_interfaces(&r.c.interfaces, ifaces_of) else {
                    continue;
                };
                if !r.c.dry_run {
                    claimed = claim_statement(app, &r, user, &desc, Some(*id)).await?;
                    if claimed.is_none() {
                        // Taken by a concurrent allocation: try the next one.
                        continue;
                    }
                }
                let list = |m: BTreeMap<String, i64>| -> serde_json::Value {
                    m.into_iter().map(|(k, v)| (k, json!([v]))).collect()
                };
                if !r.c.storage.is_empty() {
                    by_type["storage"] = list(s);
                }
                if !r.c.interfaces.is_empty() {
                    by_type["interfaces"] = list(n);
                }
                chosen = Some((*id, system_id.clone()));
                break 'outer;
            }
        }
        chosen
    };
    let (_, system_id) = id.ok_or_else(no_match)?;
    let mut full = match claimed {
        Some(m) => m,
        None => crate::api::machines::fetch(app, &system_id).await?,
    };
    full.constraints_by_type = Some(by_type);
    Ok(json_bytes(StatusCode::OK, machine_to_json(&full)))
}
