//! An interface's links to subnets: `link_subnet` (AUTO, DHCP, STATIC,
//! LINK_UP), `unlink_subnet`, `disconnect`, `set_default_gateway`, the
//! LINK_UP MAAS keeps on a connected interface without links, and the
//! claiming of AUTO addresses at deploy.

use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use maas_model::net::{self, Cidr};

use super::{add, begin_edit, iface};
use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::network::addresses;
use crate::store::networks::{subnet_by_spec, subnets as subnet_db};
use crate::store::{self, Conn, interfaces as db};

/// A link mode as MAAS's API takes it (case-insensitive) and stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Dhcp,
    Static,
    LinkUp,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Mode::Auto),
            "dhcp" => Some(Mode::Dhcp),
            "static" => Some(Mode::Static),
            "link_up" => Some(Mode::LinkUp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Dhcp => "dhcp",
            Mode::Static => "static",
            Mode::LinkUp => "link_up",
        }
    }
}

/// `link_subnet`'s parameters.
#[derive(Debug, Default)]
pub struct LinkRequest {
    pub mode: Option<Mode>,
    pub subnet: Option<String>,
    pub ip: Option<IpAddr>,
    pub default_gateway: bool,
    pub force: bool,
}

fn db_cidr(s: &str) -> Result<Cidr> {
    Cidr::parse(s).map_err(|e| Error::internal(format!("stored network: {e}")))
}

/// Give an interface without links a LINK_UP link on its VLAN's first
/// subnet (MAAS's `ensure_link_up`).
pub async fn ensure_link_up(c: &mut Conn, iface: i64, vlan: Option<i64>) -> Result<()> {
    if !db::links_of(c, iface).await?.is_empty() {
        return Ok(());
    }
    if let Some(v) = vlan
        && let Some(s) = db::first_subnet_on(c, v).await?
    {
        db::insert_link(c, iface, s, Mode::LinkUp.as_str(), None).await?;
    }
    Ok(())
}

/// Why `ip` cannot be a static address on subnet `s` (the message for
/// `ip_address`): outside it, or inside one of its dynamic ranges.
pub async fn static_problem(
    c: &mut Conn,
    s: &subnet_db::SubnetRow,
    cidr: &Cidr,
    ip: &IpAddr,
) -> Result<Option<String>> {
    if !cidr.contains(ip) {
        return Ok(Some(format!(
            "IP address is not in the given subnet '{}'.",
            s.name
        )));
    }
    Ok(addresses::dynamic_range_of(c, s.id, ip)
        .await?
        .map(|(a, b)| format!("IP address is inside a dynamic range {a} to {b}.")))
}

/// The address a STATIC link takes: the requested one when nobody holds
/// it, else the subnet's first free one.
pub async fn take_static(c: &mut Conn, subnet: i64, ip: Option<IpAddr>) -> Result<IpAddr> {
    match ip {
        Some(ip) => {
            addresses::check_free(c, subnet, &ip).await?;
            Ok(ip)
        }
        None => addresses::pick(c, subnet).await,
    }
}

/// A subnet's stored CIDR, parsed.
pub fn subnet_cidr(s: &subnet_db::SubnetRow) -> Result<Cidr> {
    db_cidr(&s.cidr)
}

/// The interface's link a client names by id (`unlink_subnet id=…`).
pub fn link_named<'a>(links: &'a [db::LinkRec], given: &str) -> Result<&'a db::LinkRec> {
    given
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| links.iter().find(|l| l.id == n))
        .ok_or_else(|| {
            Error::field(
                "id",
                format!(
                    "Select a valid choice. {} is not one of the available choices.",
                    given.trim()
                ),
            )
        })
}

/// Link interface `id` to a subnet.
pub async fn link_subnet(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    r: LinkRequest,
    mut errs: FieldErrors,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "link subnet", false).await?;
    let mut i = iface(&mut tx, &node, id).await?;
    for (_, t, name) in db::children_of(&mut tx, i.id).await? {
        if t == "bond" {
            add(
                &mut errs,
                "bond",
                format!(
                    "Cannot link interface({}) when interface is in a bond({name}).",
                    i.name
                ),
            );
        }
    }
    // The subnet: any when the interface has no VLAN (or with force), else
    // one on its VLAN; for DHCP and LINK_UP without one, the VLAN's first.
    let mut subnet = None;
    match &r.subnet {
        Some(spec) => {
            let found = match subnet_by_spec(&mut tx, spec).await? {
                Some(s) => subnet_db::get(&mut tx, s).await?,
                None => None,
            };
            match found {
                Some(s) if r.force || i.vlan_id.is_none() || i.vlan_id == Some(s.vlan_id) => {
                    subnet = Some(s)
                }
                _ => add(
                    &mut errs,
                    "subnet",
                    "Select a valid choice. That choice is not one of the available choices.",
                ),
            }
        }
        None => {
            if matches!(r.mode, Some(Mode::Dhcp | Mode::LinkUp))
                && let Some(v) = i.vlan_id
                && let Some(s) = db::first_subnet_on(&mut tx, v).await?
            {
                subnet = subnet_db::get(&mut tx, s).await?;
            }
            if r.mode.is_some() && subnet.is_none() {
                add(&mut errs, "subnet", "This field is required.");
            }
        }
    }
    let links = db::links_of(&mut tx, i.id).await?;
    let cidr = subnet.as_ref().map(|s| db_cidr(&s.cidr)).transpose()?;
    match r.mode {
        Some(Mode::Dhcp) => {
            if let Some(l) = links.iter().find(|l| l.mode == "dhcp") {
                add(
                    &mut errs,
                    "mode",
                    format!("Interface is already set to DHCP from '{}'.", l.cidr),
                );
            }
        }
        Some(Mode::Static) => {
            if let (Some(ip), Some(s), Some(cidr)) = (&r.ip, &subnet, &cidr)
                && let Some(why) = static_problem(&mut tx, s, cidr, ip).await?
            {
                add(&mut errs, "ip_address", why);
            }
        }
        Some(Mode::LinkUp) if links.iter().any(|l| l.mode != "link_up") && !r.force => {
            add(
                &mut errs,
                "mode",
                "Cannot configure interface to link up (with no IP address) while other \
                     links are already configured. Specify force=True to override this behavior \
                     and delete all links.",
            );
        }
        _ => {}
    }
    if r.default_gateway
        && let Some(m) = r.mode
    {
        if !matches!(m, Mode::Auto | Mode::Static) {
            add(
                &mut errs,
                "default_gateway",
                format!("Cannot use in mode '{}'.", m.as_str()),
            );
        } else if let Some(s) = &subnet
            && s.gateway_ip.is_none()
        {
            add(
                &mut errs,
                "default_gateway",
                format!(
                    "Cannot set as default gateway because subnet {} doesn't provide a gateway \
                     IP address.",
                    s.name
                ),
            );
        }
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    let (Some(mode), Some(subnet)) = (r.mode, subnet) else {
        return Err(Error::internal("link without a mode or subnet"));
    };
    if mode == Mode::LinkUp || r.force {
        let ids: Vec<i64> = links.iter().map(|l| l.id).collect();
        db::delete_links(&mut tx, &ids).await?;
    } else {
        // A real link replaces the placeholder LINK_UP ones.
        let ids: Vec<i64> = links
            .iter()
            .filter(|l| l.mode == "link_up")
            .map(|l| l.id)
            .collect();
        db::delete_links(&mut tx, &ids).await?;
    }
    if i.vlan_id != Some(subnet.vlan_id) {
        i.vlan_id = Some(subnet.vlan_id);
        db::update(&mut tx, &i).await?;
    }
    let ip = match mode {
        Mode::Static => Some(take_static(&mut tx, subnet.id, r.ip).await?),
        _ => None,
    };
    let link = db::insert_link(&mut tx, i.id, subnet.id, mode.as_str(), ip.as_ref()).await?;
    if r.default_gateway {
        db::set_gateway(&mut tx, node.id, link).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Remove link `link_id` of interface `id`.
pub async fn unlink_subnet(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    link_id: Option<&str>,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "unlink subnet", false).await?;
    let i = iface(&mut tx, &node, id).await?;
    let links = db::links_of(&mut tx, i.id).await?;
    let Some(given) = link_id else {
        return Err(Error::field("id", "This field is required."));
    };
    let l = link_named(&links, given)?;
    db::delete_links(&mut tx, &[l.id]).await?;
    ensure_link_up(&mut tx, i.id, i.vlan_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Drop every link of interface `id` and disconnect it from its VLAN.
pub async fn disconnect(ctx: &Ctx, user: &User, system_id: &str, id: i64) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "disconnect", false).await?;
    let mut i = iface(&mut tx, &node, id).await?;
    let ids: Vec<i64> = db::links_of(&mut tx, i.id)
        .await?
        .iter()
        .map(|l| l.id)
        .collect();
    db::delete_links(&mut tx, &ids).await?;
    i.vlan_id = None;
    db::update(&mut tx, &i).await?;
    tx.commit().await?;
    Ok(())
}

/// Make a link of interface `id` the machine's default gateway (per
/// family; without `link_id`, the interface's one usable link per family).
pub async fn set_default_gateway(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    id: i64,
    link_id: Option<&str>,
) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let node = begin_edit(&mut tx, user, system_id, "set default gateway", false).await?;
    let i = iface(&mut tx, &node, id).await?;
    let usable: Vec<db::LinkRec> = db::links_of(&mut tx, i.id)
        .await?
        .into_iter()
        .filter(|l| l.gateway_ip.is_some())
        .collect();
    if usable.is_empty() {
        return Err(Error::field(
            "__all__",
            "This interface has no usable gateways.",
        ));
    }
    let v6 = |l: &db::LinkRec| l.cidr.contains(':');
    let chosen: Vec<i64> = match link_id {
        Some(given) => {
            let Some(l) = given
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| usable.iter().find(|l| l.id == n))
            else {
                return Err(Error::field(
                    "link_id",
                    format!(
                        "Select a valid choice. {} is not one of the available choices.",
                        given.trim()
                    ),
                ));
            };
            vec![l.id]
        }
        None => {
            let mut too_many = Vec::new();
            for (fam, six) in [(4, false), (6, true)] {
                let mut gws: Vec<&str> = usable
                    .iter()
                    .filter(|l| v6(l) == six)
                    .filter_map(|l| l.gateway_ip.as_deref())
                    .collect();
                gws.sort();
                gws.dedup();
                if gws.len() > 1 {
                    too_many.push(format!("IPv{fam}"));
                }
            }
            if !too_many.is_empty() {
                let s = if too_many.len() > 1 { "s" } else { "" };
                return Err(Error::field(
                    "link_id",
                    format!(
                        "This field is required; Interface has more than one usable {} gateway{s}.",
                        too_many.join(" and ")
                    ),
                ));
            }
            [false, true]
                .iter()
                .filter_map(|six| usable.iter().find(|l| v6(l) == *six).map(|l| l.id))
                .collect()
        }
    };
    for l in chosen {
        db::set_gateway(&mut tx, node.id, l).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Give every AUTO link of the machine without an address one (MAAS's
/// `claim_auto_ips`, at deploy). Call inside the deploy's transaction.
pub async fn claim_auto_ips(c: &mut Conn, machine_id: i64) -> Result<()> {
    for (link, subnet) in db::unclaimed_auto_links(c, machine_id).await? {
        let ip = addresses::pick(c, subnet).await?;
        db::set_link_ip(c, link, &ip).await?;
    }
    Ok(())
}

/// Give the AUTO links' addresses back (MAAS's `release_auto_ips`, at
/// release).
pub async fn release_auto_ips(c: &mut Conn, machine_id: i64) -> Result<()> {
    db::clear_auto_ips(c, machine_id).await
}

/// Parse an `ip_address` parameter; an error goes on `field`.
pub fn parse_ip(v: &str, field: &str, errs: &mut FieldErrors) -> Option<IpAddr> {
    match net::parse_ip(v.trim()) {
        Ok(ip) => Some(ip),
        Err(_) => {
            add(errs, field, "Enter a valid IPv4 or IPv6 address.");
            None
        }
    }
}
