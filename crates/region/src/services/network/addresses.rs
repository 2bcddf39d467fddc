//! The one address allocator: which address of a subnet a static link or a
//! user reservation gets, and whether a requested one may be taken. Every
//! holder counts: interface links, reserved IPs (static leases), user
//! reservations (`ipaddresses/`), IP ranges (dynamic and reserved), the
//! gateway and DNS servers.

use std::net::IpAddr;

use maas_model::net::{RangeType, ip_to_u128};

use crate::error::{Error, Result};
use crate::services::network::{lock_subnet, subnet_usage};
use crate::store::{Conn, interfaces as iface_db};

/// MAAS's answer for an address someone holds (`StaticIPAddressUnavailable`).
pub fn in_use(ip: &IpAddr) -> Error {
    Error::NotFound(format!("The IP address {ip} is already in use."))
}

/// The dynamic range of the subnet holding `ip`, if any: (start, end).
pub async fn dynamic_range_of(
    c: &mut Conn,
    subnet_id: i64,
    ip: &IpAddr,
) -> Result<Option<(IpAddr, IpAddr)>> {
    let u = subnet_usage(c, subnet_id, None, None).await?;
    let v = ip_to_u128(*ip);
    Ok(u.ranges
        .iter()
        .find(|(t, s, e)| {
            *t == RangeType::Dynamic && (ip_to_u128(*s)..=ip_to_u128(*e)).contains(&v)
        })
        .map(|(_, s, e)| (*s, *e)))
}

/// Take `ip` on the subnet (locked for this transaction): refused when
/// anything holds it or a range covers it. The caller checked that the
/// subnet contains it.
pub async fn check_free(c: &mut Conn, subnet_id: i64, ip: &IpAddr) -> Result<()> {
    lock_subnet(c, subnet_id).await?;
    let u = subnet_usage(c, subnet_id, None, None).await?;
    if u.in_use().find(ip_to_u128(*ip)).is_some() || iface_db::ip_in_use(c, ip).await? {
        return Err(in_use(ip));
    }
    Ok(())
}

/// The first free address of the subnet (locked for this transaction),
/// outside every range and held address; 503 when there is none.
pub async fn pick(c: &mut Conn, subnet_id: i64) -> Result<IpAddr> {
    lock_subnet(c, subnet_id).await?;
    let u = subnet_usage(c, subnet_id, None, None).await?;
    let free = u.not_in_use();
    for span in &free.spans {
        let mut v = span.first;
        while v <= span.last {
            let ip = free.ip(v);
            if !iface_db::ip_in_use(c, &ip).await? {
                return Ok(ip);
            }
            v += 1;
        }
    }
    Err(Error::Unavailable(format!(
        "No more IPs available in subnet: {}.",
        u.cidr
    )))
}
