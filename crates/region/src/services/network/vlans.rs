//! VLANs: vids unique per fabric (the untagged VLAN's vid fixed), and
//! MAAS's rules for DHCP, its racks and relays.

use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::network::{add, finish, invalid_choice, not_found, read};
use crate::store::networks::vlans::{self, NewVlan, VlanFilter, VlanState};
use crate::store::networks::{fabric_by_spec, rack_by_spec, space_by_spec};
use crate::store::{self, Conn};

const VID_TAKEN: &str = "VLAN with this Fabric and Vid already exists.";

/// How a VLAN was addressed: by database id (`vlans/{id}/`) or by fabric and
/// vid (`fabrics/{fabric}/vlans/{vid}/`).
pub enum VlanRef {
    Id(String),
    FabricVid(String, String),
}

/// The VLAN addressed (404 for an unknown fabric or VLAN).
pub async fn resolve(c: &mut Conn, r: &VlanRef) -> Result<i64> {
    let id = match r {
        VlanRef::Id(s) => match s.trim().parse::<i64>() {
            Ok(id) => vlans::find(c, id).await?,
            Err(_) => None,
        },
        VlanRef::FabricVid(f, v) => {
            let fid = resolve_fabric(c, f).await?;
            match v.trim().parse::<i32>() {
                Ok(vid) => vlans::find_by_vid(c, fid, vid).await?,
                Err(_) => None,
            }
        }
    };
    id.ok_or_else(|| not_found("VLAN"))
}

async fn resolve_fabric(c: &mut Conn, spec: &str) -> Result<i64> {
    fabric_by_spec(c, spec)
        .await?
        .ok_or_else(|| not_found("Fabric"))
}

/// Every VLAN, by fabric and vid.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::vlans(&mut c, &VlanFilter::default()).await
}

/// The VLANs of a fabric, by vid.
pub async fn on_fabric(ctx: &Ctx, fabric: &str) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    let fid = resolve_fabric(&mut c, fabric).await?;
    let f = VlanFilter {
        fabrics: Some(vec![fid]),
        ..VlanFilter::default()
    };
    read::vlans(&mut c, &f).await
}

pub async fn get(ctx: &Ctx, r: &VlanRef) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, r).await?;
    read::vlan(&mut c, id).await
}

/// A space parameter: its id, or an error on `space`.
async fn space_param(c: &mut Conn, s: &str, errs: &mut FieldErrors) -> Result<Option<i64>> {
    let sp = space_by_spec(c, s).await?;
    if sp.is_none() {
        add(errs, "space", invalid_choice(s));
    }
    Ok(sp)
}

/// A new VLAN's parameters (`vid` is required: the edge says so).
pub struct VlanParams {
    pub vid: Option<i64>,
    pub name: Option<String>,
    pub mtu: i64,
    pub description: String,
    pub space: Option<String>,
}

/// Create a VLAN on `fabric`; `errs` are the parameters', reported once
/// the fabric is found.
pub async fn create(
    ctx: &Ctx,
    fabric: &str,
    p: VlanParams,
    mut errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let fabric = resolve_fabric(&mut tx, fabric).await?;
    if let Some(v) = p.vid
        && vlans::vid_taken(&mut tx, fabric, v as i32, None).await?
    {
        add(&mut errs, "vid", VID_TAKEN);
    }
    let space = match &p.space {
        Some(s) => space_param(&mut tx, s, &mut errs).await?,
        None => None,
    };
    finish(errs)?;
    let v = NewVlan {
        fabric_id: fabric,
        vid: p.vid.unwrap_or_default() as i32,
        name: p.name.as_deref(),
        mtu: p.mtu as i32,
        description: &p.description,
        space_id: space,
    };
    let id = vlans::insert(&mut tx, &v).await?;
    let out = read::vlan(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// A VLAN update as given: absent fields keep their value; an empty name,
/// space, rack or relay clears it.
#[derive(Debug, Default)]
pub struct VlanPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub vid: Option<i64>,
    pub mtu: Option<i64>,
    pub space: Option<String>,
    pub primary_rack: Option<String>,
    pub secondary_rack: Option<String>,
    pub relay_vlan: Option<String>,
    pub dhcp_on: Option<bool>,
}

/// A nullable rack parameter: absent → None, empty → Some(None).
async fn rack_param(
    c: &mut Conn,
    value: Option<&str>,
    key: &str,
    errs: &mut FieldErrors,
) -> Result<Option<Option<i64>>> {
    match value {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => match rack_by_spec(c, s).await? {
            Some(id) => Ok(Some(Some(id))),
            None => {
                add(errs, key, invalid_choice(s));
                Ok(None)
            }
        },
    }
}

/// The relay parameter: absent → None, empty → Some(None).
async fn relay_param(
    c: &mut Conn,
    id: i64,
    value: Option<&str>,
    errs: &mut FieldErrors,
) -> Result<Option<Option<i64>>> {
    let s = match value {
        None => return Ok(None),
        Some("") => return Ok(Some(None)),
        Some(s) => s,
    };
    let target = match s.parse::<i64>() {
        Ok(rid) => vlans::relay_of(c, rid).await?,
        Err(_) => None,
    };
    Ok(match target {
        None => {
            add(errs, "relay_vlan", invalid_choice(s));
            None
        }
        Some(_) if s.parse::<i64>().ok() == Some(id) => {
            add(errs, "relay_vlan", "A VLAN cannot relay DHCP to itself.");
            None
        }
        Some(Some(_)) => {
            add(
                errs,
                "relay_vlan",
                format!("VLAN {s} relays DHCP to another VLAN itself; relays cannot be chained."),
            );
            None
        }
        Some(None) => Some(s.parse::<i64>().ok()),
    })
}

/// Update a VLAN; `errs` are the parameters', reported once it is found.
pub async fn update(ctx: &Ctx, r: &VlanRef, p: VlanPatch, errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, r).await?;
    apply(&mut tx, id, p, errs).await?;
    let out = read::vlan(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Apply an update with MAAS's rules for DHCP, racks and relays, checked on
/// the VLAN as it would be after it; `errs` are the parameters'.
pub async fn apply(c: &mut Conn, id: i64, p: VlanPatch, mut errs: FieldErrors) -> Result<()> {
    let cur = vlans::lock(c, id).await?;
    let name = match p.name {
        Some(n) if n.is_empty() => None,
        Some(n) => Some(n),
        None => cur.name.clone(),
    };
    let description = p.description.unwrap_or_else(|| cur.description.clone());
    let mut vid = cur.vid;
    if let Some(v) = p.vid {
        if cur.vid == 0 && v != 0 {
            add(
                &mut errs,
                "vid",
                "The VID of a fabric's default VLAN cannot be changed.",
            );
        } else if cur.vid != 0 && !(1..=4094).contains(&v) {
            add(&mut errs, "vid", "The VID must be between 1 and 4094.");
        } else if v as i32 != cur.vid
            && vlans::vid_taken(c, cur.fabric_id, v as i32, Some(id)).await?
        {
            add(&mut errs, "vid", VID_TAKEN);
        } else {
            vid = v as i32;
        }
    }
    let mtu = p.mtu.map(|m| m as i32).unwrap_or(cur.mtu);
    let space = match p.space.as_deref() {
        None => cur.space_id,
        Some("" | "undefined") => None,
        Some(s) => space_param(c, s, &mut errs).await?,
    };
    let primary = rack_param(c, p.primary_rack.as_deref(), "primary_rack", &mut errs).await?;
    let secondary = rack_param(c, p.secondary_rack.as_deref(), "secondary_rack", &mut errs).await?;
    let relay = relay_param(c, id, p.relay_vlan.as_deref(), &mut errs).await?;
    let dhcp_on = p.dhcp_on.unwrap_or(cur.dhcp_on);
    finish(errs)?;

    // Cross-field rules, on the VLAN as it would be after the update.
    let mut errs = FieldErrors::new();
    let mut new_primary = primary.unwrap_or(cur.primary_rack_id);
    let mut new_secondary = secondary.unwrap_or(cur.secondary_rack_id);
    if primary == Some(None) && secondary.is_none() && cur.secondary_rack_id.is_some() {
        // As MAAS: removing the primary promotes the secondary.
        new_primary = cur.secondary_rack_id;
        new_secondary = None;
    }
    if primary.flatten().is_some()
        && primary.flatten() == cur.secondary_rack_id
        && secondary.is_none()
    {
        // The secondary became the primary.
        new_secondary = None;
    }
    if new_secondary.is_some() && new_secondary == new_primary {
        add(
            &mut errs,
            "__all__",
            "The primary and secondary rack must be different.",
        );
    }
    if new_secondary.is_some() && new_primary.is_none() {
        add(
            &mut errs,
            "secondary_rack",
            "A secondary rack controller needs a primary rack controller.",
        );
    }
    let mut new_relay = relay.unwrap_or(cur.relay_vlan_id);
    if dhcp_on {
        if new_primary.is_none() {
            add(
                &mut errs,
                "__all__",
                "dhcp can only be turned on when a primary rack controller is set.",
            );
        }
        if vlans::dynamic_ranges(c, id).await? == 0 {
            add(
                &mut errs,
                "dhcp_on",
                "dhcp can only be turned on when a dynamic IP range is defined.",
            );
        }
        if relay.flatten().is_some() {
            add(
                &mut errs,
                "relay_vlan",
                "A relay VLAN cannot be set while DHCP is on.",
            );
        }
        // MAAS: a VLAN serving DHCP itself relays nowhere.
        new_relay = None;
    }
    if new_relay.is_some() && vlans::relayed_to(c, id).await? {
        add(
            &mut errs,
            "relay_vlan",
            "Other VLANs relay DHCP to this VLAN; it cannot relay DHCP itself.",
        );
    }
    finish(errs)?;
    let new = VlanState {
        fabric_id: cur.fabric_id,
        vid,
        name,
        mtu,
        description,
        dhcp_on,
        primary_rack_id: new_primary,
        secondary_rack_id: new_secondary,
        relay_vlan_id: new_relay,
        space_id: space,
    };
    vlans::update(c, id, &new).await
}

/// Delete a VLAN that is not its fabric's default and has no subnets.
pub async fn delete(ctx: &Ctx, r: &VlanRef) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, r).await?;
    let vid = vlans::lock(&mut tx, id).await?.vid;
    if vid == 0 {
        return Err(Error::BadRequest(
            "This VLAN is the default VLAN in the fabric, it cannot be deleted.".into(),
        ));
    }
    let subnets = vlans::subnet_cidrs(&mut tx, id).await?;
    if !subnets.is_empty() {
        return Err(Error::BadRequest(format!(
            "Can't delete VLAN {vid}: subnets {} are still on it; delete or move them first.",
            subnets.join(", ")
        )));
    }
    vlans::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
