//! The event log.

use crate::error::Result;
use crate::store::Conn;

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
