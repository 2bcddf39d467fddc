//! Fabric rules: unique names, `fabric-<id>` by default, deleted only when
//! nothing is on them.

use maas_model::constraints::FieldErrors;

use crate::error::{Error, Result};
use crate::services::network::{add, finish};
use crate::store::Conn;
use crate::store::networks::{self as db, fabrics};

const NAME_TAKEN: &str = "Fabric with this Name already exists.";

/// Create a fabric with its untagged VLAN; `errs` are the parameters'.
pub async fn create(
    c: &mut Conn,
    name: Option<&str>,
    class_type: Option<&str>,
    mut errs: FieldErrors,
) -> Result<i64> {
    if let Some(n) = name
        && fabrics::name_taken(c, n, None).await?
    {
        add(&mut errs, "name", NAME_TAKEN);
    }
    finish(errs)?;
    Ok(db::create_fabric(c, name, class_type).await?.0)
}

/// A fabric update: absent fields keep their value, empty ones reset it.
#[derive(Debug, Default)]
pub struct FabricPatch {
    pub name: Option<String>,
    pub class_type: Option<String>,
}

pub async fn update(c: &mut Conn, id: i64, p: FabricPatch, mut errs: FieldErrors) -> Result<()> {
    let cur = fabrics::lock(c, id).await?;
    let name = match p.name {
        Some(n) if n.is_empty() => format!("fabric-{id}"),
        Some(n) => n,
        None => cur.name,
    };
    if !errs.contains_key("name") && fabrics::name_taken(c, &name, Some(id)).await? {
        add(&mut errs, "name", NAME_TAKEN);
    }
    let class_type = match p.class_type {
        Some(c) if c.is_empty() => None,
        Some(c) => Some(c),
        None => cur.class_type,
    };
    finish(errs)?;
    fabrics::update(c, id, &name, class_type.as_deref()).await
}

/// Delete a fabric (and its VLANs) with no subnets and no interfaces on it.
pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    let name = fabrics::lock(c, id).await?.name;
    let subnets = fabrics::subnet_cidrs(c, id).await?;
    if !subnets.is_empty() {
        return Err(Error::BadRequest(format!(
            "Can't delete fabric {name}: subnets {} are still on its VLANs; delete or move them first.",
            subnets.join(", ")
        )));
    }
    let ifaces = fabrics::connected_interfaces(c, id).await?;
    if !ifaces.is_empty() {
        return Err(Error::BadRequest(format!(
            "Can't delete fabric {name}; the following interfaces are still connected: {}.",
            ifaces.join(", ")
        )));
    }
    fabrics::delete(c, id).await
}
