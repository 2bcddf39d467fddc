//! `machines/?op=allocate`: MAAS constraint semantics, cheapest match first,
//! atomic across any number of region processes on one database.
//!
//! Without storage/interface constraints the whole claim is one SQL statement
//! (`FOR UPDATE SKIP LOCKED` on the READY-by-cost partial index, the status
//! update and the event insert). With them, candidates are matched in Rust in
//! cost order and claimed one by one with a status re-check.

use std::collections::BTreeMap;

use maas_model::NodeStatus;
use maas_model::constraints::Placement;
use maas_model::constraints::{self, Constraints, match_interfaces, match_storage};
use maas_model::filter::MachineFilter;
use maas_model::placement::NetFilter;
use serde_json::json;

use crate::error::{Error, Result};
use crate::render::FullMachine;
use crate::services::auth::User;
use crate::services::lifecycle::{self, Core};
use crate::services::{Ctx, load, machines};
use crate::store::Conn;
use crate::store::machines::alloc::{self as db, Claimant, Locked, Named};
use crate::store::machines::write::set_owner;
use crate::store::networks::placement;

/// Claim a locked READY machine for `user` (deploy of a READY machine).
pub async fn claim(
    tx: &mut Conn,
    m: &mut Core,
    user: &User,
    agent_name: &str,
    desc: &str,
) -> Result<()> {
    set_owner(tx, m.id, user.id, agent_name).await?;
    m.owner_id = Some(user.id);
    lifecycle::transition(tx, m, NodeStatus::Allocated, Some(&user.username), desc).await
}

/// Refuse names of zones, pools and tags that do not exist.
async fn check_names(ctx: &Ctx, c: &Constraints) -> Result<()> {
    let checks: [(Named, &str, Vec<String>, &str); 5] = [
        (
            Named::Zone,
            "zone",
            c.zone.iter().cloned().collect(),
            "zone",
        ),
        (
            Named::Pool,
            "pool",
            c.pool.iter().cloned().collect(),
            "pool",
        ),
        (Named::Zone, "not_in_zone", c.not_in_zone.clone(), "zone"),
        (Named::Pool, "not_in_pool", c.not_in_pool.clone(), "pool"),
        (Named::Tag, "tags", c.tags.clone(), "tag"),
    ];
    for (table, field, names, what) in checks {
        let missing = db::missing_names(&ctx.db, table, &names).await?;
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
            return Err(Error::field(
                field,
                format!("No such {what}(s): {}.", list.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The network placement constraints resolved to ids. A positive specifier
/// that names nothing leaves nothing to match (the 409 follows); a negative
/// one that names nothing excludes nothing.
async fn resolve_placement(ctx: &Ctx, p: &Placement) -> Result<NetFilter> {
    let mut net = NetFilter::default();
    if p == &Placement::default() {
        // The common case: no connection taken for nothing to resolve.
        return Ok(net);
    }
    let mut c = crate::store::acquire(&ctx.db).await?;
    for spec in &p.subnets {
        net.subnets_each
            .push(placement::subnets(&mut c, spec).await?);
    }
    for spec in &p.not_subnets {
        net.subnets_none
            .extend(placement::subnets(&mut c, spec).await?);
    }
    let vlan_specs = [
        (&p.vlans, false),
        (&p.fabrics, true),
        (&p.fabric_classes, true),
    ];
    for (specs, fabric) in vlan_specs {
        for spec in specs {
            net.vlans_each
                .push(placement::vlans(&mut c, spec, fabric).await?);
        }
    }
    let not_vlan_specs = [
        (&p.not_vlans, false),
        (&p.not_fabrics, true),
        (&p.not_fabric_classes, true),
    ];
    for (specs, fabric) in not_vlan_specs {
        for spec in specs {
            net.vlans_none
                .extend(placement::vlans(&mut c, spec, fabric).await?);
        }
    }
    Ok(net)
}

/// The constraints as the 409 message lists them.
fn describe(params: &constraints::Params) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| {
            !["op", "agent_name", "comment", "dry_run", "verbose"].contains(&k.as_str())
        })
        .map(|(k, v)| format!("{k}={}", v.join(",")))
        .collect();
    if parts.is_empty() {
        "(none)".into()
    } else {
        parts.join(" ")
    }
}

async fn claim_one(
    ctx: &Ctx,
    f: &MachineFilter,
    user: &User,
    agent_name: &str,
    desc: &str,
) -> Result<Option<FullMachine>> {
    let who = Claimant {
        user_id: user.id,
        username: &user.username,
        agent_name,
        desc,
    };
    let mut row = db::claim(&ctx.hot, f, &who, Locked::Skip).await?;
    // Every match was locked: by a concurrent claim, or by a short write
    // such as a power-state update. Wait for the cheapest one still READY
    // (a claim that took it leaves it no longer matching).
    for _ in 0..CLAIM_WAITS {
        if row.is_some() {
            break;
        }
        let Some((id, _)) = db::candidates(&ctx.db, f, 0, 1).await?.pop() else {
            break;
        };
        let one = MachineFilter {
            id: Some(id),
            ..f.clone()
        };
        row = db::claim(&ctx.hot, &one, &who, Locked::Wait).await?;
    }
    match row {
        Some(row) => Ok(load::complete(ctx, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// How many locked matches one allocation waits for before it gives up.
const CLAIM_WAITS: usize = 3;

/// Allocate (or with `dry_run`, find) the cheapest READY machine matching
/// the request's constraints; 409 when none does.
pub async fn allocate(ctx: &Ctx, user: &User, params: &constraints::Params) -> Result<FullMachine> {
    let c = Constraints::parse(params).map_err(Error::Validation)?;
    check_names(ctx, &c).await?;
    let mut filter = MachineFilter::for_allocation(&c);
    filter.net = resolve_placement(ctx, &c.placement).await?;
    let agent = c.agent_name.clone().unwrap_or_default();
    let desc = match &c.comment {
        Some(x) => format!("Allocated ({x})"),
        None => "Allocated".to_string(),
    };
    let no_match = || {
        Error::Conflict(format!(
            "No available machine matches constraints: {}",
            describe(params)
        ))
    };
    let needs_rust = !c.storage.is_empty() || !c.interfaces.is_empty();
    let mut by_type = json!({});
    let mut claimed: Option<FullMachine> = None;
    let id = if !needs_rust {
        if c.dry_run {
            db::candidates(&ctx.db, &filter, 0, 1)
                .await?
                .into_iter()
                .next()
        } else {
            claimed = claim_one(ctx, &filter, user, &agent, &desc).await?;
            claimed
                .as_ref()
                .map(|m| (m.row.id, m.row.system_id.clone()))
        }
    } else {
        let mut chosen = None;
        let mut offset = 0;
        'outer: loop {
            let batch = db::candidates(&ctx.db, &filter, offset, 200).await?;
            if batch.is_empty() {
                break;
            }
            offset += batch.len() as i64;
            let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
            let disks = db::disk_facts(&ctx.db, &ids).await?;
            let ifaces = db::interface_facts(&ctx.db, &ids).await?;
            for (id, system_id) in &batch {
                let disks_of = disks.get(id).map(|v| v.as_slice()).unwrap_or(&[]);
                let Some(s) = match_storage(&c.storage, disks_of) else {
                    continue;
                };
                let ifaces_of = ifaces.get(id).map(|v| v.as_slice()).unwrap_or(&[]);
                let Some(n) = match_interfaces(&c.interfaces, ifaces_of) else {
                    continue;
                };
                if !c.dry_run {
                    let one = MachineFilter {
                        id: Some(*id),
                        ..filter.clone()
                    };
                    claimed = claim_one(ctx, &one, user, &agent, &desc).await?;
                    if claimed.is_none() {
                        // Taken by a concurrent allocation: try the next one.
                        continue;
                    }
                }
                let list = |m: BTreeMap<String, i64>| -> serde_json::Value {
                    m.into_iter().map(|(k, v)| (k, json!([v]))).collect()
                };
                if !c.storage.is_empty() {
                    by_type["storage"] = list(s);
                }
                if !c.interfaces.is_empty() {
                    by_type["interfaces"] = list(n);
                }
                chosen = Some((*id, system_id.clone()));
                break 'outer;
            }
        }
        chosen
    };
    let (_, system_id) = id.ok_or_else(no_match)?;
    let mut full = match claimed {
        Some(m) => m,
        None => machines::get(ctx, &system_id).await?,
    };
    full.constraints_by_type = Some(by_type);
    Ok(full)
}
