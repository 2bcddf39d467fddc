//! Spaces.

use crate::error::Result;
use crate::store::Conn;

#[derive(Debug, Clone)]
pub struct SpaceRow {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// Every space (or the one with `id`), by id.
pub async fn list(c: &mut Conn, id: Option<i64>) -> Result<Vec<SpaceRow>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, name, description FROM spaces WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description)| SpaceRow {
            id,
            name,
            description,
        })
        .collect())
}

/// The space, locked for this transaction.
pub async fn lock(c: &mut Conn, id: i64) -> Result<SpaceRow> {
    let (name, description): (String, String) =
        sqlx::query_as("SELECT name, description FROM spaces WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut *c)
            .await?;
    Ok(SpaceRow {
        id,
        name,
        description,
    })
}

/// Whether another space (not `not`) has this name.
pub async fn name_taken(c: &mut Conn, name: &str, not: Option<i64>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM spaces WHERE name = $1 AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(not)
    .fetch_one(&mut *c)
    .await?)
}

/// The id the next space gets (its default name is made from it).
pub async fn next_id(c: &mut Conn) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT nextval('spaces_id_seq')")
        .fetch_one(&mut *c)
        .await?)
}

pub async fn insert(c: &mut Conn, s: &SpaceRow) -> Result<()> {
    sqlx::query("INSERT INTO spaces (id, name, description) VALUES ($1, $2, $3)")
        .bind(s.id)
        .bind(&s.name)
        .bind(&s.description)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn update(c: &mut Conn, s: &SpaceRow) -> Result<()> {
    sqlx::query("UPDATE spaces SET name = $2, description = $3 WHERE id = $1")
        .bind(s.id)
        .bind(&s.name)
        .bind(&s.description)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Delete the space; its VLANs fall back to no space (ON DELETE SET NULL).
pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM spaces WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
