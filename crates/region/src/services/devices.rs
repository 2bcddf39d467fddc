//! Devices: non-deployable nodes owned by their creator, with interfaces
//! given by MAC, an optional parent machine, a zone and a domain. Who may do
//! what follows MAAS: anyone may read a device, its owner (or an admin) may
//! change or delete it, only admins may reset its networking.

use std::collections::HashMap;
use std::sync::Arc;

use maas_model::{SystemId, ids};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::render::InterfaceJson;
use crate::render::related::{SharedNames, assemble};
use crate::services::Ctx;
use crate::services::auth::{self, User};
use crate::store::devices::{self as db, DeviceFilter, DeviceRow, DeviceUpdate, NewDevice};
use crate::store::machines::related::shared_names;
use crate::store::{Conn, names};

pub use crate::store::devices::DeviceFilter as Filter;

/// A device with what it renders.
pub struct FullDevice {
    pub row: DeviceRow,
    pub interfaces: Vec<InterfaceJson>,
    pub shared: Arc<SharedNames>,
}

pub fn not_found() -> Error {
    Error::NotFound("No Device matches the given query.".into())
}

const BAD_CHOICE: &str = "Select a valid choice. That choice is not one of the available choices.";

async fn complete(ctx: &Ctx, c: &mut Conn, rows: Vec<DeviceRow>) -> Result<Vec<FullDevice>> {
    let shared = Arc::new(shared_names(&ctx.hot).await?);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (ifaces, links) = db::related(c, &ids).await?;
    let mut if_by: HashMap<i64, Vec<_>> = HashMap::new();
    for i in ifaces {
        if_by.entry(i.1).or_default().push(i);
    }
    let mut links_by: HashMap<i64, Vec<_>> = HashMap::new();
    for (d, l) in links {
        links_by.entry(d).or_default().push(l);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let r = assemble(
                &row.system_id,
                if_by.remove(&row.id).unwrap_or_default(),
                links_by.remove(&row.id).unwrap_or_default(),
                vec![],
                vec![],
            );
            FullDevice {
                row,
                interfaces: r.interfaces,
                shared: shared.clone(),
            }
        })
        .collect())
}

/// The devices `f` selects that `user` may list: admins all, others their own.
pub async fn list(ctx: &Ctx, user: &User, mut f: DeviceFilter) -> Result<Vec<FullDevice>> {
    if !user.is_superuser {
        f.owner = Some(user.id);
    }
    let mut c = crate::store::acquire(&ctx.db).await?;
    let rows = db::list(&mut c, &f).await?;
    complete(ctx, &mut c, rows).await
}

/// One device (any user may read a device by its system id, as in MAAS).
pub async fn get(ctx: &Ctx, system_id: &str) -> Result<FullDevice> {
    let mut c = crate::store::acquire(&ctx.db).await?;
    let row = db::get(&mut c, system_id).await?.ok_or_else(not_found)?;
    let mut all = complete(ctx, &mut c, vec![row]).await?;
    all.pop().ok_or_else(not_found)
}

/// Whether a device with this system id exists.
pub async fn exists(ctx: &Ctx, system_id: &str) -> Result<bool> {
    let mut c = crate::store::acquire(&ctx.db).await?;
    Ok(db::get(&mut c, system_id).await?.is_some())
}

fn can_edit(user: &User, d: &DeviceRow) -> bool {
    user.is_superuser || d.owner_id.is_none() || d.owner_id == Some(user.id)
}

fn forbidden() -> Error {
    Error::Forbidden("You do not have permission to edit this device.".into())
}

/// The device locked, if `user` may edit it.
pub(crate) async fn lock_editable(c: &mut Conn, user: &User, system_id: &str) -> Result<DeviceRow> {
    let d = db::lock(c, system_id).await?.ok_or_else(not_found)?;
    if !can_edit(user, &d) {
        return Err(forbidden());
    }
    Ok(d)
}

async fn domain_id(c: &mut Conn, d: &str) -> Result<i64> {
    names::domain_id(c, d)
        .await?
        .ok_or_else(|| Error::field("domain", format!("Unable to find domain {d}")))
}

async fn zone_id(c: &mut Conn, z: &str) -> Result<i64> {
    names::zone_id(c, z)
        .await?
        .ok_or_else(|| Error::field("zone", BAD_CHOICE))
}

async fn parent(c: &mut Conn, p: &str) -> Result<(i64, i64)> {
    db::machine(c, p)
        .await?
        .ok_or_else(|| Error::field("parent", BAD_CHOICE))
}

async fn check_hostname(c: &mut Conn, h: &str, domain: i64, except: i64) -> Result<()> {
    if names::hostname_taken(c, h, domain, -1, except).await? {
        return Err(Error::field(
            "hostname",
            format!("Node with hostname \"{h}\" already exists."),
        ));
    }
    Ok(())
}

/// A device to create (checked by the caller except what needs the database).
pub struct CreateRequest {
    pub hostname: Option<String>,
    pub domain: Option<String>,
    pub macs: Vec<String>,
    pub parent: Option<String>,
    pub description: String,
    pub zone: Option<String>,
}

/// Create a device owned by `user`; its system id.
pub async fn create(ctx: &Ctx, user: &User, r: CreateRequest) -> Result<String> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let parent = match &r.parent {
        Some(p) => Some(parent(&mut tx, p).await?),
        None => None,
    };
    // Without a domain, a device takes its parent's.
    let domain = match (&r.domain, parent) {
        (Some(d), _) => domain_id(&mut tx, d).await?,
        (None, Some((_, d))) => d,
        (None, None) => 0,
    };
    let zone = match &r.zone {
        Some(z) => zone_id(&mut tx, z).await?,
        None => 1,
    };
    let taken = crate::store::machines::write::physical_macs_in_use(&mut tx, &r.macs).await?;
    if !taken.is_empty() {
        return Err(Error::field(
            "mac_addresses",
            format!(
                "One or more MAC addresses is invalid. ({} already in use.)",
                taken.join(", ")
            ),
        ));
    }
    let hostname = match r.hostname {
        Some(h) => {
            check_hostname(&mut tx, &h, domain, -1).await?;
            h
        }
        None => {
            let mut h = ids::new_hostname();
            while names::hostname_taken(&mut tx, &h, domain, -1, -1).await? {
                h = format!(
                    "{}-{}",
                    ids::new_hostname(),
                    auth::random_string(4).to_lowercase()
                );
            }
            h
        }
    };
    let mut system_id = SystemId::new_random();
    let id = loop {
        let new = NewDevice {
            system_id: system_id.as_str(),
            hostname: &hostname,
            domain_id: domain,
            description: &r.description,
            owner_id: Some(user.id),
            zone_id: zone,
            parent_id: parent.map(|p| p.0),
        };
        match db::insert(&mut tx, &new).await? {
            Some(id) => break id,
            None => system_id = SystemId::new_random(),
        }
    };
    for (n, mac) in r.macs.iter().enumerate() {
        db::insert_interface(&mut tx, id, &format!("eth{n}"), mac, None, &[]).await?;
    }
    tx.commit().await?;
    Ok(system_id.as_str().to_string())
}

/// Fields to change; `None`: unchanged.
#[derive(Debug, Default)]
pub struct UpdateRequest {
    pub hostname: Option<String>,
    pub domain: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: remove the parent.
    pub parent: Option<Option<String>>,
    pub zone: Option<String>,
}

pub async fn update(ctx: &Ctx, user: &User, system_id: &str, r: UpdateRequest) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let d = lock_editable(&mut tx, user, system_id).await?;
    let mut u = DeviceUpdate {
        description: r.description,
        ..Default::default()
    };
    match &r.parent {
        Some(Some(p)) => u.parent_id = Some(Some(parent(&mut tx, p).await?.0)),
        Some(None) => u.parent_id = Some(None),
        None => {}
    }
    if let Some(dm) = &r.domain {
        u.domain_id = Some(domain_id(&mut tx, dm).await?);
    }
    if let Some(z) = &r.zone {
        u.zone_id = Some(zone_id(&mut tx, z).await?);
    }
    let domain = u.domain_id.unwrap_or(d.domain_id);
    let host = r.hostname.clone().unwrap_or_else(|| d.hostname.clone());
    if host != d.hostname || domain != d.domain_id {
        check_hostname(&mut tx, &host, domain, d.id).await?;
    }
    u.hostname = r.hostname;
    db::update(&mut tx, d.id, &u).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(ctx: &Ctx, user: &User, system_id: &str) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let d = lock_editable(&mut tx, user, system_id).await?;
    db::delete(&mut tx, d.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Set (or, with an empty value, remove) keys of the owner's data; only the
/// device's owner may (409 for others who may edit it, as MAAS).
pub async fn set_owner_data(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    changes: &[(String, String)],
) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let d = lock_editable(&mut tx, user, system_id).await?;
    if d.owner_id != Some(user.id) {
        return Err(Error::Conflict(
            "Cannot set workload annotation: it hasn't been acquired.".into(),
        ));
    }
    let mut data = serde_json::from_str::<Value>(&d.owner_data)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    for (k, v) in changes {
        if v.is_empty() {
            data.remove(k);
        } else {
            data.insert(k.clone(), Value::String(v.clone()));
        }
    }
    db::set_owner_data(&mut tx, d.id, Value::Object(data)).await?;
    tx.commit().await?;
    Ok(())
}

/// Back to the initial networking: no addresses on any interface (admin).
pub async fn restore_networking(ctx: &Ctx, system_id: &str) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let d = db::lock(&mut tx, system_id).await?.ok_or_else(not_found)?;
    db::clear_links(&mut tx, d.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Move devices to a zone (admin).
pub async fn set_zone(ctx: &Ctx, zone: &str, system_ids: &[String]) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let z = zone_id(&mut tx, zone).await?;
    db::set_zone(&mut tx, z, system_ids).await?;
    tx.commit().await?;
    Ok(())
}

/// A physical interface to add by hand.
pub struct InterfaceRequest {
    pub mac: String,
    pub name: Option<String>,
    pub vlan: Option<i64>,
    pub tags: Vec<String>,
    pub link_speed: i64,
}

/// Add a physical interface to a device (its owner or an admin); returns
/// its name.
pub async fn add_interface(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    r: InterfaceRequest,
) -> Result<String> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let d = lock_editable(&mut tx, user, system_id).await?;
    let taken = db::interface_names(&mut tx, d.id).await?;
    let name = match r.name {
        Some(n) => n,
        None => (0..)
            .map(|n| format!("eth{n}"))
            .find(|n| !taken.contains(n))
            .unwrap_or_default(),
    };
    if name.is_empty()
        || name.len() > 15
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(Error::field(
            "name",
            format!("'{name}' is not a valid interface name."),
        ));
    }
    if taken.contains(&name) {
        return Err(Error::field(
            "name",
            format!("Interface with name \"{name}\" already exists on this node."),
        ));
    }
    if let Some(v) = r.vlan
        && !crate::store::networks::vlan_exists(&mut tx, v).await?
    {
        return Err(Error::field("vlan", format!("No such VLAN: {v}.")));
    }
    let in_use =
        crate::store::machines::write::physical_macs_in_use(&mut tx, std::slice::from_ref(&r.mac))
            .await?;
    if !in_use.is_empty() {
        return Err(Error::field(
            "mac_address",
            format!("MAC address {} is already in use.", r.mac),
        ));
    }
    db::insert_interface(&mut tx, d.id, &name, &r.mac, r.vlan, &r.tags).await?;
    tx.commit().await?;
    Ok(name)
}
