//! `tags/` and `tags/{name}/`: manual tags, applied with `update_nodes`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};
use crate::render::MACHINE_VERSIONS;
use crate::services::lifecycle;

fn tag_json(r: &sqlx::postgres::PgRow) -> Value {
    let name: String = r.get("name");
    json!({
        "name": name, "comment": r.get::<String, _>("comment"),
        "definition": r.get::<String, _>("definition"),
        "kernel_opts": r.get::<String, _>("kernel_opts"),
        "resource_uri": format!("/MAAS/api/2.0/tags/{name}/"),
    })
}

fn valid_tag(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

fn check_definition(req: &Req) -> Result<()> {
    if req.input.get_nonempty("definition").is_some() {
        return Err(Error::field(
            "definition",
            "Automatic (XPath) tags are not supported yet: create a manual tag and apply it with update_nodes.",
        ));
    }
    Ok(())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = sqlx::query("SELECT * FROM tags ORDER BY name")
                .fetch_all(&app.db)
                .await?;
            Ok(json(&rows.iter().map(tag_json).collect::<Vec<_>>()))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let name = req
                .input
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?;
            if !valid_tag(name) {
                return Err(Error::field(
                    "name",
                    format!("Invalid tag name '{name}': use letters, digits, '-' and '_'."),
                ));
            }
            check_definition(&req)?;
            let row = sqlx::query(
                "INSERT INTO tags (name, comment, kernel_opts) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING RETURNING *",
            )
            .bind(name)
            .bind(req.input.get("comment").unwrap_or(""))
            .bind(req.input.get("kernel_opts").unwrap_or(""))
            .fetch_optional(&app.db)
            .await?
            .ok_or_else(|| Error::field("name", "Tag with this name already exists."))?;
            Ok(json(&tag_json(&row)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(name): Path<String>, req: Req) -> Result<Response> {
    let user = req.user()?;
    let row = sqlx::query("SELECT * FROM tags WHERE name = $1")
        .bind(&name)
        .fetch_optional(&app.db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No Tag matches the given query ({name}).")))?;
    let id: i64 = row.get("id");
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&tag_json(&row))),
        (&Method::PUT, None) => {
            req.admin()?;
            check_definition(&req)?;
            let new_name = req.input.get_nonempty("name").unwrap_or(&name).to_string();
            if !valid_tag(&new_name) {
                return Err(Error::field(
                    "name",
                    format!("Invalid tag name '{new_name}'."),
                ));
            }
            let mut tx = app.db.begin().await?;
            let row = sqlx::query(
                "UPDATE tags SET name = $2, comment = coalesce($3, comment),
                        kernel_opts = coalesce($4, kernel_opts) WHERE id = $1 RETURNING *",
            )
            .bind(id)
            .bind(&new_name)
            .bind(req.input.get("comment"))
            .bind(req.input.get("kernel_opts"))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
                    Error::field("name", "Tag with this name already exists.")
                }
                _ => e.into(),
            })?;
            if new_name != name {
                sqlx::query("UPDATE machines SET tag_names = array_replace(tag_names, $1, $2) WHERE tag_names @> ARRAY[$1]")
                    .bind(&name)
                    .bind(&new_name)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(json(&tag_json(&row)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = app.db.begin().await?;
            sqlx::query("UPDATE machines SET tag_names = array_remove(tag_names, $1) WHERE tag_names @> ARRAY[$1]")
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM tags WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        (&Method::GET, Some("machines" | "nodes")) => {
            let mut q = QueryBuilder::<Postgres>::new(MACHINE_VERSIONS);
            q.push(" WHERE m.tag_names @> ARRAY[")
                .push_bind(name.clone())
                .push("]");
            if !user.is_superuser {
                q.push(" AND (m.owner_id IS NULL OR m.owner_id = ")
                    .push_bind(user.id)
                    .push(")");
            }
            q.push(" ORDER BY m.id");
            crate::services::load::list_response(&app, user, q, None).await
        }
        (&Method::POST, Some("update_nodes")) => {
            req.admin()?;
            if !row.get::<String, _>("definition").is_empty() {
                return Err(Error::Conflict(format!(
                    "Tag {name} has a definition and cannot be applied by hand."
                )));
            }
            let add = req.input.list("add");
            let remove = req.input.list("remove");
            let mut tx = app.db.begin().await?;
            let known: Vec<String> =
                sqlx::query_scalar("SELECT system_id FROM machines WHERE system_id = ANY($1)")
                    .bind(add.iter().chain(remove.iter()).cloned().collect::<Vec<_>>())
                    .fetch_all(&mut *tx)
                    .await?;
            let unknown: Vec<&String> = add
                .iter()
                .chain(remove.iter())
                .filter(|s| !known.contains(s))
                .collect();
            if !unknown.is_empty() {
                return Err(Error::BadRequest(format!(
                    "Unknown machine(s): {}.",
                    unknown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let added = sqlx::query(
                "UPDATE machines SET tag_names = array_append(tag_names, $1)
                  WHERE system_id = ANY($2) AND NOT (tag_names @> ARRAY[$1])",
            )
            .bind(&name)
            .bind(&add)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let removed = sqlx::query(
                "UPDATE machines SET tag_names = array_remove(tag_names, $1)
                  WHERE system_id = ANY($2) AND tag_names @> ARRAY[$1]",
            )
            .bind(&name)
            .bind(&remove)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            lifecycle::event(
                &mut tx,
                None,
                Some(&user.username),
                "INFO",
                "Tag updated",
                &format!("Tag {name}: added to {added}, removed from {removed} machine(s)."),
            )
            .await?;
            tx.commit().await?;
            Ok(json(&json!({"added": added, "removed": removed})))
        }
        _ => Err(req.unknown_op()),
    }
}
