//! Subnet rules: where a subnet goes (an existing VLAN, or a new fabric),
//! unique CIDRs, a gateway inside the subnet, a CIDR change that keeps
//! everything on the subnet inside it, and DHCP pools kept on moves and
//! deletes.

use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use maas_model::net::{Cidr, Statistics};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::render::networks as render;
use crate::services::Ctx;
use crate::services::network::{
    add, db_cidr, db_ip, finish, invalid_choice, keep_dhcp_pool, not_found, read, subnet_usage,
};
use crate::store::networks::subnets::{self, SubnetValues};
use crate::store::networks::{self as db, fabric_by_spec, subnet_by_spec, vlans};
use crate::store::{self, Conn};

/// The subnet named by `spec` (404 if none).
async fn resolve(c: &mut Conn, spec: &str) -> Result<i64> {
    subnet_by_spec(c, spec)
        .await?
        .ok_or_else(|| not_found("Subnet"))
}

/// Every subnet with its VLAN, by id.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::subnets(&mut c, None, None).await
}

/// What a read of one subnet asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubnetRead {
    /// The subnet itself.
    Subnet,
    /// The address spans in use, with their purposes.
    Reserved,
    /// The address spans not in use.
    Unreserved,
    /// Its statistics, optionally with its spans and suggestions.
    Statistics { ranges: bool, suggestions: bool },
    /// Nothing: only that it exists (before refusing an unknown read).
    Exists,
}

/// A read of the subnet named by `spec`; `errs` are the parameters',
/// reported once it is found.
pub async fn get(ctx: &Ctx, spec: &str, what: SubnetRead, errs: FieldErrors) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, spec).await?;
    finish(errs)?;
    Ok(match what {
        SubnetRead::Subnet => read::subnet(&mut c, id).await?,
        SubnetRead::Reserved => {
            render::ip_set(&subnet_usage(&mut c, id, None, None).await?.in_use(), true)
        }
        SubnetRead::Unreserved => render::ip_set(
            &subnet_usage(&mut c, id, None, None).await?.not_in_use(),
            false,
        ),
        SubnetRead::Statistics {
            ranges,
            suggestions,
        } => {
            let st = Statistics::of(&subnet_usage(&mut c, id, None, None).await?);
            render::statistics(&st, ranges, suggestions)
        }
        SubnetRead::Exists => Value::Null,
    })
}

/// Subnet fields common to create and update, as parsed (absent → None).
#[derive(Debug, Default)]
pub struct SubnetFields {
    pub cidr: Option<Cidr>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Some(None): clear the gateway.
    pub gateway: Option<Option<IpAddr>>,
    pub dns_servers: Option<Vec<String>>,
    pub rdns_mode: Option<i16>,
    pub allow_dns: Option<bool>,
    pub allow_proxy: Option<bool>,
    pub managed: Option<bool>,
    pub active_discovery: Option<bool>,
}

/// Where the subnet should go: the `vlan`, `fabric` and `vid` parameters
/// (non-empty ones).
#[derive(Debug, Default)]
pub struct Placement {
    pub vlan: Option<String>,
    pub fabric: Option<String>,
    pub vid: Option<i64>,
}

/// The VLAN named by `p`; None when nothing was given (or on an error,
/// which goes on the field).
async fn place(c: &mut Conn, p: &Placement, errs: &mut FieldErrors) -> Result<Option<i64>> {
    let fid = match &p.fabric {
        Some(f) => {
            let fid = fabric_by_spec(c, f).await?;
            if fid.is_none() {
                add(errs, "fabric", invalid_choice(f));
                return Ok(None);
            }
            fid
        }
        None => None,
    };
    if let Some(v) = &p.vlan {
        let found = match v.parse::<i64>() {
            Ok(id) => vlans::fabric_of(c, id).await?.map(|f| (id, f)),
            Err(_) => None,
        };
        return Ok(match found {
            None => {
                add(errs, "vlan", invalid_choice(v));
                None
            }
            Some((_, f)) if fid.is_some_and(|fid| fid != f) => {
                add(
                    errs,
                    "vlan",
                    format!("VLAN {v} is not in the given fabric."),
                );
                None
            }
            Some((id, _)) => Some(id),
        });
    }
    if let Some(fid) = fid {
        let vid = p.vid.unwrap_or(0);
        let id = vlans::find_by_vid(c, fid, vid as i32).await?;
        if id.is_none() {
            add(
                errs,
                "vid",
                format!("No VLAN with vid {vid} in the given fabric."),
            );
        }
        return Ok(id);
    }
    if let Some(vid) = p.vid {
        // No default fabric here: a vid alone must name exactly one VLAN.
        let ids = vlans::some_with_vid(c, vid as i32).await?;
        if ids.len() != 1 {
            add(
                errs,
                "fabric",
                format!(
                    "Give the fabric of VLAN {vid}: {} fabrics have one.",
                    ids.len()
                ),
            );
            return Ok(None);
        }
        return Ok(Some(ids[0]));
    }
    Ok(None)
}

const CIDR_TAKEN: &str = "Subnet with this Cidr already exists.";
const GATEWAY_OUTSIDE: &str = "Gateway IP must be within CIDR range.";

/// Create a subnet, on a new fabric unless placed; `errs` are the
/// parameters'.
pub async fn create(
    ctx: &Ctx,
    f: SubnetFields,
    p: &Placement,
    mut errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let vlan = place(&mut tx, p, &mut errs).await?;
    if let Some(cidr) = &f.cidr {
        if let Some(Some(g)) = f.gateway
            && !cidr.contains(&g)
        {
            add(&mut errs, "gateway_ip", GATEWAY_OUTSIDE);
        }
        if subnets::cidr_taken(&mut tx, cidr, None).await? {
            add(&mut errs, "cidr", CIDR_TAKEN);
        }
    }
    finish(errs)?;
    let Some(cidr) = f.cidr else {
        return Err(Error::field("cidr", "This field is required."));
    };
    let vlan_id = match vlan {
        Some(id) => id,
        None => db::create_fabric(&mut tx, None, None).await?.1,
    };
    let name = f
        .name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cidr.to_string());
    let v = SubnetValues {
        name,
        cidr,
        vlan_id,
        gateway: f.gateway.flatten(),
        dns_servers: f.dns_servers.unwrap_or_default(),
        managed: f.managed.unwrap_or(true),
        allow_dns: f.allow_dns.unwrap_or(true),
        allow_proxy: f.allow_proxy.unwrap_or(true),
        active_discovery: f.active_discovery.unwrap_or(false),
        rdns_mode: f.rdns_mode.unwrap_or(2),
        description: f.description.unwrap_or_default(),
    };
    let id = subnets::insert(&mut tx, &v).await?;
    let out = read::subnet(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Update a subnet; `errs` are the parameters', reported once it is found.
pub async fn update(
    ctx: &Ctx,
    spec: &str,
    f: SubnetFields,
    p: &Placement,
    errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    apply(&mut tx, id, f, p, errs).await?;
    let out = read::subnet(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Apply an update: the new CIDR must be free and hold everything on the
/// subnet, the gateway must be inside it, a name that was the CIDR follows
/// the CIDR, and a move leaves a DHCP-enabled VLAN a dynamic range.
async fn apply(
    c: &mut Conn,
    id: i64,
    f: SubnetFields,
    p: &Placement,
    mut errs: FieldErrors,
) -> Result<()> {
    let cur = subnets::lock_row(c, id).await?;
    let cur_cidr = db_cidr(&cur.cidr)?;
    let vlan = place(c, p, &mut errs).await?;
    let cidr = f.cidr.unwrap_or(cur_cidr);
    if cidr != cur_cidr {
        if subnets::cidr_taken(c, &cidr, Some(id)).await? {
            add(&mut errs, "cidr", CIDR_TAKEN);
        }
        let outside = subnets::outside(c, id, &cidr).await?;
        if outside > 0 {
            add(
                &mut errs,
                "cidr",
                format!(
                    "{outside} IP range(s), reserved IP(s) or assigned address(es) of this subnet lie outside {cidr}."
                ),
            );
        }
    }
    let gateway = match f.gateway {
        Some(g) => g,
        None => cur.gateway_ip.as_deref().map(db_ip).transpose()?,
    };
    if let Some(g) = gateway
        && !cidr.contains(&g)
    {
        add(&mut errs, "gateway_ip", GATEWAY_OUTSIDE);
    }
    let name = match f.name {
        Some(n) if !n.is_empty() => n,
        Some(_) => cidr.to_string(),
        None if cur.name == cur_cidr.to_string() => cidr.to_string(),
        None => cur.name,
    };
    let vlan_id = vlan.unwrap_or(cur.vlan_id);
    finish(errs)?;
    if vlan_id != cur.vlan_id {
        keep_dhcp_pool(c, cur.vlan_id, None, Some(id)).await?;
    }
    let v = SubnetValues {
        name,
        cidr,
        vlan_id,
        gateway,
        dns_servers: f.dns_servers.unwrap_or(cur.dns_servers),
        managed: f.managed.unwrap_or(cur.managed),
        allow_dns: f.allow_dns.unwrap_or(cur.allow_dns),
        allow_proxy: f.allow_proxy.unwrap_or(cur.allow_proxy),
        active_discovery: f.active_discovery.unwrap_or(cur.active_discovery),
        rdns_mode: f.rdns_mode.unwrap_or(cur.rdns_mode),
        description: f.description.unwrap_or(cur.description),
    };
    subnets::update(c, id, &v).await
}

/// Delete a subnet; addresses in use by nodes need `force`.
pub async fn delete(ctx: &Ctx, spec: &str, force: bool) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let id = resolve(&mut tx, spec).await?;
    let cur = subnets::lock_row(&mut tx, id).await?;
    let in_use = subnets::assigned_count(&mut tx, id).await?;
    if in_use > 0 && !force {
        return Err(Error::BadRequest(format!(
            "Subnet {} has {in_use} IP address(es) in use by nodes; delete it with force=true to release them.",
            cur.cidr
        )));
    }
    keep_dhcp_pool(&mut tx, cur.vlan_id, None, Some(id)).await?;
    subnets::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

pub use crate::store::networks::used::UsedAddress;

/// The addresses in use on the subnet named by `spec`, with their holders
/// (nodes with their owners, users' reservations, DNS names).
pub async fn used_addresses(ctx: &Ctx, spec: &str) -> Result<Vec<UsedAddress>> {
    let mut c = store::acquire(&ctx.db).await?;
    let id = resolve(&mut c, spec).await?;
    crate::store::networks::used::of_subnet(&mut c, id).await
}
