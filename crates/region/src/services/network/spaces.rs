//! Space rules: unique names, `space-<id>` by default, and `undefined`
//! (what a VLAN without a space shows) is not a space's name.

use maas_model::constraints::FieldErrors;

use crate::error::Result;
use crate::services::network::{add, finish};
use crate::store::Conn;
use crate::store::networks::spaces::{self, SpaceRow};

const NAME_TAKEN: &str = "Space with this Name already exists.";

/// Create a space; `errs` are the parameters'.
pub async fn create(
    c: &mut Conn,
    name: Option<String>,
    description: String,
    mut errs: FieldErrors,
) -> Result<i64> {
    if let Some(n) = &name {
        if n == "undefined" {
            add(
                &mut errs,
                "name",
                "'undefined' is reserved for VLANs without a space.",
            );
        }
        if spaces::name_taken(c, n, None).await? {
            add(&mut errs, "name", NAME_TAKEN);
        }
    }
    finish(errs)?;
    let id = spaces::next_id(c).await?;
    let s = SpaceRow {
        id,
        name: name.unwrap_or_else(|| format!("space-{id}")),
        description,
    };
    spaces::insert(c, &s).await?;
    Ok(id)
}

/// A space update: absent fields keep their value, an empty name resets it.
#[derive(Debug, Default)]
pub struct SpacePatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

pub async fn update(c: &mut Conn, id: i64, p: SpacePatch, mut errs: FieldErrors) -> Result<()> {
    let cur = spaces::lock(c, id).await?;
    let name = match p.name {
        Some(n) if n.is_empty() => format!("space-{id}"),
        Some(n) => n,
        None => cur.name,
    };
    if !errs.contains_key("name") && spaces::name_taken(c, &name, Some(id)).await? {
        add(&mut errs, "name", NAME_TAKEN);
    }
    let description = p.description.unwrap_or(cur.description);
    finish(errs)?;
    spaces::update(
        c,
        &SpaceRow {
            id,
            name,
            description,
        },
    )
    .await
}

/// Delete a space; its VLANs show `undefined` again.
pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    spaces::delete(c, id).await
}
