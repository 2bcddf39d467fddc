//! Allocation's SQL: the one-statement claim (lock the cheapest matching
//! READY machine, allocate it, log the event, return its row), candidate
//! listing, and the disk and interface facts storage/interface constraints
//! are matched against.

use std::collections::BTreeMap;

use maas_model::NodeStatus;
use maas_model::constraints::{DiskFacts, InterfaceFacts};
use maas_model::filter::MachineFilter;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::error::Result;
use crate::store::Pool;
use crate::store::db::Hot;
use crate::store::machines::{MACHINE_SELECT, MachineRow, filter};

/// Who allocates, and why (the event and status message).
pub struct Claimant<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub agent_name: &'a str,
    pub desc: &'a str,
}

/// How a claim treats a row another transaction holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// Pass over it to the next match (concurrent allocations spread out).
    Skip,
    /// Wait for it, then take it if it still matches.
    Wait,
}

/// One statement: lock the cheapest machine `f` selects (it must select
/// READY, unowned machines), allocate it to the claimant, log the event,
/// and return its row. `None` when nothing matches (or a concurrent claim
/// took it, or with `Locked::Skip` every match was locked).
pub async fn claim(
    hot: &Hot,
    f: &MachineFilter,
    who: &Claimant<'_>,
    locked: Locked,
) -> Result<Option<MachineRow>> {
    let (ready, allocated) = (NodeStatus::Ready.as_i16(), NodeStatus::Allocated.as_i16());
    let mut q = QueryBuilder::<Postgres>::new("WITH c AS (SELECT m.id FROM machines m WHERE true");
    filter::push(&mut q, f);
    let skip = if locked == Locked::Skip {
        " SKIP LOCKED"
    } else {
        ""
    };
    q.push(format!(
        " ORDER BY m.cost, m.id LIMIT 1 FOR UPDATE{skip}), u AS (UPDATE machines m SET status = {allocated}, previous_status = {ready}, status_expires = NULL, owner_id = "
    ));
    q.push_bind(who.user_id);
    q.push(", agent_name = ")
        .push_bind(who.agent_name.to_string());
    q.push(", status_message = ")
        .push_bind(who.desc.to_string());
    q.push(format!(", updated = now() FROM c WHERE m.id = c.id AND m.status = {ready} RETURNING m.*), e AS (INSERT INTO events (machine_id, system_id, hostname, username, level, type, description) SELECT id, system_id, hostname, "));
    q.push_bind(who.username.to_string());
    q.push(", 'INFO', ");
    q.push_bind(NodeStatus::Allocated.label());
    q.push(", ");
    q.push_bind(who.desc.to_string());
    q.push(" FROM u) ");
    q.push(MACHINE_SELECT.replace("FROM machines m", "FROM u m"));
    let row = hot.run(async |c| q.build().fetch_optional(c).await).await?;
    Ok(row.as_ref().map(MachineRow::from_row).transpose()?)
}

/// Candidates in allocation order (no locks): `(id, system_id)`.
pub async fn candidates(
    db: &Pool,
    f: &MachineFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let mut q =
        QueryBuilder::<Postgres>::new("SELECT m.id, m.system_id FROM machines m WHERE true");
    filter::push(&mut q, f);
    q.push(" ORDER BY m.cost, m.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// Names of `table` (zones, resource_pools, tags) among `names` that do not
/// exist.
pub async fn missing_names(db: &Pool, table: Named, names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    let sql = match table {
        Named::Zone => "SELECT name FROM zones WHERE name = ANY($1)",
        Named::Pool => "SELECT name FROM resource_pools WHERE name = ANY($1)",
        Named::Tag => "SELECT name FROM tags WHERE name = ANY($1)",
    };
    let found: Vec<String> = sqlx::query_scalar(sql).bind(names).fetch_all(db).await?;
    Ok(names
        .iter()
        .filter(|n| !found.contains(n))
        .cloned()
        .collect())
}

/// Tables whose rows constraints name.
#[derive(Debug, Clone, Copy)]
pub enum Named {
    Zone,
    Pool,
    Tag,
}

pub async fn disk_facts(db: &Pool, ids: &[i64]) -> Result<BTreeMap<i64, Vec<DiskFacts>>> {
    let rows = sqlx::query(
        "SELECT machine_id, id, name, size, tags, is_boot FROM block_devices
          WHERE machine_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut out: BTreeMap<i64, Vec<DiskFacts>> = BTreeMap::new();
    for r in rows {
        out.entry(r.get(0)).or_default().push(DiskFacts {
            id: r.get(1),
            name: r.get(2),
            size_bytes: r.get(3),
            tags: r.get(4),
            is_boot: r.get(5),
        });
    }
    Ok(out)
}

pub async fn interface_facts(db: &Pool, ids: &[i64]) -> Result<BTreeMap<i64, Vec<InterfaceFacts>>> {
    let rows = sqlx::query(
        "SELECT i.machine_id, i.id, i.name, i.type, i.tags, i.link_speed, m.hostname,
                v.id AS vlan_id, v.vid, v.name AS vlan_name, f.id AS fabric_id, f.name AS fabric,
                f.class_type, sp.id AS space_id, sp.name AS space,
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
          GROUP BY i.id, m.hostname, v.id, f.id, sp.id, sp.name",
    )
    .bind(ids)
    .fetch_all(db)
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
            // A space by id (as Juju names it) or by name.
            let space_id = r.get::<Option<i64>, _>("space_id").map(|i| i.to_string());
            let space = space_id
                .into_iter()
                .chain(r.get::<Option<String>, _>("space"))
                .collect();
            attrs.insert("space".into(), space);
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
