//! `zones/` and `resourcepools/`: where machines live.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use sqlx::Row;

use crate::api::app::{App, Req, json, no_content};
use crate::error::{Error, Result};

pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn zone_json(id: i64, name: &str, description: &str) -> Value {
    json!({"id": id, "name": name, "description": description,
           "resource_uri": format!("/MAAS/api/2.0/zones/{name}/")})
}

fn pool_json(id: i64, name: &str, description: &str) -> Value {
    json!({"id": id, "name": name, "description": description,
           "resource_uri": format!("/MAAS/api/2.0/resourcepool/{id}/")})
}

fn required_name(req: &Req) -> Result<String> {
    let n = req
        .input
        .get_nonempty("name")
        .ok_or_else(|| Error::field("name", "This field is required."))?;
    if !valid_name(n) {
        return Err(Error::field(
            "name",
            format!("'{n}' is not a valid name: use letters, digits, '-', '_' and '.'."),
        ));
    }
    Ok(n.to_string())
}

fn duplicate(what: &str, e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
            Error::field("name", format!("{what} with this name already exists."))
        }
        _ => e.into(),
    }
}

pub async fn zones(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows = sqlx::query("SELECT id, name, description FROM zones ORDER BY name")
                .fetch_all(&app.db)
                .await?;
            Ok(json(
                &rows
                    .iter()
                    .map(|r| zone_json(r.get(0), r.get(1), r.get(2)))
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let name = required_name(&req)?;
            let desc = req.input.get("description").unwrap_or("").to_string();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO zones (name, description) VALUES ($1, $2) RETURNING id",
            )
            .bind(&name)
            .bind(&desc)
            .fetch_one(&app.db)
            .await
            .map_err(|e| duplicate("Zone", e))?;
            Ok(json(&zone_json(id, &name, &desc)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn zone(State(app): State<App>, Path(name): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let row = sqlx::query("SELECT id, name, description FROM zones WHERE name = $1")
        .bind(&name)
        .fetch_optional(&app.db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No Zone matches the given query ({name}).")))?;
    let id: i64 = row.get(0);
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&zone_json(id, row.get(1), row.get(2)))),
        (&Method::PUT, None) => {
            req.admin()?;
            let new_name = match req.input.get_nonempty("name") {
                Some(_) => required_name(&req)?,
                None => name.clone(),
            };
            let desc = req
                .input
                .get("description")
                .map(str::to_string)
                .unwrap_or(row.get(2));
            sqlx::query("UPDATE zones SET name = $2, description = $3 WHERE id = $1")
                .bind(id)
                .bind(&new_name)
                .bind(&desc)
                .execute(&app.db)
                .await
                .map_err(|e| duplicate("Zone", e))?;
            Ok(json(&zone_json(id, &new_name, &desc)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            if id == 1 {
                return Err(Error::BadRequest(
                    "The default zone cannot be deleted.".into(),
                ));
            }
            // As in MAAS, machines in a deleted zone move to the default zone.
            let mut tx = app.db.begin().await?;
            sqlx::query("UPDATE machines SET zone_id = 1 WHERE zone_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM zones WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn pools(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let rows =
                sqlx::query("SELECT id, name, description FROM resource_pools ORDER BY name")
                    .fetch_all(&app.db)
                    .await?;
            Ok(json(
                &rows
                    .iter()
                    .map(|r| pool_json(r.get(0), r.get(1), r.get(2)))
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let name = required_name(&req)?;
            let desc = req.input.get("description").unwrap_or("").to_string();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO resource_pools (name, description) VALUES ($1, $2) RETURNING id",
            )
            .bind(&name)
            .bind(&desc)
            .fetch_one(&app.db)
            .await
            .map_err(|e| duplicate("Resource pool", e))?;
            Ok(json(&pool_json(id, &name, &desc)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn pool(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    let not_found = || Error::NotFound(format!("No ResourcePool matches the given query ({id})."));
    let pid: i64 = id.parse().map_err(|_| not_found())?;
    let row = sqlx::query("SELECT id, name, description FROM resource_pools WHERE id = $1")
        .bind(pid)
        .fetch_optional(&app.db)
        .await?
        .ok_or_else(not_found)?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&pool_json(pid, row.get(1), row.get(2)))),
        (&Method::PUT, None) => {
            req.admin()?;
            let name = match req.input.get_nonempty("name") {
                Some(_) => required_name(&req)?,
                None => row.get(1),
            };
            let desc = req
                .input
                .get("description")
                .map(str::to_string)
                .unwrap_or(row.get(2));
            sqlx::query("UPDATE resource_pools SET name = $2, description = $3 WHERE id = $1")
                .bind(pid)
                .bind(&name)
                .bind(&desc)
                .execute(&app.db)
                .await
                .map_err(|e| duplicate("Resource pool", e))?;
            Ok(json(&pool_json(pid, &name, &desc)))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            if pid == 0 {
                return Err(Error::BadRequest(
                    "The default resource pool cannot be deleted.".into(),
                ));
            }
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM machines WHERE pool_id = $1")
                .bind(pid)
                .fetch_one(&app.db)
                .await?;
            if n > 0 {
                return Err(Error::BadRequest(format!(
                    "Resource pool {} still holds {n} machine(s); move them first.",
                    row.get::<String, _>(1)
                )));
            }
            sqlx::query("DELETE FROM resource_pools WHERE id = $1")
                .bind(pid)
                .execute(&app.db)
                .await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
