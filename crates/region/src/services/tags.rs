//! Manual tags: rules for renaming, deleting and applying them.

use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::{Ctx, lifecycle};
use crate::store::tags as db;
pub use crate::store::tags::TagRow;

pub fn valid_tag(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 256
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

fn taken() -> Error {
    Error::field("name", "Tag with this name already exists.")
}

pub async fn list(ctx: &Ctx) -> Result<Vec<TagRow>> {
    db::list(&ctx.db).await
}

pub async fn get(ctx: &Ctx, name: &str) -> Result<TagRow> {
    db::get(&ctx.db, name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No Tag matches the given query ({name}).")))
}

/// A name a tag may have, or the field error saying why not.
fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::field("name", "This field is required."));
    }
    if !valid_tag(name) {
        return Err(Error::field(
            "name",
            format!("Invalid tag name '{name}': use letters, digits, '-' and '_'."),
        ));
    }
    Ok(())
}

pub async fn create(ctx: &Ctx, name: &str, comment: &str, kernel_opts: &str) -> Result<TagRow> {
    check_name(name)?;
    db::insert(&ctx.db, name, comment, kernel_opts)
        .await?
        .ok_or_else(taken)
}

/// Rename and/or re-describe a tag; machines carrying it follow the name.
pub async fn update(
    ctx: &Ctx,
    tag: &TagRow,
    new_name: &str,
    comment: Option<&str>,
    kernel_opts: Option<&str>,
) -> Result<TagRow> {
    check_name(new_name)?;
    let mut tx = crate::store::begin(&ctx.db).await?;
    let row = db::update(&mut tx, tag.id, new_name, comment, kernel_opts)
        .await?
        .ok_or_else(taken)?;
    if new_name != tag.name {
        db::rename_on_machines(&mut tx, &tag.name, new_name).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(ctx: &Ctx, tag: &TagRow) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    db::delete(&mut tx, tag.id, &tag.name).await?;
    tx.commit().await?;
    Ok(())
}

/// Apply a manual tag to `add` and take it off `remove`; (added, removed).
pub async fn update_nodes(
    ctx: &Ctx,
    user: &User,
    tag: &TagRow,
    add: &[String],
    remove: &[String],
) -> Result<(u64, u64)> {
    let name = &tag.name;
    if !tag.definition.is_empty() {
        return Err(Error::Conflict(format!(
            "Tag {name} has a definition and cannot be applied by hand."
        )));
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    let all: Vec<String> = add.iter().chain(remove.iter()).cloned().collect();
    let known = crate::store::machines::existing(&mut tx, &all).await?;
    let unknown: Vec<&str> = all
        .iter()
        .filter(|s| !known.contains(s))
        .map(|s| s.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(Error::BadRequest(format!(
            "Unknown machine(s): {}.",
            unknown.join(", ")
        )));
    }
    let added = db::add_to(&mut tx, name, add).await?;
    let removed = db::remove_from(&mut tx, name, remove).await?;
    let text = format!("Tag {name}: added to {added}, removed from {removed} machine(s).");
    let who = Some(user.username.as_str());
    lifecycle::event(&mut tx, None, who, "INFO", "Tag updated", &text).await?;
    tx.commit().await?;
    Ok((added, removed))
}
