//! Fabrics: unique names, `fabric-<id>` by default, created with their
//! untagged VLAN, deleted only when nothing is on them.

use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::network::{add, finish, not_found, read};
use crate::store::networks::{self as db, fabric_by_spec, fabrics};
use crate::store::{self, Conn};

const NAME_TAKEN: &str = "Fabric with this Name already exists.";

async fn resolve(c: &mut Conn, spec: &str) -> Result<i64> {
    fabric_by_spec(c, spec)
        .await?
        .ok_or_else(|| not_found("Fabric"))
}

/// Every fabric with its VLANs.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::fabrics(&mut c, None).await
}

pub async fn get(ctx: &Ctx, spec: &str) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, spec).await?;
    read::fabric(&mut c, id).await
}

/// A new fabric (no name: `fabric-<id>`).
#[derive(Debug, Default)]
pub struct NewFabric {
    pub name: Option<String>,
    pub class_type: Option<String>,
}

/// Create a fabric with its untagged VLAN; `errs` are the parameters'.
pub async fn create(ctx: &Ctx, f: NewFabric, mut errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    if let Some(n) = &f.name
        && fabrics::name_taken(&mut tx, n, None).await?
    {
        add(&mut errs, "name", NAME_TAKEN);
    }
    finish(errs)?;
    let (id, _) = db::create_fabric(&mut tx, f.name.as_deref(), f.class_type.as_deref()).await?;
    let out = read::fabric(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// A fabric update: absent fields keep their value, empty ones reset it.
#[derive(Debug, Default)]
pub struct FabricPatch {
    pub name: Option<String>,
    pub class_type: Option<String>,
}

/// Update a fabric; `errs` are the parameters', reported once it is found.
pub async fn update(ctx: &Ctx, spec: &str, p: FabricPatch, mut errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    let cur = fabrics::lock(&mut tx, id).await?;
    let name = match p.name {
        Some(n) if n.is_empty() => format!("fabric-{id}"),
        Some(n) => n,
        None => cur.name,
    };
    if !errs.contains_key("name") && fabrics::name_taken(&mut tx, &name, Some(id)).await? {
        add(&mut errs, "name", NAME_TAKEN);
    }
    let class_type = match p.class_type {
        Some(c) if c.is_empty() => None,
        Some(c) => Some(c),
        None => cur.class_type,
    };
    finish(errs)?;
    fabrics::update(&mut tx, id, &name, class_type.as_deref()).await?;
    let out = read::fabric(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Delete a fabric (and its VLANs) with no subnets and no interfaces on it.
pub async fn delete(ctx: &Ctx, spec: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    let name = fabrics::lock(&mut tx, id).await?.name;
    let subnets = fabrics::subnet_cidrs(&mut tx, id).await?;
    if !subnets.is_empty() {
        return Err(Error::BadRequest(format!(
            "Can't delete fabric {name}: subnets {} are still on its VLANs; delete or move them first.",
            subnets.join(", ")
        )));
    }
    let ifaces = fabrics::connected_interfaces(&mut tx, id).await?;
    if !ifaces.is_empty() {
        return Err(Error::BadRequest(format!(
            "Can't delete fabric {name}; the following interfaces are still connected: {}.",
            ifaces.join(", ")
        )));
    }
    fabrics::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
