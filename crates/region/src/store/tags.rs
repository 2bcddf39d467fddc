//! Tags, and their names on machines (`machines.tag_names`).

use crate::error::{Error, Result};
use crate::store::{Conn, Pool};

#[derive(Debug, Clone)]
pub struct TagRow {
    pub id: i64,
    pub name: String,
    pub comment: String,
    pub definition: String,
    pub kernel_opts: String,
}

const COLS: &str = "id, name, comment, definition, kernel_opts";

type Tuple = (i64, String, String, String, String);

fn row(t: Tuple) -> TagRow {
    let (id, name, comment, definition, kernel_opts) = t;
    TagRow {
        id,
        name,
        comment,
        definition,
        kernel_opts,
    }
}

pub async fn list(db: &Pool) -> Result<Vec<TagRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM tags ORDER BY name"
    )))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

pub async fn get(db: &Pool, name: &str) -> Result<Option<TagRow>> {
    let r: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM tags WHERE name = $1"
    )))
    .bind(name)
    .fetch_optional(db)
    .await?;
    Ok(r.map(row))
}

/// Insert a tag; `None` if the name is taken.
pub async fn insert(
    c: &mut Conn,
    name: &str,
    comment: &str,
    kernel_opts: &str,
    definition: &str,
) -> Result<Option<TagRow>> {
    let r: Option<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO tags (name, comment, kernel_opts, definition) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING RETURNING {COLS}"
    )))
    .bind(name)
    .bind(comment)
    .bind(kernel_opts)
    .bind(definition)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(row))
}

/// Rename / re-describe a tag; `None` if the new name is taken.
pub async fn update(
    c: &mut Conn,
    id: i64,
    name: &str,
    comment: Option<&str>,
    kernel_opts: Option<&str>,
    definition: Option<&str>,
) -> Result<Option<TagRow>> {
    let r: std::result::Result<Tuple, _> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE tags SET name = $2, comment = coalesce($3, comment),
                kernel_opts = coalesce($4, kernel_opts),
                definition = coalesce($5, definition) WHERE id = $1 RETURNING {COLS}"
    )))
    .bind(id)
    .bind(name)
    .bind(comment)
    .bind(kernel_opts)
    .bind(definition)
    .fetch_one(&mut *c)
    .await;
    match r {
        Ok(t) => Ok(Some(row(t))),
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("23505") => Ok(None),
        Err(e) => Err(Error::from(e)),
    }
}

pub async fn rename_on_machines(c: &mut Conn, old: &str, new: &str) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET tag_names = array_replace(tag_names, $1, $2)
          WHERE tag_names @> ARRAY[$1]",
    )
    .bind(old)
    .bind(new)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64, name: &str) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET tag_names = array_remove(tag_names, $1) WHERE tag_names @> ARRAY[$1]",
    )
    .bind(name)
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM tags WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Tag machines that do not have it yet; how many changed.
pub async fn add_to(c: &mut Conn, name: &str, system_ids: &[String]) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE machines SET tag_names = array_append(tag_names, $1)
          WHERE system_id = ANY($2) AND NOT (tag_names @> ARRAY[$1])",
    )
    .bind(name)
    .bind(system_ids)
    .execute(&mut *c)
    .await?
    .rows_affected())
}

/// Untag machines that have it; how many changed.
pub async fn remove_from(c: &mut Conn, name: &str, system_ids: &[String]) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE machines SET tag_names = array_remove(tag_names, $1)
          WHERE system_id = ANY($2) AND tag_names @> ARRAY[$1]",
    )
    .bind(name)
    .bind(system_ids)
    .execute(&mut *c)
    .await?
    .rows_affected())
}

/// The tags with an XPath definition.
pub async fn with_definition(c: &mut Conn) -> Result<Vec<TagRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM tags WHERE definition <> '' ORDER BY name"
    )))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.into_iter().map(row).collect())
}

/// Up to `limit` machine ids above `after`, in order (for walking every
/// machine in batches).
pub async fn machine_ids_after(c: &mut Conn, after: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM machines WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?,
    )
}

/// The latest passed lshw and lldp outputs from commissioning of each of
/// `machines`: (machine id, "lshw" or "lldp", XML). A runner's companion
/// files (`.err`, `.yaml`) and lldpd's install step are not outputs
/// (`services::misc::results::detail_of` reads names the same way).
pub async fn detail_outputs(c: &mut Conn, machines: &[i64]) -> Result<Vec<(i64, String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT ON (machine_id, kind) machine_id, kind, output FROM (
           SELECT id, machine_id, output,
                  CASE WHEN name LIKE '%lshw%' THEN 'lshw' ELSE 'lldp' END AS kind
             FROM script_results
            WHERE result_type = 0 AND status = 2
              AND (name LIKE '%lshw%' OR name LIKE '%lldp%')
              AND name NOT LIKE '%.err' AND name NOT LIKE '%.yaml' AND name NOT LIKE '%install%'
              AND machine_id = ANY($1)) r
          ORDER BY machine_id, kind, id DESC",
    )
    .bind(machines)
    .fetch_all(&mut *c)
    .await?)
}

/// Make `name` carried by exactly the `matching` machines among `among`
/// (machine ids; `None`: every machine).
pub async fn set_on(
    c: &mut Conn,
    name: &str,
    matching: &[i64],
    among: Option<&[i64]>,
) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET tag_names = array_remove(tag_names, $1)
          WHERE tag_names @> ARRAY[$1] AND NOT (id = ANY($2))
            AND ($3::bigint[] IS NULL OR id = ANY($3))",
    )
    .bind(name)
    .bind(matching)
    .bind(among)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE machines SET tag_names = array_append(tag_names, $1)
          WHERE id = ANY($2) AND NOT (tag_names @> ARRAY[$1])",
    )
    .bind(name)
    .bind(matching)
    .execute(&mut *c)
    .await?;
    Ok(())
}
