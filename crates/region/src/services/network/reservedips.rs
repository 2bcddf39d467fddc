//! Reserved IPs: an address for a MAC in one subnet (named, or the most
//! specific one holding the address), outside dynamic ranges and unused,
//! one per MAC and address family on a VLAN. Writers lock the subnet first.

use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::network::{
    add, db_ip, finish, lock_subnet, not_found, owning_subnet, read, subnet_usage,
};
use crate::store::networks::ranges::{self, ReservedValues};
use crate::store::networks::subnets;
use crate::store::{self, Conn};

/// Check a reserved IP (ip + mac in a subnet); errors go on ip/mac_address.
pub async fn check_reserved_ip(
    c: &mut Conn,
    subnet_id: i64,
    without: Option<i64>,
    ip: &IpAddr,
    mac: &str,
) -> Result<()> {
    let mut errs = FieldErrors::new();
    let u = subnet_usage(c, subnet_id, None, without).await?;
    if let Err(m) = u.check_reserved_ip(ip) {
        add(&mut errs, "ip", m);
    }
    if ranges::reserved_ip_taken(c, ip, without).await? {
        add(
            &mut errs,
            "ip",
            "Reserved IP with this IP address already exists.",
        );
    }
    if let Some(o) = ranges::reserved_for_mac_on_vlan(c, mac, without, ip, subnet_id).await? {
        add(
            &mut errs,
            "mac_address",
            format!("{mac} already has the reserved IP {o} on this VLAN."),
        );
    }
    finish(errs)
}

/// Every reserved IP with its subnet, by id.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::reserved_ips(&mut c, None).await
}

pub async fn get(ctx: &Ctx, id: i64) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    read::reserved_ips(&mut c, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("ReservedIP"))
}

/// A reserved IP's parameters as parsed (`mac` normalised; absent, or
/// invalid: None).
#[derive(Debug, Default)]
pub struct ReservedIpParams {
    pub ip: Option<IpAddr>,
    pub mac: Option<String>,
    pub comment: Option<String>,
    /// The `subnet` parameter, if non-empty.
    pub subnet: Option<String>,
}

/// Create a reserved IP; `errs` are the parameters'.
pub async fn create(ctx: &Ctx, p: ReservedIpParams, mut errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let subnet =
        owning_subnet(&mut tx, p.subnet.as_deref(), p.ip.as_ref(), "ip", &mut errs).await?;
    finish(errs)?;
    let (Some(ip), Some(mac), Some(subnet)) = (p.ip, p.mac, subnet) else {
        return Err(Error::BadRequest("Incomplete reserved IP.".into()));
    };
    lock_subnet(&mut tx, subnet).await?;
    check_reserved_ip(&mut tx, subnet, None, &ip, &mac).await?;
    let v = ReservedValues {
        subnet_id: subnet,
        ip,
        mac: &mac,
        comment: p.comment.as_deref().unwrap_or_default(),
    };
    let id = ranges::reserved_insert(&mut tx, &v).await?;
    let out = read::reserved_ips(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

/// Update a reserved IP (absent parameters keep their value); it moves to
/// another subnet when asked, or when its new address leaves its subnet.
/// `errs` are the parameters', reported once the reserved IP is found.
pub async fn update(
    ctx: &Ctx,
    id: i64,
    p: ReservedIpParams,
    mut errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let cur = ranges::reserved_get(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("ReservedIP"))?;
    let mac = p.mac.unwrap_or(cur.mac_address);
    let comment = p.comment.unwrap_or(cur.comment);
    let ip = match p.ip {
        Some(ip) => ip,
        None => db_ip(&cur.ip)?,
    };
    let subnet = if p.subnet.is_some() || !subnets::holds(&mut tx, cur.subnet_id, &ip).await? {
        owning_subnet(&mut tx, p.subnet.as_deref(), Some(&ip), "ip", &mut errs).await?
    } else {
        Some(cur.subnet_id)
    };
    finish(errs)?;
    let Some(subnet) = subnet else {
        return Err(Error::field("ip", "No subnet holds this address."));
    };
    lock_subnet(&mut tx, subnet).await?;
    ranges::reserved_lock(&mut tx, id).await?;
    check_reserved_ip(&mut tx, subnet, Some(id), &ip, &mac).await?;
    let v = ReservedValues {
        subnet_id: subnet,
        ip,
        mac: &mac,
        comment: &comment,
    };
    ranges::reserved_update(&mut tx, id, &v).await?;
    let out = read::reserved_ips(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

pub async fn delete(ctx: &Ctx, id: i64) -> Result<()> {
    let mut c = store::acquire(&ctx.db).await?;
    if ranges::reserved_delete(&mut c, id).await? {
        Ok(())
    } else {
        Err(not_found("ReservedIP"))
    }
}
