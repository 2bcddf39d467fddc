//! IP range and reserved IP rules: each lies in one subnet (named, or the
//! most specific one holding its address), fits what else occupies the
//! subnet, and a DHCP-enabled VLAN keeps a dynamic range. Writers lock the
//! subnet first, so concurrent writes to one subnet are checked in turn.

use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use maas_model::net::{self, RangeType};

use crate::error::{Error, Result};
use crate::services::network::{
    add, db_ip, finish, invalid_choice, keep_dhcp_pool, lock_subnet, not_found, subnet_usage,
};
use crate::store::Conn;
use crate::store::networks::ranges::{self, RangeValues, ReservedValues};
use crate::store::networks::{subnet_by_spec, subnet_containing, subnets};

/// The subnet a range or reserved IP goes in: `subnet` (a non-empty
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

// ---------------------------------------------------------------------------
// IP ranges

/// Check a range against its subnet; errors go on start_ip/end_ip.
async fn check_range(
    c: &mut Conn,
    subnet_id: i64,
    without: Option<i64>,
    kind: RangeType,
    start: &IpAddr,
    end: &IpAddr,
) -> Result<()> {
    let mut errs = FieldErrors::new();
    let u = subnet_usage(c, subnet_id, without, None).await?;
    let problems = net::range_problems(&u.cidr, start, end);
    if !problems.is_empty() {
        for (f, m) in problems {
            add(&mut errs, f, m);
        }
    } else if let Err(m) = u.check_new_range(kind, start, end) {
        add(&mut errs, "start_ip", m.clone());
        add(&mut errs, "end_ip", m);
    }
    finish(errs)
}

/// A range's parameters as parsed (required ones are None only when the
/// parameters have errors).
pub struct RangeParams {
    pub kind: Option<RangeType>,
    pub start: Option<IpAddr>,
    pub end: Option<IpAddr>,
    pub comment: Option<String>,
    /// The `subnet` parameter, if non-empty.
    pub subnet: Option<String>,
}

/// Create an IP range for `user_id`; `errs` are the parameters'.
pub async fn create_range(
    c: &mut Conn,
    p: RangeParams,
    user_id: i64,
    mut errs: FieldErrors,
) -> Result<i64> {
    let subnet = owning_subnet(
        c,
        p.subnet.as_deref(),
        p.start.as_ref(),
        "start_ip",
        &mut errs,
    )
    .await?;
    finish(errs)?;
    let (Some(kind), Some(start), Some(end), Some(subnet)) = (p.kind, p.start, p.end, subnet)
    else {
        return Err(Error::BadRequest("Incomplete IP range.".into()));
    };
    lock_subnet(c, subnet).await?;
    check_range(c, subnet, None, kind, &start, &end).await?;
    let v = RangeValues {
        kind,
        start,
        end,
        comment: p.comment.as_deref().unwrap_or_default(),
    };
    ranges::insert(c, subnet, user_id, &v).await
}

/// Update an IP range (absent parameters keep their value). `errs` are the
/// parameters', reported once the range is found.
pub async fn update_range(c: &mut Conn, id: i64, p: RangeParams, errs: FieldErrors) -> Result<()> {
    let subnet = ranges::subnet_of(c, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    lock_subnet(c, subnet).await?;
    let cur = ranges::lock(c, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    let cur_kind = RangeType::parse(&cur.span.kind).unwrap_or(RangeType::Reserved);
    finish(errs)?;
    let kind = p.kind.unwrap_or(cur_kind);
    let start = match p.start {
        Some(s) => s,
        None => db_ip(&cur.span.start_ip)?,
    };
    let end = match p.end {
        Some(s) => s,
        None => db_ip(&cur.span.end_ip)?,
    };
    if cur_kind == RangeType::Dynamic && kind != RangeType::Dynamic {
        keep_dhcp_pool(c, cur.vlan_id, Some(id), None).await?;
    }
    check_range(c, subnet, Some(id), kind, &start, &end).await?;
    let v = RangeValues {
        kind,
        start,
        end,
        comment: p.comment.as_deref().unwrap_or(&cur.comment),
    };
    ranges::update(c, id, &v).await
}

/// Delete an IP range; a DHCP-enabled VLAN keeps a dynamic one.
pub async fn delete_range(c: &mut Conn, id: i64) -> Result<()> {
    let cur = ranges::lock(c, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    if cur.span.kind == "dynamic" {
        keep_dhcp_pool(c, cur.vlan_id, Some(id), None).await?;
    }
    ranges::delete(c, id).await
}

// ---------------------------------------------------------------------------
// Reserved IPs

/// Check a reserved IP (ip + mac in a subnet); errors go on ip/mac_address.
async fn check_reserved_ip(
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

/// A reserved IP's parameters as parsed (`mac` normalised; required ones
/// are None only when the parameters have errors).
pub struct ReservedIpParams {
    pub ip: Option<IpAddr>,
    pub mac: Option<String>,
    pub comment: Option<String>,
    /// The `subnet` parameter, if non-empty.
    pub subnet: Option<String>,
}

/// Create a reserved IP; `errs` are the parameters'.
pub async fn create_reserved_ip(
    c: &mut Conn,
    p: ReservedIpParams,
    mut errs: FieldErrors,
) -> Result<i64> {
    let subnet = owning_subnet(c, p.subnet.as_deref(), p.ip.as_ref(), "ip", &mut errs).await?;
    finish(errs)?;
    let (Some(ip), Some(mac), Some(subnet)) = (p.ip, p.mac, subnet) else {
        return Err(Error::BadRequest("Incomplete reserved IP.".into()));
    };
    lock_subnet(c, subnet).await?;
    check_reserved_ip(c, subnet, None, &ip, &mac).await?;
    let v = ReservedValues {
        subnet_id: subnet,
        ip,
        mac: &mac,
        comment: p.comment.as_deref().unwrap_or_default(),
    };
    ranges::reserved_insert(c, &v).await
}

/// Update a reserved IP (absent parameters keep their value); it moves to
/// another subnet when asked, or when its new address leaves its subnet.
/// `errs` are the parameters', reported once the reserved IP is found.
pub async fn update_reserved_ip(
    c: &mut Conn,
    id: i64,
    p: ReservedIpParams,
    mut errs: FieldErrors,
) -> Result<()> {
    let cur = ranges::reserved_get(c, id)
        .await?
        .ok_or_else(|| not_found("ReservedIP"))?;
    let mac = p.mac.unwrap_or(cur.mac_address);
    let comment = p.comment.unwrap_or(cur.comment);
    let ip = match p.ip {
        Some(ip) => ip,
        None => db_ip(&cur.ip)?,
    };
    let subnet = if p.subnet.is_some() || !subnets::holds(c, cur.subnet_id, &ip).await? {
        owning_subnet(c, p.subnet.as_deref(), Some(&ip), "ip", &mut errs).await?
    } else {
        Some(cur.subnet_id)
    };
    finish(errs)?;
    let Some(subnet) = subnet else {
        return Err(Error::field("ip", "No subnet holds this address."));
    };
    lock_subnet(c, subnet).await?;
    ranges::reserved_lock(c, id).await?;
    check_reserved_ip(c, subnet, Some(id), &ip, &mac).await?;
    let v = ReservedValues {
        subnet_id: subnet,
        ip,
        mac: &mac,
        comment: &comment,
    };
    ranges::reserved_update(c, id, &v).await
}

/// Delete a reserved IP.
pub async fn delete_reserved_ip(c: &mut Conn, id: i64) -> Result<()> {
    if ranges::reserved_delete(c, id).await? {
        Ok(())
    } else {
        Err(not_found("ReservedIP"))
    }
}
