//! The network model's rules. One module per resource (`fabrics`, `vlans`,
//! `subnets`, `ipranges`, `reservedips`, `spaces`): each operation takes the
//! context and a typed request, opens its transaction, checks, writes, and
//! answers with the MAAS JSON `read` renders inside the same transaction.
//! Here: the rules several share (a DHCP-enabled VLAN keeps a dynamic range,
//! what occupies a subnet's addresses, which subnet an address goes in), and
//! placing the interfaces a rack reports into fabrics, VLANs and subnets.
//!
//! Writers take the field errors the edge found while parsing, add their
//! own, and refuse with all of them before anything is written; where MAAS
//! answers 404 for an unknown object first, they look it up before.

pub mod addresses;
pub mod fabrics;
pub mod ipranges;
pub mod read;
pub mod reservedips;
pub mod spaces;
pub mod subnets;
pub mod vlans;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use maas_model::net::{self, Cidr, RangeType, SubnetUsage};
use maas_model::rack::{Interface, parents_first};

use crate::error::{Error, Result};
use crate::store::networks::{ranges as range_db, subnets as subnet_db, vlans as vlan_db};
use crate::store::networks::{subnet_by_spec, subnet_containing};
use crate::store::{Conn, networks as db, networks::rack_ifaces};

/// MAAS's answer for an object that does not exist.
pub fn not_found(what: &str) -> Error {
    Error::NotFound(format!("No {what} matches the given query."))
}

/// MAAS's message for a value that names nothing.
pub fn invalid_choice(v: &str) -> String {
    format!("Select a valid choice. '{v}' is not one of the available choices.")
}

fn add(errs: &mut FieldErrors, field: &str, msg: impl Into<String>) {
    errs.entry(field.to_string()).or_default().push(msg.into());
}

/// Refuse with the collected errors, if any.
fn finish(errs: FieldErrors) -> Result<()> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errs))
    }
}

fn db_ip(s: &str) -> Result<IpAddr> {
    net::parse_ip(s).map_err(|e| Error::Internal(anyhow::anyhow!("stored address: {e}")))
}

fn db_cidr(s: &str) -> Result<Cidr> {
    Cidr::parse(s).map_err(|e| Error::Internal(anyhow::anyhow!("stored network: {e}")))
}

/// Lock a subnet for this transaction (ranges and reserved IPs are checked
/// against everything else on it).
async fn lock_subnet(c: &mut Conn, id: i64) -> Result<()> {
    if subnet_db::lock(c, id).await? {
        Ok(())
    } else {
        Err(not_found("Subnet"))
    }
}

/// The subnet an IP range or reserved IP goes in: `subnet` (a non-empty
/// parameter), or the most specific subnet holding `ip`. Errors go on
/// `subnet` or `ip_field`.
async fn owning_subnet(
    c: &mut Conn,
    subnet: Option<&str>,
    ip: Option<&IpAddr>,
    ip_field: &str,
    errs: &mut FieldErrors,
) -> Result<Option<i64>> {
    if let Some(s) = subnet {
        let id = subnet_by_spec(c, s).await?;
        if id.is_none() {
            add(errs, "subnet", invalid_choice(s));
        }
        return Ok(id);
    }
    let Some(ip) = ip else { return Ok(None) };
    let id = subnet_containing(c, ip).await?;
    if id.is_none() {
        add(
            errs,
            ip_field,
            format!("No subnet contains {ip}; create the subnet first."),
        );
    }
    Ok(id)
}

/// Refuse a change that would leave a DHCP-enabled VLAN without any dynamic
/// range (MAAS only turns DHCP on with one, and the racks need a pool).
pub async fn keep_dhcp_pool(
    c: &mut Conn,
    vlan_id: i64,
    without_range: Option<i64>,
    without_subnet: Option<i64>,
) -> Result<()> {
    if let Some(p) = vlan_db::dhcp_pool(c, vlan_id, without_range, without_subnet).await?
        && p.dhcp_on
        && p.dynamic_ranges == 0
    {
        return Err(Error::BadRequest(format!(
            "DHCP is on for VLAN {} of fabric {}, and this would leave it without a dynamic range; \
             turn DHCP off first.",
            p.vid, p.fabric
        )));
    }
    Ok(())
}

/// Everything occupying addresses of a subnet (optionally leaving out one
/// IP range or reserved IP: the one being edited).
pub async fn subnet_usage(
    c: &mut Conn,
    subnet_id: i64,
    without_range: Option<i64>,
    without_reserved: Option<i64>,
) -> Result<SubnetUsage> {
    let s = subnet_db::get(c, subnet_id)
        .await?
        .ok_or_else(|| not_found("Subnet"))?;
    let mut u = SubnetUsage::new(db_cidr(&s.cidr)?);
    u.gateway = s.gateway_ip.as_deref().map(db_ip).transpose()?;
    u.dns_servers = s
        .dns_servers
        .iter()
        .filter_map(|d| net::parse_ip(d).ok())
        .collect();
    u.managed = s.managed;
    for r in range_db::of_subnet(c, subnet_id, without_range).await? {
        let t = RangeType::parse(&r.kind).unwrap_or(RangeType::Reserved);
        u.ranges.push((t, db_ip(&r.start_ip)?, db_ip(&r.end_ip)?));
    }
    let assigned = subnet_db::assigned_ips(c, subnet_id).await?;
    u.assigned = assigned.iter().map(|a| db_ip(a)).collect::<Result<_>>()?;
    // The racks' own addresses on the subnet are taken too (MAAS holds
    // them as the controllers' sticky addresses).
    for a in rack_ifaces::all_addresses(c).await? {
        let host = a.split('/').next().unwrap_or("").trim();
        if let Ok(ip) = net::parse_ip(host)
            && u.cidr.contains(&ip)
            && !u.assigned.contains(&ip)
        {
            u.assigned.push(ip);
        }
    }
    let reserved = range_db::reserved_of_subnet(c, subnet_id, without_reserved).await?;
    u.reserved_ips = reserved.iter().map(|a| db_ip(a)).collect::<Result<_>>()?;
    Ok(u)
}

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
