//! `ipaddresses/`: addresses users reserve (MAAS's USER_RESERVED static
//! addresses). A reservation holds its address against the allocator
//! (`network::addresses`) and, never lying in a dynamic range, against the
//! racks' DHCP pools.

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::network::{addresses, read};
use crate::store::networks::{subnet_by_spec, subnet_containing, subnets as subnet_db};
use crate::store::{self, Conn, interfaces as iface_db, ipaddresses as db};

const URI: &str = "/MAAS/api/2.0/ipaddresses/";

async fn render(c: &mut Conn, r: &db::ReservationRow) -> Result<Value> {
    let owner = r.username.as_ref().map(|u| {
        crate::render::user_ref(
            u,
            r.email.as_deref().unwrap_or(""),
            r.is_superuser.unwrap_or(false),
            true,
        )
    });
    Ok(json!({
        "alloc_type": 4,
        "alloc_type_name": "User reserved",
        "created": r.created.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        "ip": r.ip,
        "owner": owner,
        "interface_set": [],
        "subnet": read::subnet(c, r.subnet_id).await?,
        "resource_uri": URI,
    }))
}

/// What `GET ipaddresses/` lists.
pub struct ListRequest {
    pub all: bool,
    pub owner: Option<String>,
    pub ip: Option<IpAddr>,
}

pub async fn list(ctx: &Ctx, user: &User, r: ListRequest) -> Result<Vec<Value>> {
    if r.all && !user.is_superuser {
        return Err(Error::Forbidden(
            "Listing all IP addresses requires admin privileges.".into(),
        ));
    }
    if r.owner.as_deref().is_some_and(|o| o != user.username) && !user.is_superuser {
        return Err(Error::Forbidden(
            "Listing another user's IP addresses requires admin privileges.".into(),
        ));
    }
    let mut c = ctx.db.acquire().await?;
    let (uid, uname) = match (&r.owner, r.all) {
        (Some(o), _) => (None, Some(o.as_str())),
        (None, true) => (None, None),
        (None, false) => (Some(user.id), None),
    };
    let rows = db::list(&mut c, uid, uname, r.ip.as_ref()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(render(&mut c, row).await?);
    }
    Ok(out)
}

/// What `op=reserve` asks for.
pub struct ReserveRequest {
    pub subnet: Option<String>,
    pub ip: Option<IpAddr>,
    pub hostname: String,
    pub mac: Option<String>,
}

pub async fn reserve(ctx: &Ctx, user: &User, r: ReserveRequest) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let subnet_id = match (&r.subnet, &r.ip) {
        (Some(s), _) => subnet_by_spec(&mut tx, s)
            .await?
            .ok_or_else(|| Error::BadRequest(format!("Unable to identify subnet: {s}.")))?,
        (None, Some(ip)) => subnet_containing(&mut tx, ip)
            .await?
            .ok_or_else(|| Error::BadRequest(format!("No known subnet for IP address: {ip}.")))?,
        (None, None) => {
            return Err(Error::BadRequest(
                "Must supply either the 'subnet' or the 'ip' parameter.".into(),
            ));
        }
    };
    if let Some(mac) = &r.mac
        && let Some(host) = iface_db::node_of_mac(&mut tx, mac).await?
    {
        return Err(Error::BadRequest(format!(
            "MAC address {mac} already belongs to {host}. Use of the interface API is \
             required, for an interface that belongs to a node."
        )));
    }
    let ip = match r.ip {
        Some(ip) => {
            let s = subnet_db::get(&mut tx, subnet_id)
                .await?
                .ok_or_else(|| Error::internal("subnet vanished"))?;
            let cidr = maas_model::net::Cidr::parse(&s.cidr)
                .map_err(|e| Error::internal(format!("stored network: {e}")))?;
            if !cidr.contains(&ip) {
                return Err(Error::Forbidden(format!(
                    "{ip} is not within subnet CIDR: {cidr}"
                )));
            }
            if addresses::dynamic_range_of(&mut tx, subnet_id, &ip)
                .await?
                .is_some()
            {
                return Err(Error::Forbidden(format!(
                    "IP address {ip} belongs to an existing dynamic range. To reserve this IP \
                     address, a MAC address is required. (Create a device instead.)"
                )));
            }
            addresses::check_free(&mut tx, subnet_id, &ip).await?;
            ip
        }
        None => addresses::pick(&mut tx, subnet_id).await?,
    };
    let id = db::insert(
        &mut tx,
        &ip,
        subnet_id,
        user.id,
        &r.hostname,
        r.mac.as_deref(),
    )
    .await?;
    let row = db::list(&mut tx, None, None, Some(&ip))
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| Error::internal("reservation vanished"))?;
    let out = render(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(out)
}

/// `op=release`: the caller's reservation of `ip` (any with `force`, admins).
pub async fn release(ctx: &Ctx, user: &User, ip: IpAddr, force: bool) -> Result<()> {
    if force && !user.is_superuser {
        return Err(Error::Forbidden(
            "Force-releasing an IP address requires admin privileges.".into(),
        ));
    }
    let mut tx = store::begin(&ctx.db).await?;
    let owner = (!force).then_some(user.id);
    if !db::delete(&mut tx, &ip, owner).await? {
        return Err(Error::BadRequest(if force {
            format!("IP address {ip} does not exist.")
        } else {
            format!(
                "IP address {ip} does not exist, is not the correct type of address, or does \
                 not belong to the requesting user.\nIf you are sure you want to release this \
                 address, use force=true as a MAAS administrator."
            )
        }));
    }
    tx.commit().await?;
    Ok(())
}
