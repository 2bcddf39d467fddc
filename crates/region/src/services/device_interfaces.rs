//! A device's interfaces under `nodes/{system_id}/interfaces/{id}/`: read,
//! update (name, MAC, VLAN), delete, and links — STATIC (a given or the
//! first free address), DHCP and LINK_UP, as MAAS allows them on devices —
//! for the device's owner or an admin.

use std::net::IpAddr;

use maas_model::ids;

use crate::error::{Error, Result};
use crate::render::InterfaceJson;
use crate::services::auth::User;
use crate::services::devices::{self, lock_editable};
use crate::services::interfaces::links::{
    Mode, link_named, static_problem, subnet_cidr, take_static,
};
use crate::services::{Ctx, machines};
use crate::store::devices::{self as db, DeviceIface};
use crate::store::networks::{subnet_by_spec, subnets as subnet_db, vlan_exists};
use crate::store::{self, Conn, interfaces as iface_db};

fn not_found() -> Error {
    Error::NotFound("No Interface matches the given query.".into())
}

/// What a PUT may change.
#[derive(Debug, Default)]
pub struct IfaceUpdate {
    pub name: Option<String>,
    pub mac: Option<String>,
    pub vlan: Option<Option<i64>>,
}

/// (the device's id, the interface), both locked.
async fn locked(c: &mut Conn, user: &User, system_id: &str, id: i64) -> Result<(i64, DeviceIface)> {
    let d = lock_editable(c, user, system_id).await?;
    let i = db::interface(c, d.id, id).await?.ok_or_else(not_found)?;
    Ok((d.id, i))
}

/// The interface as rendered in the device's `interface_set`.
pub async fn get(ctx: &Ctx, system_id: &str, id: i64) -> Result<InterfaceJson> {
    devices::get(ctx, system_id)
        .await?
        .interfaces
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(not_found)
}

pub async fn update(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    u: IfaceUpdate,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let (device, mut i) = locked(&mut tx, user, system_id, id).await?;
    if let Some(name) = u.name {
        if !machines::valid_device_name(&name) {
            return Err(Error::field(
                "name",
                format!("'{name}' is not a valid interface name."),
            ));
        }
        if name != i.1 && db::interface_names(&mut tx, device).await?.contains(&name) {
            return Err(Error::field(
                "name",
                format!("Interface with name \"{name}\" already exists on this node."),
            ));
        }
        i.1 = name;
    }
    if let Some(mac) = u.mac {
        let mac = ids::normalize_mac(&mac).ok_or_else(|| {
            Error::field(
                "mac_address",
                format!("'{mac}' is not a valid MAC address."),
            )
        })?;
        if mac != i.2
            && !crate::store::machines::write::physical_macs_in_use(
                &mut tx,
                std::slice::from_ref(&mac),
            )
            .await?
            .is_empty()
        {
            return Err(Error::field(
                "mac_address",
                format!("MAC address {mac} is already in use."),
            ));
        }
        i.2 = mac;
    }
    if let Some(vlan) = u.vlan {
        if let Some(v) = vlan
            && !vlan_exists(&mut tx, v).await?
        {
            return Err(Error::field(
                "vlan",
                "Select a valid choice. That choice is not one of the available choices.",
            ));
        }
        if vlan != i.3 {
            // Links belong to the old VLAN's subnets.
            let links: Vec<i64> = iface_db::links_of(&mut tx, i.0)
                .await?
                .iter()
                .map(|l| l.id)
                .collect();
            iface_db::delete_links(&mut tx, &links).await?;
        }
        i.3 = vlan;
    }
    db::update_interface(&mut tx, &i).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(ctx: &Ctx, user: &User, system_id: &str, id: i64) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let (_, i) = locked(&mut tx, user, system_id, id).await?;
    db::delete_interface(&mut tx, i.0).await?;
    tx.commit().await?;
    Ok(())
}

/// Link the interface to a subnet: STATIC, DHCP or LINK_UP (AUTO is for
/// machines, whose addresses are claimed at deploy).
pub async fn link_subnet(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    mode: Mode,
    subnet: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    if mode == Mode::Auto {
        return Err(Error::field(
            "mode",
            "Select a valid choice. AUTO is not one of the available choices.",
        ));
    }
    let mut tx = store::begin(&ctx.db).await?;
    let (_, mut i) = locked(&mut tx, user, system_id, id).await?;
    let s = match subnet_by_spec(&mut tx, subnet).await? {
        Some(s) => subnet_db::get(&mut tx, s).await?,
        None => None,
    }
    .ok_or_else(|| {
        Error::field(
            "subnet",
            "Select a valid choice. That choice is not one of the available choices.",
        )
    })?;
    let ip = match mode {
        Mode::Static => {
            if let Some(ip) = &ip
                && let Some(why) = static_problem(&mut tx, &s, &subnet_cidr(&s)?, ip).await?
            {
                return Err(Error::field("ip_address", why));
            }
            Some(take_static(&mut tx, s.id, ip).await?)
        }
        _ => None,
    };
    let old = iface_db::links_of(&mut tx, i.0).await?;
    let replaced: Vec<i64> = old
        .iter()
        .filter(|l| mode == Mode::LinkUp || l.mode == "link_up")
        .map(|l| l.id)
        .collect();
    iface_db::delete_links(&mut tx, &replaced).await?;
    if i.3 != Some(s.vlan_id) {
        i.3 = Some(s.vlan_id);
        db::update_interface(&mut tx, &i).await?;
    }
    iface_db::insert_link(&mut tx, i.0, s.id, mode.as_str(), ip.as_ref()).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unlink_subnet(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    link: &str,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let (_, i) = locked(&mut tx, user, system_id, id).await?;
    let links = iface_db::links_of(&mut tx, i.0).await?;
    let l = link_named(&links, link)?;
    iface_db::delete_links(&mut tx, &[l.id]).await?;
    tx.commit().await?;
    Ok(())
}
