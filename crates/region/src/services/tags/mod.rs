//! Tags: rules for renaming, deleting and applying manual tags, and the
//! automatic ones whose XPath definition (`xpath`) decides which machines
//! carry them — evaluated over every machine's lshw and lldp output when the
//! definition is set or changed, and over one machine's when it finishes
//! commissioning.

pub mod xpath;

use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::{Ctx, lifecycle};
pub use crate::store::tags::TagRow;
use crate::store::{Conn, tags as db};

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

/// A definition a tag may have ("": a manual tag), or the field error.
fn check_definition(definition: &str) -> Result<()> {
    if definition.trim().is_empty() {
        return Ok(());
    }
    xpath::check(definition).map_err(|m| Error::field("definition", m))
}

pub async fn create(
    ctx: &Ctx,
    name: &str,
    comment: &str,
    kernel_opts: &str,
    definition: &str,
) -> Result<TagRow> {
    check_name(name)?;
    let definition = definition.trim();
    check_definition(definition)?;
    // The tag and its machines together: no moment without them.
    let mut tx = crate::store::begin(&ctx.db).await?;
    let row = db::insert(&mut tx, name, comment, kernel_opts, definition)
        .await?
        .ok_or_else(taken)?;
    if !row.definition.is_empty() {
        populate(&mut tx, &row).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// How many machines' details are read and evaluated at a time.
const BATCH: i64 = 100;

/// Each of `machines`' commissioning details.
async fn details_of(c: &mut Conn, machines: &[i64]) -> Result<Vec<(i64, xpath::Details)>> {
    let mut out: Vec<(i64, xpath::Details)> = machines
        .iter()
        .map(|id| (*id, xpath::Details::default()))
        .collect();
    for (id, kind, xml) in db::detail_outputs(c, machines).await? {
        if let Some((_, d)) = out.iter_mut().find(|(m, _)| *m == id) {
            match kind.as_str() {
                "lshw" => d.lshw = Some(xml),
                _ => d.lldp = Some(xml),
            }
        }
    }
    Ok(out)
}

/// Give an automatic tag to exactly the machines whose details match it,
/// reading them a batch at a time.
async fn populate(c: &mut Conn, tag: &TagRow) -> Result<()> {
    let mut matching = Vec::new();
    let mut after = 0;
    loop {
        let ids = db::machine_ids_after(c, after, BATCH).await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let details = details_of(c, &ids).await?;
        let def = tag.definition.clone();
        let hits = tokio::task::spawn_blocking(move || {
            details
                .iter()
                .filter(|(_, d)| xpath::matches(&def, d))
                .map(|(id, _)| *id)
                .collect::<Vec<i64>>()
        })
        .await
        .map_err(|e| Error::internal(format!("tag evaluation: {e}")))?;
        matching.extend(hits);
    }
    db::set_on(c, &tag.name, &matching, None).await
}

/// Re-evaluate an automatic tag over every machine (`op=rebuild`).
pub async fn rebuild(ctx: &Ctx, tag: &TagRow) -> Result<()> {
    if tag.definition.is_empty() {
        return Err(Error::BadRequest(format!(
            "Tag {} has no definition to rebuild from.",
            tag.name
        )));
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    populate(&mut tx, tag).await?;
    tx.commit().await?;
    Ok(())
}

/// Every automatic tag on one machine, from its latest details (a
/// machine that just finished commissioning).
pub async fn evaluate_machine(c: &mut Conn, machine_id: i64) -> Result<()> {
    let tags = db::with_definition(c).await?;
    if tags.is_empty() {
        return Ok(());
    }
    let details = details_of(c, &[machine_id])
        .await?
        .pop()
        .map(|(_, d)| d)
        .unwrap_or_default();
    let defs: Vec<String> = tags.iter().map(|t| t.definition.clone()).collect();
    let hits = tokio::task::spawn_blocking(move || xpath::matches_all(&defs, &details))
        .await
        .map_err(|e| Error::internal(format!("tag evaluation: {e}")))?;
    let among = [machine_id];
    for (t, hit) in tags.iter().zip(hits) {
        let matching: &[i64] = if hit { &among } else { &[] };
        db::set_on(c, &t.name, matching, Some(&among)).await?;
    }
    Ok(())
}

/// Rename and/or re-describe a tag; machines carrying it follow the name.
/// A new definition re-evaluates it over every machine (an empty one
/// makes it manual, keeping the machines it has).
pub async fn update(
    ctx: &Ctx,
    tag: &TagRow,
    new_name: &str,
    comment: Option<&str>,
    kernel_opts: Option<&str>,
    definition: Option<&str>,
) -> Result<TagRow> {
    check_name(new_name)?;
    let definition = definition.map(str::trim);
    if let Some(d) = definition {
        check_definition(d)?;
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    let row = db::update(&mut tx, tag.id, new_name, comment, kernel_opts, definition)
        .await?
        .ok_or_else(taken)?;
    if new_name != tag.name {
        db::rename_on_machines(&mut tx, &tag.name, new_name).await?;
    }
    if !row.definition.is_empty() && row.definition != tag.definition {
        populate(&mut tx, &row).await?;
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
