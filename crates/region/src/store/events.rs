//! The event log.

use sqlx::{Postgres, QueryBuilder};

use crate::error::Result;
use crate::store::{Conn, Executor};

/// Which events to read (every list empty: no filter on it).
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Levels to include.
    pub levels: Vec<String>,
    /// Only events about machines this user may see: unowned or theirs.
    pub visible_to: Option<i64>,
    pub hostnames: Vec<String>,
    pub system_ids: Vec<String>,
    /// Normalised MAC addresses of the machines' interfaces.
    pub macs: Vec<String>,
    pub zones: Vec<String>,
    pub agent_names: Vec<String>,
    pub owners: Vec<String>,
    /// Ids below this (older), newest first.
    pub before: Option<i64>,
    /// Ids above this (newer), oldest first.
    pub after: Option<i64>,
    pub limit: i64,
}

/// An event as read.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub system_id: Option<String>,
    pub hostname: String,
    pub username: Option<String>,
    pub level: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub type_: String,
    pub description: String,
}

type Tuple = (
    i64,
    Option<String>,
    String,
    Option<String>,
    String,
    chrono::DateTime<chrono::Utc>,
    String,
    String,
);

/// Up to `limit` events matching `q`: newest first, or with `after`, the
/// oldest after it first.
pub async fn query<'e>(e: impl Executor<'e>, q: &EventQuery) -> Result<Vec<EventRow>> {
    let mut b = QueryBuilder::<Postgres>::new(
        "SELECT e.id, e.system_id, e.hostname, e.username, e.level, e.created, e.type, e.description
           FROM events e LEFT JOIN machines m ON m.id = e.machine_id
           LEFT JOIN zones z ON z.id = m.zone_id LEFT JOIN users u ON u.id = m.owner_id WHERE e.level = ANY(",
    );
    b.push_bind(q.levels.clone()).push(")");
    if let Some(uid) = q.visible_to {
        b.push(" AND e.machine_id IS NOT NULL AND (m.owner_id IS NULL OR m.owner_id = ")
            .push_bind(uid)
            .push(")");
    }
    let any = |b: &mut QueryBuilder<Postgres>, col: &str, vs: &[String]| {
        if !vs.is_empty() {
            b.push(" AND ")
                .push(col)
                .push(" = ANY(")
                .push_bind(vs.to_vec())
                .push(")");
        }
    };
    any(&mut b, "e.hostname", &q.hostnames);
    any(&mut b, "e.system_id", &q.system_ids);
    if !q.macs.is_empty() {
        b.push(" AND e.machine_id IN (SELECT machine_id FROM interfaces WHERE mac_address = ANY(")
            .push_bind(q.macs.clone())
            .push("))");
    }
    any(&mut b, "z.name", &q.zones);
    any(&mut b, "m.agent_name", &q.agent_names);
    any(&mut b, "u.username", &q.owners);
    if let Some(before) = q.before {
        b.push(" AND e.id < ").push_bind(before);
    }
    if let Some(after) = q.after {
        b.push(" AND e.id > ").push_bind(after);
        b.push(" ORDER BY e.id ASC LIMIT ").push_bind(q.limit);
    } else {
        b.push(" ORDER BY e.id DESC LIMIT ").push_bind(q.limit);
    }
    let rows: Vec<Tuple> = b.build_query_as().fetch_all(e).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, system_id, hostname, username, level, created, type_, description)| EventRow {
                id,
                system_id,
                hostname,
                username,
                level,
                created,
                type_,
                description,
            },
        )
        .collect())
}

/// A machine an event is about.
pub struct EventMachine<'a> {
    pub id: i64,
    pub system_id: &'a str,
    pub hostname: &'a str,
}

/// Record an event.
pub async fn insert(
    c: &mut Conn,
    m: Option<EventMachine<'_>>,
    username: Option<&str>,
    level: &str,
    type_: &str,
    description: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (machine_id, system_id, hostname, username, level, type, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.as_ref().map(|m| m.id))
    .bind(m.as_ref().map(|m| m.system_id))
    .bind(m.as_ref().map(|m| m.hostname).unwrap_or(""))
    .bind(username)
    .bind(level)
    .bind(type_)
    .bind(description)
    .execute(&mut *c)
    .await?;
    Ok(())
}
