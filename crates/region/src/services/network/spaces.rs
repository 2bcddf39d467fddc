//! Spaces: unique names, `space-<id>` by default, and `undefined` (what a
//! VLAN without a space shows) is not a new space's name.

use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::error::Result;
use crate::services::Ctx;
use crate::services::network::{add, finish, not_found, read};
use crate::store::networks::space_by_spec;
use crate::store::networks::spaces::{self, SpaceRow};
use crate::store::{self, Conn};

const NAME_TAKEN: &str = "Space with this Name already exists.";

async fn resolve(c: &mut Conn, spec: &str) -> Result<i64> {
    space_by_spec(c, spec)
        .await?
        .ok_or_else(|| not_found("Space"))
}

/// Every space with its VLANs and subnets.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::spaces(&mut c, None).await
}

/// The space named by `spec` (null if it went between finding and reading).
pub async fn get(ctx: &Ctx, spec: &str) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, spec).await?;
    Ok(read::spaces(&mut c, Some(id))
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

/// Create a space; `errs` are the parameters'.
pub async fn create(
    ctx: &Ctx,
    name: Option<String>,
    description: String,
    mut errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    if let Some(n) = &name {
        if n == "undefined" {
            add(
                &mut errs,
                "name",
                "'undefined' is reserved for VLANs without a space.",
            );
        }
        if spaces::name_taken(&mut tx, n, None).await? {
            add(&mut errs, "name", NAME_TAKEN);
        }
    }
    finish(errs)?;
    let id = spaces::next_id(&mut tx).await?;
    let s = SpaceRow {
        id,
        name: name.unwrap_or_else(|| format!("space-{id}")),
        description,
    };
    spaces::insert(&mut tx, &s).await?;
    let out = read::spaces(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

/// A space update: absent fields keep their value, an empty name resets it.
#[derive(Debug, Default)]
pub struct SpacePatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Update a space; `errs` are the parameters', reported once it is found.
pub async fn update(ctx: &Ctx, spec: &str, p: SpacePatch, mut errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    let cur = spaces::lock(&mut tx, id).await?;
    let name = match p.name {
        Some(n) if n.is_empty() => format!("space-{id}"),
        Some(n) => n,
        None => cur.name,
    };
    if !errs.contains_key("name") && spaces::name_taken(&mut tx, &name, Some(id)).await? {
        add(&mut errs, "name", NAME_TAKEN);
    }
    let description = p.description.unwrap_or(cur.description);
    finish(errs)?;
    let s = SpaceRow {
        id,
        name,
        description,
    };
    spaces::update(&mut tx, &s).await?;
    let out = read::spaces(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

/// Delete a space; its VLANs show `undefined` again.
pub async fn delete(ctx: &Ctx, spec: &str) -> Result<()> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, spec).await?;
    spaces::delete(&mut c, id).await
}
