//! The one translation of a [`MachineFilter`] to SQL, used by listings,
//! tag listings and allocation alike.

use maas_model::filter::{AnyNone, Arch, MachineFilter, Visibility};
use sqlx::{Postgres, QueryBuilder};

use crate::error::Result;
use crate::store::db::Hot;

/// `(id, version, hw_version, epoch)`: which machines, at which versions.
pub type VersionKey = (i64, i64, i64, i64);

fn any_none(q: &mut QueryBuilder<Postgres>, column: &str, v: &AnyNone<String>) {
    for (values, neg) in [(&v.any, false), (&v.none, true)] {
        if values.is_empty() {
            continue;
        }
        q.push(if neg { " AND NOT (" } else { " AND (" });
        q.push(column)
            .push(" = ANY(")
            .push_bind(values.clone())
            .push("))");
    }
}

/// Append `AND …` for every condition of `f` to a query over `machines m`.
/// Statuses are written as literals so the planner can use the partial
/// READY-by-cost index for allocation.
pub fn push(q: &mut QueryBuilder<Postgres>, f: &MachineFilter) {
    if let Visibility::UnownedOr(u) = f.visibility {
        q.push(" AND (m.owner_id IS NULL OR m.owner_id = ")
            .push_bind(u)
            .push(")");
    }
    if let Some(o) = f.owner_id {
        q.push(" AND m.owner_id = ").push_bind(o);
    }
    if f.unowned {
        q.push(" AND m.owner_id IS NULL");
    }
    if let Some(id) = f.id {
        q.push(" AND m.id = ").push_bind(id);
    }
    if let Some(after) = f.after_id {
        q.push(" AND m.id > ").push_bind(after);
    }
    for (statuses, neg) in [(&f.status.any, false), (&f.status.none, true)] {
        if statuses.is_empty() {
            continue;
        }
        let list: Vec<String> = statuses.iter().map(|s| s.as_i16().to_string()).collect();
        q.push(if neg { " AND NOT (" } else { " AND (" });
        match list.as_slice() {
            [one] => q.push(format!("m.status = {one})")),
            _ => q.push(format!("m.status IN ({}))", list.join(","))),
        };
    }
    any_none(q, "m.system_id", &f.system_id);
    any_none(q, "m.hostname", &f.hostname);
    if !f.mac.is_empty() {
        q.push(" AND EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY(")
            .push_bind(f.mac.clone())
            .push("))");
    }
    // Names of referenced rows as scalar subqueries: the same NULL rules as a
    // join (an unowned machine has no owner name), no join for listings
    // that do not filter on them.
    any_none(
        q,
        "(SELECT name FROM domains WHERE id = m.domain_id)",
        &f.domain,
    );
    any_none(q, "m.agent_name", &f.agent_name);
    any_none(
        q,
        "(SELECT username FROM users WHERE id = m.owner_id)",
        &f.owner,
    );
    any_none(q, "m.power_state", &f.power_state);
    any_none(q, "(SELECT name FROM zones WHERE id = m.zone_id)", &f.zone);
    any_none(
        q,
        "(SELECT name FROM resource_pools WHERE id = m.pool_id)",
        &f.pool,
    );
    for t in &f.text {
        q.push(" AND (strpos(lower(m.hostname), lower(")
            .push_bind(t.clone())
            .push(")) > 0 OR m.system_id = ")
            .push_bind(t.clone())
            .push(" OR ")
            .push_bind(t.clone())
            .push(" = ANY(m.tag_names))");
    }
    if !f.tags_all.is_empty() {
        q.push(" AND m.tag_names @> ").push_bind(f.tags_all.clone());
    }
    if !f.tags_none.is_empty() {
        q.push(" AND NOT (m.tag_names && ")
            .push_bind(f.tags_none.clone())
            .push(")");
    }
    for (arches, neg) in [(&f.arch.any, false), (&f.arch.none, true)] {
        if arches.is_empty() {
            continue;
        }
        q.push(if neg {
            " AND NOT (false"
        } else {
            " AND (false"
        });
        for a in arches {
            match a {
                Arch::Exact(a) => {
                    q.push(" OR m.architecture = ").push_bind(a.clone());
                }
                Arch::Base(b) => {
                    q.push(" OR split_part(m.architecture, '/', 1) = ")
                        .push_bind(b.clone());
                }
            }
        }
        q.push(")");
    }
    if let Some(n) = f.min_cpu_count {
        q.push(" AND m.cpu_count >= ").push_bind(n);
    }
    if let Some(n) = f.min_cpu_speed {
        q.push(" AND m.cpu_speed >= ").push_bind(n);
    }
    if let Some(n) = f.min_memory {
        q.push(" AND m.memory >= ").push_bind(n);
    }
    let linked =
        " EXISTS (SELECT 1 FROM interfaces i JOIN interface_links l ON l.interface_id = i.id
                    WHERE i.machine_id = m.id AND l.subnet_id = ANY(";
    let on_vlan =
        " EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.vlan_id = ANY(";
    let net = &f.net;
    for ids in &net.subnets_each {
        q.push(" AND")
            .push(linked)
            .push_bind(ids.clone())
            .push("))");
    }
    if !net.subnets_none.is_empty() {
        q.push(" AND NOT")
            .push(linked)
            .push_bind(net.subnets_none.clone())
            .push("))");
    }
    for ids in &net.vlans_each {
        q.push(" AND")
            .push(on_vlan)
            .push_bind(ids.clone())
            .push("))");
    }
    if !net.vlans_none.is_empty() {
        q.push(" AND NOT")
            .push(on_vlan)
            .push_bind(net.vlans_none.clone())
            .push("))");
    }
}

/// Ids and versions of the machines `f` selects, by id; at most `limit`
/// (when given).
pub async fn versions(hot: &Hot, f: &MachineFilter, limit: Option<i64>) -> Result<Vec<VersionKey>> {
    let mut q = QueryBuilder::<Postgres>::new(
        "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch) AS epoch
  FROM machines m WHERE true",
    );
    push(&mut q, f);
    q.push(" ORDER BY m.id");
    if let Some(l) = limit {
        q.push(" LIMIT ").push_bind(l);
    }
    let rows = hot
        .run(async |c| q.build_query_as::<VersionKey>().fetch_all(c).await)
        .await?;
    Ok(rows)
}

/// Ids and versions of machines with ids above `after`, `n` at a time (the
/// background pass that fills the render caches).
pub async fn versions_page(hot: &Hot, after: i64, n: i64) -> Result<Vec<VersionKey>> {
    let q = sqlx::query_as::<_, VersionKey>(
        "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch)
           FROM machines m WHERE m.id > $1 ORDER BY m.id LIMIT $2",
    )
    .bind(after)
    .bind(n);
    Ok(hot.run(async |c| q.fetch_all(c).await).await?)
}
