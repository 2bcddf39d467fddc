//! Network-model rules that are not one resource's: placing the interfaces a
//! rack reports into fabrics, VLANs and subnets.

use std::collections::{HashMap, HashSet};

use maas_model::rack::{Interface, parents_first};

use crate::error::Result;
use crate::store::{Conn, networks as db, networks::rack_ifaces};

/// Record a rack's interfaces (replacing what it reported before) and, as
/// MAAS does on controller registration, place them in the network model:
/// each address's network is looked up among the subnets; an unknown one is
/// created — on a new fabric (with its untagged VLAN) for a physical
/// interface, on the VLAN with the interface's vid on its parent's fabric for
/// a VLAN interface, on the parent's VLAN for a bridge or bond. Loopback,
/// link-local and host-only (/32, /128) addresses are ignored. Reporting the
/// same interfaces again changes nothing.
///
/// Call it inside a transaction: it takes a transaction-scoped lock so that
/// racks registering at the same time do not create the same subnet twice.
pub async fn record_rack_interfaces(
    tx: &mut Conn,
    rack_id: i64,
    ifaces: &[Interface],
) -> Result<()> {
    db::lock(tx).await?;
    let mut seen = HashSet::new();
    let ifaces: Vec<&Interface> = ifaces
        .iter()
        .filter(|i| !i.name.trim().is_empty() && seen.insert(i.name.as_str()))
        .collect();
    let previous = rack_ifaces::vlans_by_name(tx, rack_id).await?;
    // Parents of VLAN interfaces need a fabric even without addresses.
    let vlan_parents: HashSet<&str> = ifaces
        .iter()
        .filter(|i| i.kind == "vlan")
        .filter_map(|i| i.parent.as_deref())
        .collect();
    let mut vlan_of: HashMap<&str, Option<i64>> = HashMap::new();
    for k in parents_first(&ifaces) {
        let i = ifaces[k];
        let (networks, bad) = i.networks();
        for (a, e) in bad {
            tracing::warn!(interface = %i.name, address = %a, "ignoring address: {e}");
        }
        let mut vlan = None;
        for cidr in &networks {
            if let Some(v) = db::subnet_vlan_by_cidr(tx, cidr).await? {
                vlan = Some(v);
                break;
            }
        }
        if vlan.is_none() {
            let parent_vlan = i
                .parent
                .as_deref()
                .and_then(|p| vlan_of.get(p).copied().flatten());
            let prev = match previous.get(&i.name).copied().flatten() {
                Some(v) if db::vlan_exists(tx, v).await? => Some(v),
                _ => None,
            };
            vlan = match (i.kind.as_str(), i.vid) {
                ("vlan", Some(vid)) if (1..=4094).contains(&vid) => match (parent_vlan, prev) {
                    (Some(pv), _) => {
                        let fabric = db::vlan_fabric(tx, pv).await?;
                        Some(db::vlan_on_fabric(tx, fabric, vid).await?)
                    }
                    (None, Some(p)) => Some(p),
                    (None, None) => {
                        let (fabric, _) = db::create_fabric(tx, None, None).await?;
                        Some(db::vlan_on_fabric(tx, fabric, vid).await?)
                    }
                },
                ("bridge" | "bond", _) if parent_vlan.is_some() => parent_vlan,
                _ => match prev {
                    Some(p) => Some(p),
                    None if !networks.is_empty() || vlan_parents.contains(i.name.as_str()) => {
                        Some(db::create_fabric(tx, None, None).await?.1)
                    }
                    None => None,
                },
            };
        }
        if let Some(v) = vlan {
            for cidr in &networks {
                if db::subnet_vlan_by_cidr(tx, cidr).await?.is_none() {
                    db::insert_discovered_subnet(tx, cidr, v).await?;
                }
            }
        }
        vlan_of.insert(i.name.as_str(), vlan);
    }
    // A bridge or bond placed on a new fabric takes its member along.
    for i in &ifaces {
        if (i.kind == "bridge" || i.kind == "bond")
            && let Some(p) = i.parent.as_deref()
            && let Some(None) = vlan_of.get(p)
            && let Some(v) = vlan_of.get(i.name.as_str()).copied().flatten()
        {
            vlan_of.insert(p, Some(v));
        }
    }
    let names: Vec<String> = ifaces.iter().map(|i| i.name.clone()).collect();
    rack_ifaces::delete_others(tx, rack_id, &names).await?;
    for i in &ifaces {
        let mac = maas_model::ids::normalize_mac(&i.mac)
            .unwrap_or_else(|| i.mac.trim().to_ascii_lowercase());
        let addresses: Vec<String> = i.addresses.iter().map(|a| a.trim().to_string()).collect();
        let vlan = vlan_of.get(i.name.as_str()).copied().flatten();
        rack_ifaces::upsert(tx, rack_id, i, &mac, &addresses, vlan).await?;
    }
    Ok(())
}
