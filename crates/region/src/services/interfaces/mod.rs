//! A machine's interfaces as `nodes/{system_id}/interfaces/` edits them:
//! physical, bond, bridge and VLAN interfaces (`create`, `update`,
//! `delete`, tags), their links (`links`), default gateways and the
//! restoring of the commissioned configuration.
//!
//! Who may: admins, for machines (MAAS's `NodePermission.admin`); when:
//! New, Ready, Failed testing, Allocated or Broken (and Deployed for a few
//! fields of an update). Every write is one transaction; a refusal writes
//! nothing.

pub mod links;
pub mod params;

use std::collections::HashSet;

use maas_model::NodeStatus;
use maas_model::constraints::FieldErrors;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::render::InterfaceJson;
use crate::services::auth::User;
use crate::services::network::not_found;
use crate::services::{Ctx, lifecycle, machines};
use crate::store::machines::Core;
use crate::store::{self, Conn, interfaces as db};

/// The node that owns `nodes/{system_id}/interfaces/...`, locked for this
/// transaction: its id, status and owner. (Machines only for now; devices
/// extend this one lookup.)
pub async fn node_for(c: &mut Conn, system_id: &str) -> Result<Core> {
    lifecycle::lock(c, system_id).await
}

/// Statuses in which a machine's interfaces may be changed (MAAS's
/// `ALLOWED_STATES`).
/// Bond modes a bond takes (`bond_mode`), for both edges.
pub const BOND_MODES: [&str; 7] = [
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
];

const ALLOWED: [NodeStatus; 5] = [
    NodeStatus::New,
    NodeStatus::Ready,
    NodeStatus::FailedTesting,
    NodeStatus::Allocated,
    NodeStatus::Broken,
];

/// Refuse unless the node may have its interfaces changed by `op`.
pub fn check_state(node: &Core, op: &str, deployed_too: bool) -> Result<()> {
    if ALLOWED.contains(&node.status) || (deployed_too && node.status == NodeStatus::Deployed) {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "Cannot {op} interface because the machine is not New, Ready, Allocated, or Broken."
    )))
}

/// Admins only (machines).
fn check_admin(user: &User) -> Result<()> {
    if user.is_superuser {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "You do not have permission to access this resource.".into(),
        ))
    }
}

/// Lock the node, check the caller and the state.
async fn begin_edit(
    c: &mut Conn,
    user: &User,
    system_id: &str,
    op: &str,
    deployed_too: bool,
) -> Result<Core> {
    let node = node_for(c, system_id).await?;
    check_admin(user)?;
    check_state(&node, op, deployed_too)?;
    Ok(node)
}

/// The interface `id` of the node, locked.
async fn iface(c: &mut Conn, node: &Core, id: i64) -> Result<db::IfaceRec> {
    db::get(c, node.id, id)
        .await?
        .ok_or_else(|| not_found("Interface"))
}

/// One interface as MAAS renders it, if the caller may see the node.
pub async fn get(ctx: &Ctx, user: &User, system_id: &str, id: i64) -> Result<InterfaceJson> {
    let m = machines::get_visible(ctx, user, system_id).await?;
    m.related
        .interfaces
        .iter()
        .find(|i| i.id == id)
        .cloned()
        .ok_or_else(|| not_found("Interface"))
}

/// The four kinds the API creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Physical,
    Bond,
    Bridge,
    Vlan,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Physical => "physical",
            Kind::Bond => "bond",
            Kind::Bridge => "bridge",
            Kind::Vlan => "vlan",
        }
    }

    fn of(t: &str) -> Kind {
        match t {
            "bond" => Kind::Bond,
            "bridge" => Kind::Bridge,
            "vlan" => Kind::Vlan,
            _ => Kind::Physical,
        }
    }
}

/// What a create or update asks for; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct IfaceSpec {
    pub name: Option<String>,
    pub mac: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `Some(None)`: disconnected (an empty `vlan`).
    pub vlan: Option<Option<i64>>,
    /// Parent ids as given (`parents` / `parent`), unparsed.
    pub parents: Option<Vec<String>>,
    /// Parameters to set (`Some`) or drop (`None`), by MAAS's key.
    pub params: Vec<(String, Option<Value>)>,
    pub enabled: Option<bool>,
    pub link_connected: Option<bool>,
    pub link_speed: Option<i32>,
    pub interface_speed: Option<i32>,
}

/// A parameter and its default.
type ParamDefault = (&'static str, fn() -> Value);

/// Bond parameters MAAS sets on a new bond when not given.
const BOND_DEFAULTS: [ParamDefault; 7] = [
    ("bond_mode", || Value::from("balance-rr")),
    ("bond_miimon", || Value::from(100)),
    ("bond_downdelay", || Value::from(0)),
    ("bond_updelay", || Value::from(0)),
    ("bond_num_grat_arp", || Value::from(1)),
    ("bond_lacp_rate", || Value::from("fast")),
    ("bond_xmit_hash_policy", || Value::from("layer2")),
];

const BRIDGE_DEFAULTS: [ParamDefault; 3] = [
    ("bridge_type", || Value::from("standard")),
    ("bridge_stp", || Value::from(false)),
    ("bridge_fd", || Value::from(15)),
];

fn add(errs: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    errs.entry(field.to_string()).or_default().push(msg.into());
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c))
}

/// Apply `spec.params` to `params` (the keys that belong to `kind`).
fn merge_params(
    kind: Kind,
    params: Option<Value>,
    spec: &IfaceSpec,
    created: bool,
) -> Option<Value> {
    let mut p: Map<String, Value> = match params {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let belongs = |k: &str| match kind {
        Kind::Bond => !k.starts_with("bridge_"),
        Kind::Bridge => !k.starts_with("bond_"),
        _ => !k.starts_with("bond_") && !k.starts_with("bridge_"),
    };
    if created {
        if kind == Kind::Bond {
            for (k, v) in BOND_DEFAULTS {
                p.insert(k.to_string(), v());
            }
        }
        if kind == Kind::Bridge {
            for (k, v) in BRIDGE_DEFAULTS {
                p.insert(k.to_string(), v());
            }
        }
    }
    for (k, v) in &spec.params {
        if !belongs(k) {
            continue;
        }
        match v {
            Some(v) => {
                p.insert(k.clone(), v.clone());
            }
            None => {
                p.remove(k);
            }
        }
    }
    (!p.is_empty()).then_some(Value::Object(p))
}

/// Resolve parent ids among the node's interfaces; errors go on `field`.
fn resolve_parents(
    given: &[String],
    all: &[db::IfaceRec],
    field: &str,
    errs: &mut FieldErrors,
) -> Vec<db::IfaceRec> {
    let mut out = Vec::new();
    for g in given {
        match g
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| all.iter().find(|i| i.id == id))
        {
            Some(i) => {
                if !out.iter().any(|o: &db::IfaceRec| o.id == i.id) {
                    out.push(i.clone());
                }
            }
            None => add(
                errs,
                field,
                format!(
                    "Select a valid choice. {} is not one of the available choices.",
                    g.trim()
                ),
            ),
        }
    }
    out
}

/// Create an interface of `kind` on the node; its id.
pub async fn create(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    kind: Kind,
    spec: IfaceSpec,
    mut errs: FieldErrors,
) -> Result<i64> {
    let mut tx = store::begin(&ctx.db).await?;
    let op = match kind {
        Kind::Physical => "create",
        Kind::Bond => "create bond",
        Kind::Bridge => "create bridge",
        Kind::Vlan => "create VLAN",
    };
    let node = begin_edit(&mut tx, user, system_id, op, false).await?;
    let all = db::of_machine(&mut tx, node.id).await?;
    let pfield = match kind {
        Kind::Vlan | Kind::Bridge => "parent",
        _ => "parents",
    };
    let parents = resolve_parents(
        spec.parents.as_deref().unwrap_or(&[]),
        &all,
        pfield,
        &mut errs,
    );
    let mut vlan = spec.vlan.flatten();
    if let Some(v) = vlan
        && db::vlan_info(&mut tx, v).await?.is_none()
    {
        add(
            &mut errs,
            "vlan",
            "Select a valid choice. That choice is not one of the available choices.",
        );
        vlan = None;
    }
    let mut mac = spec.mac.clone();
    let mut name = spec.name.clone();
    // Relations of each parent: (child id, type).
    let mut rels = Vec::new();
    for p in &parents {
        rels.push((p.clone(), db::children_of(&mut tx, p.id).await?));
    }
    match kind {
        Kind::Physical => {
            match &mac {
                // Given but not a MAC: that error stands alone.
                None if errs.contains_key("mac_address") => {}
                None => add(&mut errs, "mac_address", "This field is required."),
                Some(m) => {
                    if db::physical_mac_taken(&mut tx, m, None).await? {
                        add(
                            &mut errs,
                            "mac_address",
                            format!("MAC address {m} is already in use."),
                        );
                    }
                }
            }
            if name.is_none() {
                let taken: HashSet<&str> = all.iter().map(|i| i.name.as_str()).collect();
                name = (0..)
                    .map(|n| format!("eth{n}"))
                    .find(|n| !taken.contains(n.as_str()));
            }
        }
        Kind::Bond | Kind::Bridge => {
            if kind == Kind::Bond && name.is_none() {
                add(&mut errs, "name", "This field is required.");
            }
            if spec.parents.as_ref().is_none_or(|p| p.is_empty()) && !errs.contains_key(pfield) {
                add(
                    &mut errs,
                    pfield,
                    if kind == Kind::Bridge {
                        "A bridge interface must have at least one parent.".to_string()
                    } else {
                        "A bond interface must have one or more parents.".to_string()
                    },
                );
            }
            let mut busy: Vec<&str> = Vec::new();
            for (p, children) in &rels {
                if kind == Kind::Bridge && p.type_ == "bridge" {
                    add(
                        &mut errs,
                        pfield,
                        "A bridge interface can't have another bridge interface as parent.",
                    );
                }
                let blocking = children
                    .iter()
                    .any(|(_, t, _)| kind == Kind::Bond || t != "vlan");
                if blocking {
                    busy.push(&p.name);
                }
            }
            if kind == Kind::Bridge && !busy.is_empty() {
                add(
                    &mut errs,
                    pfield,
                    "A bridge interface can't have a parent that is already in a bond or a \
                     bridge.",
                );
            } else if !busy.is_empty() {
                busy.sort();
                add(
                    &mut errs,
                    pfield,
                    format!("Interfaces already in-use: {}.", busy.join(", ")),
                );
            }
            if let Some(first) = parents.first() {
                if mac.is_none() {
                    mac = Some(first.mac_address.clone());
                }
                if spec.vlan.is_none() {
                    vlan = first.vlan_id;
                }
                if kind == Kind::Bond && parents.iter().any(|p| p.vlan_id != vlan) {
                    add(
                        &mut errs,
                        pfield,
                        "All parents must belong to the same VLAN.",
                    );
                }
                if kind == Kind::Bridge && name.is_none() {
                    name = Some(format!("br-{}", first.name));
                }
            }
        }
        Kind::Vlan => {
            if spec.vlan.flatten().is_none() && !errs.contains_key("vlan") {
                add(
                    &mut errs,
                    "vlan",
                    "A VLAN interface must be connected to a tagged VLAN.",
                );
            }
            if parents.len() != 1 && !errs.contains_key("parent") {
                add(
                    &mut errs,
                    "parent",
                    "A VLAN interface must have exactly one parent.",
                );
            }
            if let Some((p, children)) = rels.first().filter(|_| parents.len() == 1) {
                if p.type_ == "vlan" {
                    add(
                        &mut errs,
                        "parent",
                        "A VLAN interface can't have another VLAN interface as parent.",
                    );
                }
                if children.iter().any(|(_, t, _)| t == "bond") {
                    add(
                        &mut errs,
                        "parent",
                        "A VLAN interface can't have a parent that is already in a bond.",
                    );
                }
                mac = Some(p.mac_address.clone());
                if let Some(v) = vlan
                    && let Some((vid, fabric)) = db::vlan_info(&mut tx, v).await?
                {
                    if vid == 0 {
                        add(
                            &mut errs,
                            "vlan",
                            "A VLAN interface can only belong to a tagged VLAN.",
                        );
                    } else {
                        let parent_fabric = match p.vlan_id {
                            Some(pv) => db::vlan_info(&mut tx, pv).await?.map(|x| x.1),
                            None => None,
                        };
                        if parent_fabric != Some(fabric) {
                            add(
                                &mut errs,
                                "vlan",
                                "A VLAN interface can only belong to a tagged VLAN on the same \
                                 fabric as its parent interface.",
                            );
                        }
                        name = Some(format!("{}.{vid}", p.name));
                    }
                }
            }
        }
    }
    if let Some(n) = &name {
        if !valid_name(n) {
            add(
                &mut errs,
                "name",
                format!("'{n}' is not a valid interface name."),
            );
        } else if db::name_taken(&mut tx, node.id, n, None).await? {
            add(
                &mut errs,
                "name",
                format!(
                    "Node {} already has an interface named '{n}'.",
                    node.hostname
                ),
            );
        }
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    let (Some(name), Some(mac)) = (name, mac) else {
        return Err(Error::internal("interface without a name or MAC"));
    };
    let params = merge_params(kind, None, &spec, true);
    let id = db::insert(
        &mut tx,
        &db::NewIface {
            machine_id: node.id,
            name: &name,
            type_: kind.as_str(),
            mac_address: &mac,
            tags: spec.tags.as_deref().unwrap_or(&[]),
            vlan_id: vlan,
            params: params.as_ref(),
            is_boot: all.is_empty(),
            enabled: spec.enabled.unwrap_or(true),
            link_connected: spec.link_connected.unwrap_or(true),
            link_speed: spec.link_speed.unwrap_or(0),
            interface_speed: spec.interface_speed.or(spec.link_speed).unwrap_or(0),
        },
    )
    .await?;
    if kind != Kind::Physical {
        let ids: Vec<i64> = parents.iter().map(|p| p.id).collect();
        db::set_parents(&mut tx, id, &ids).await?;
        if kind != Kind::Vlan {
            db::move_links(&mut tx, &ids, id).await?;
        }
        links::ensure_link_up(&mut tx, id, vlan).await?;
    }
    let text = format!("Added {} interface {name} ({mac}).", kind.as_str());
    let who = Some(user.username.as_str());
    lifecycle::event(&mut tx, Some(&node), who, "INFO", "Interface added", &text).await?;
    tx.commit().await?;
    Ok(id)
}

/// Update interface `id` of the node.
pub async fn update(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    spec: IfaceSpec,
    mut errs: FieldErrors,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "update interface", true).await?;
    let mut i = iface(&mut tx, &node, id).await?;
    let kind = Kind::of(&i.type_);
    let deployed = node.status == NodeStatus::Deployed;
    if let Some(n) = &spec.name
        && kind != Kind::Vlan
    {
        if !valid_name(n) {
            add(
                &mut errs,
                "name",
                format!("'{n}' is not a valid interface name."),
            );
        } else if db::name_taken(&mut tx, node.id, n, Some(i.id)).await? {
            add(
                &mut errs,
                "name",
                format!(
                    "Node {} already has an interface named '{n}'.",
                    node.hostname
                ),
            );
        }
        i.name = n.clone();
    }
    if let Some(m) = &spec.mac
        && kind != Kind::Vlan
    {
        if kind == Kind::Physical && db::physical_mac_taken(&mut tx, m, Some(i.id)).await? {
            add(
                &mut errs,
                "mac_address",
                format!("MAC address {m} is already in use."),
            );
        }
        i.mac_address = m.clone();
    }
    if let Some(c) = spec.link_connected {
        i.link_connected = c;
    }
    if let Some(s) = spec.link_speed {
        i.link_speed = s;
    }
    if let Some(s) = spec.interface_speed {
        i.interface_speed = s;
    }
    let mut vlan_changed = false;
    let mut new_parents: Option<Vec<i64>> = None;
    if !deployed {
        if let Some(t) = &spec.tags {
            i.tags = t.clone();
        }
        if let Some(e) = spec.enabled
            && kind == Kind::Physical
        {
            i.enabled = e;
        }
        if let Some(v) = spec.vlan {
            if let Some(id) = v
                && db::vlan_info(&mut tx, id).await?.is_none()
            {
                add(
                    &mut errs,
                    "vlan",
                    "Select a valid choice. That choice is not one of the available choices.",
                );
            } else if kind == Kind::Vlan && v.is_none() {
                add(
                    &mut errs,
                    "vlan",
                    "A VLAN interface must be connected to a tagged VLAN.",
                );
            } else if v != i.vlan_id {
                vlan_changed = true;
                i.vlan_id = v;
                // A VLAN interface is named after its parent and VID.
                if kind == Kind::Vlan
                    && let Some(id) = v
                    && let Some((vid, _)) = db::vlan_info(&mut tx, id).await?
                {
                    if vid == 0 {
                        add(
                            &mut errs,
                            "vlan",
                            "A VLAN interface can only belong to a tagged VLAN.",
                        );
                    }
                    let ps = db::parents_of(&mut tx, i.id).await?;
                    if let Some(p) = db::by_ids(&mut tx, &ps).await?.first() {
                        i.name = format!("{}.{vid}", p.name);
                    }
                }
            }
        }
        if let Some(given) = &spec.parents
            && kind != Kind::Physical
        {
            let field = if kind == Kind::Vlan {
                "parent"
            } else {
                "parents"
            };
            let all = db::of_machine(&mut tx, node.id).await?;
            let ps = resolve_parents(given, &all, field, &mut errs);
            if ps.iter().any(|p| p.id == i.id) || (kind == Kind::Vlan && ps.len() != 1) {
                add(&mut errs, field, "Invalid parents.");
            }
            for p in &ps {
                let others = db::children_of(&mut tx, p.id).await?;
                if kind != Kind::Vlan
                    && others.iter().any(|(cid, t, _)| *cid != i.id && t != "vlan")
                {
                    add(
                        &mut errs,
                        field,
                        format!("Interfaces already in-use: {}.", p.name),
                    );
                }
            }
            new_parents = Some(ps.iter().map(|p| p.id).collect());
        }
        i.params = merge_params(kind, i.params.take(), &spec, false);
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    db::update(&mut tx, &i).await?;
    db::rename_vlan_children(&mut tx, i.id, &i.name).await?;
    if vlan_changed {
        let ids: Vec<i64> = db::links_of(&mut tx, i.id)
            .await?
            .iter()
            .map(|l| l.id)
            .collect();
        db::delete_links(&mut tx, &ids).await?;
    }
    if let Some(ps) = new_parents {
        db::set_parents(&mut tx, i.id, &ps).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Delete interface `id` (and children left without a parent).
pub async fn delete(ctx: &Ctx, user: &User, system_id: &str, id: i64) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "delete interface", false).await?;
    let i = iface(&mut tx, &node, id).await?;
    let mut doomed = vec![i.id];
    let mut k = 0;
    while k < doomed.len() {
        for (child, _, _) in db::children_of(&mut tx, doomed[k]).await? {
            let ps = db::parents_of(&mut tx, child).await?;
            if ps.iter().all(|p| doomed.contains(p)) && !doomed.contains(&child) {
                doomed.push(child);
            }
        }
        k += 1;
    }
    db::delete(&mut tx, &doomed).await?;
    let text = format!("Deleted interface {}.", i.name);
    let who = Some(user.username.as_str());
    lifecycle::event(
        &mut tx,
        Some(&node),
        who,
        "INFO",
        "Interface deleted",
        &text,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Add (`add`) or remove a tag.
pub async fn tag(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    tag: &str,
    add: bool,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = node_for(&mut tx, system_id).await?;
    check_admin(user)?;
    let mut i = iface(&mut tx, &node, id).await?;
    i.tags.retain(|t| t != tag);
    if add {
        i.tags.push(tag.to_string());
    }
    db::update(&mut tx, &i).await?;
    tx.commit().await?;
    Ok(())
}

/// `machines/{system_id}/?op=clear_default_gateways`.
pub async fn clear_default_gateways(ctx: &Ctx, user: &User, system_id: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = node_for(&mut tx, system_id).await?;
    check_admin(user)?;
    db::clear_gateways(&mut tx, node.id).await?;
    tx.commit().await?;
    Ok(())
}

/// `machines/{system_id}/?op=restore_networking_configuration`: back to the
/// commissioned interfaces: every interface the API created goes (bonds,
/// bridges, VLANs, physical ones added by hand), every link goes, and the boot interface gets an AUTO link on its
/// VLAN's subnet (the others a LINK_UP one), as MAAS's initial networking
/// configuration does.
pub async fn restore_networking(ctx: &Ctx, user: &User, system_id: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = node_for(&mut tx, system_id).await?;
    check_admin(user)?;
    if !matches!(node.status, NodeStatus::Ready | NodeStatus::FailedTesting) {
        return Err(Error::Conflict(
            "Machine must be in a ready or failed testing state to restore networking \
             configuration"
                .into(),
        ));
    }
    let created = db::user_created(&mut tx, node.id).await?;
    db::delete(&mut tx, &created).await?;
    db::delete_machine_links(&mut tx, node.id).await?;
    let all = db::of_machine(&mut tx, node.id).await?;
    let boot = all.iter().find(|i| i.is_boot).or(all.first()).map(|i| i.id);
    for i in &all {
        let Some(v) = i.vlan_id else { continue };
        let Some(s) = db::first_subnet_on(&mut tx, v).await? else {
            continue;
        };
        let mode = if Some(i.id) == boot {
            "auto"
        } else {
            "link_up"
        };
        db::insert_link(&mut tx, i.id, s, mode, None).await?;
    }
    tx.commit().await?;
    Ok(())
}
