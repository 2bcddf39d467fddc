//! Boot resources, their sets and files.

use crate::error::Result;
use crate::store::{Conn, Executor};

/// A boot resource row.
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: i64,
    pub rtype: i16,
    pub name: String,
    pub architecture: String,
    pub extra: serde_json::Value,
    pub base_image: String,
    pub last_deployed: Option<chrono::DateTime<chrono::Utc>>,
}

type Tuple = (
    i64,
    i16,
    String,
    String,
    serde_json::Value,
    String,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn resource((id, rtype, name, architecture, extra, base_image, last_deployed): Tuple) -> Resource {
    Resource {
        id,
        rtype,
        name,
        architecture,
        extra,
        base_image,
        last_deployed,
    }
}

macro_rules! columns_sql {
    () => {
        "SELECT id, rtype, name, architecture, extra, base_image, last_deployed FROM boot_resources"
    };
}

/// Resources, optionally of one type, ordered as MAAS lists them.
pub async fn list<'e>(e: impl Executor<'e>, rtype: Option<i16>) -> Result<Vec<Resource>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(
        columns_sql!(),
        " WHERE $1::int2 IS NULL OR rtype = $1 ORDER BY rtype, name, architecture"
    ))
    .bind(rtype)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(resource).collect())
}

pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Resource>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns_sql!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(resource))
}

pub async fn by_name(c: &mut Conn, name: &str, architecture: &str) -> Result<Option<Resource>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(
        columns_sql!(),
        " WHERE name = $1 AND architecture = $2 FOR UPDATE"
    ))
    .bind(name)
    .bind(architecture)
    .fetch_optional(c)
    .await?;
    Ok(r.map(resource))
}

/// A new resource; its id.
pub async fn insert(
    c: &mut Conn,
    rtype: i16,
    name: &str,
    architecture: &str,
    extra: &serde_json::Value,
    base_image: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO boot_resources (rtype, name, architecture, extra, base_image)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(rtype)
    .bind(name)
    .bind(architecture)
    .bind(extra)
    .bind(base_image)
    .fetch_one(c)
    .await?)
}

pub async fn update_extra(
    c: &mut Conn,
    id: i64,
    extra: &serde_json::Value,
    base_image: &str,
) -> Result<()> {
    sqlx::query("UPDATE boot_resources SET extra = $2, base_image = $3 WHERE id = $1")
        .bind(id)
        .bind(extra)
        .bind(base_image)
        .execute(c)
        .await?;
    Ok(())
}

/// Whether a row went.
pub async fn delete<'e>(e: impl Executor<'e>, id: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM boot_resources WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// A set's versions in use for a resource.
pub async fn set_versions(c: &mut Conn, resource_id: i64) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM boot_resource_sets WHERE resource_id = $1")
            .bind(resource_id)
            .fetch_all(c)
            .await?,
    )
}

/// A new, empty set; its id.
pub async fn insert_set(c: &mut Conn, resource_id: i64, version: &str, label: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO boot_resource_sets (resource_id, version, label) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(resource_id)
    .bind(version)
    .bind(label)
    .fetch_one(c)
    .await?)
}

/// A new file in a set; its id.
pub async fn insert_file(c: &mut Conn, set_id: i64, file: &File) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO boot_resource_files (set_id, filename, filetype, sha256, size, complete)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(set_id)
    .bind(&file.filename)
    .bind(&file.filetype)
    .bind(&file.sha256)
    .bind(file.size)
    .bind(file.complete)
    .fetch_one(c)
    .await?)
}

/// A file of a resource, locked: (file, set id).
pub async fn file_of(c: &mut Conn, resource_id: i64, file_id: i64) -> Result<Option<File>> {
    let r: Option<(i64, String, String, String, i64, bool)> = sqlx::query_as(
        "SELECT f.id, f.filename, f.filetype, f.sha256, f.size, f.complete
         FROM boot_resource_files f JOIN boot_resource_sets s ON s.id = f.set_id
         WHERE s.resource_id = $1 AND f.id = $2 FOR UPDATE OF f",
    )
    .bind(resource_id)
    .bind(file_id)
    .fetch_optional(c)
    .await?;
    Ok(
        r.map(|(id, filename, filetype, sha256, size, complete)| File {
            id,
            filename,
            filetype,
            sha256,
            size,
            complete,
        }),
    )
}

/// Every file with this content is complete now (its bytes are stored).
pub async fn mark_complete<'e>(e: impl Executor<'e>, sha256: &str) -> Result<()> {
    sqlx::query(
        "UPDATE boot_resource_files SET complete = true WHERE sha256 = $1 AND NOT complete",
    )
    .bind(sha256)
    .execute(e)
    .await?;
    Ok(())
}

/// The digests of a resource's files.
pub async fn digests_of<'e>(e: impl Executor<'e>, resource_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT f.id, f.sha256 FROM boot_resource_files f JOIN boot_resource_sets s ON s.id = f.set_id
         WHERE s.resource_id = $1",
    )
    .bind(resource_id)
    .fetch_all(e)
    .await?)
}

/// Whether any file has this content.
pub async fn referenced<'e>(e: impl Executor<'e>, sha256: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM boot_resource_files WHERE sha256 = $1)")
            .bind(sha256)
            .fetch_one(e)
            .await?,
    )
}

/// Every file of every set, for choosing images: (resource id, name,
/// architecture, set id, file), newest set first within a resource.
pub async fn all_files<'e>(e: impl Executor<'e>) -> Result<Vec<(i64, String, String, i64, File)>> {
    type Row = (
        i64,
        String,
        String,
        i64,
        i64,
        String,
        String,
        String,
        i64,
        bool,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.id, r.name, r.architecture, s.id, f.id, f.filename, f.filetype, f.sha256, f.size, f.complete
         FROM boot_resources r JOIN boot_resource_sets s ON s.resource_id = r.id
         JOIN boot_resource_files f ON f.set_id = s.id
         ORDER BY r.name, r.architecture, s.id DESC, f.filename",
    )
    .fetch_all(e)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(rid, name, arch, sid, id, filename, filetype, sha256, size, complete)| {
                (
                    rid,
                    name,
                    arch,
                    sid,
                    File {
                        id,
                        filename,
                        filetype,
                        sha256,
                        size,
                        complete,
                    },
                )
            },
        )
        .collect())
}

/// A file of a set.
#[derive(Debug, Clone)]
pub struct File {
    pub id: i64,
    pub filename: String,
    pub filetype: String,
    pub sha256: String,
    pub size: i64,
    pub complete: bool,
}

/// A set with its files.
#[derive(Debug, Clone)]
pub struct Set {
    pub id: i64,
    pub version: String,
    pub label: String,
    pub files: Vec<File>,
}

/// A resource's sets, newest (highest id) first, with their files.
pub async fn sets<'e>(e: impl Executor<'e>, resource_id: i64) -> Result<Vec<Set>> {
    type Row = (
        i64,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<bool>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.id, s.version, s.label, f.id, f.filename, f.filetype, f.sha256, f.size, f.complete
         FROM boot_resource_sets s LEFT JOIN boot_resource_files f ON f.set_id = s.id
         WHERE s.resource_id = $1 ORDER BY s.id DESC, f.id",
    )
    .bind(resource_id)
    .fetch_all(e)
    .await?;
    let mut out: Vec<(i64, Set)> = Vec::new();
    for (sid, version, label, fid, filename, filetype, sha256, size, complete) in rows {
        if out.last().map(|(id, _)| *id) != Some(sid) {
            out.push((
                sid,
                Set {
                    id: sid,
                    version,
                    label,
                    files: vec![],
                },
            ));
        }
        if let (Some(id), Some(filename)) = (fid, filename) {
            let set = &mut out.last_mut().expect("pushed above").1;
            set.files.push(File {
                id,
                filename,
                filetype: filetype.unwrap_or_default(),
                sha256: sha256.unwrap_or_default(),
                size: size.unwrap_or(0),
                complete: complete.unwrap_or(false),
            });
        }
    }
    Ok(out.into_iter().map(|(_, s)| s).collect())
}
