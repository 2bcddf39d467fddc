//! SQL of a rack's desired state: the VLANs it serves and what is on them,
//! the DNS zones and their address records. Rows come in a fixed order, so
//! equal data reads back equal.

use std::net::IpAddr;

use maas_model::desired::{IpRange, Reservation, StaticRoute, Subnet};
use maas_model::net::{Cidr, RangeType};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::store::Conn;

/// A VLAN the rack is attached to (an interface on it) or serves DHCP on, or
/// one relayed to those; by id.
pub struct VlanRow {
    pub id: i64,
    pub vid: i32,
    pub fabric: String,
    pub mtu: i32,
    pub dhcp_on: bool,
    pub primary_rack_id: Option<i64>,
    pub secondary_rack_id: Option<i64>,
    pub relay_vlan_id: Option<i64>,
    /// Whether the primary rack has a session with a region now.
    pub primary_connected: bool,
}

pub async fn vlans(c: &mut Conn, rack_id: i64) -> Result<Vec<VlanRow>> {
    let rows = sqlx::query(
        "WITH mine AS (
             SELECT vlan_id AS id FROM rack_interfaces WHERE rack_id = $1 AND vlan_id IS NOT NULL
             UNION SELECT id FROM vlans WHERE primary_rack_id = $1 OR secondary_rack_id = $1)
         SELECT v.id, v.vid, f.name AS fabric, v.mtu, v.dhcp_on, v.primary_rack_id,
                v.secondary_rack_id, v.relay_vlan_id,
                coalesce(p.connected_region IS NOT NULL, false) AS primary_connected
           FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN racks p ON p.id = v.primary_rack_id
          WHERE v.id IN (SELECT id FROM mine) OR v.relay_vlan_id IN (SELECT id FROM mine)
          ORDER BY v.id",
    )
    .bind(rack_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VlanRow {
                id: r.try_get("id")?,
                vid: r.try_get("vid")?,
                fabric: r.try_get("fabric")?,
                mtu: r.try_get("mtu")?,
                dhcp_on: r.try_get("dhcp_on")?,
                primary_rack_id: r.try_get("primary_rack_id")?,
                secondary_rack_id: r.try_get("secondary_rack_id")?,
                relay_vlan_id: r.try_get("relay_vlan_id")?,
                primary_connected: r.try_get("primary_connected")?,
            })
        })
        .collect()
}

fn ip(s: &str) -> Result<IpAddr> {
    s.parse()
        .map_err(|_| Error::internal(format!("the database returned '{s}' as an address")))
}

/// The subnets on these VLANs, by id.
pub async fn subnets(c: &mut Conn, vlan_ids: &[i64]) -> Result<Vec<Subnet>> {
    let rows = sqlx::query(
        "SELECT id, vlan_id, cidr::text AS cidr, host(gateway_ip) AS gw, dns_servers,
                managed, allow_dns
           FROM subnets WHERE vlan_id = ANY($1) ORDER BY id",
    )
    .bind(vlan_ids)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let cidr: String = r.try_get("cidr")?;
            Ok(Subnet {
                id: r.try_get("id")?,
                vlan_id: r.try_get("vlan_id")?,
                cidr: Cidr::parse(&cidr).map_err(Error::internal)?,
                gateway_ip: r
                    .try_get::<Option<String>, _>("gw")?
                    .map(|g| ip(&g))
                    .transpose()?,
                dns_servers: r.try_get("dns_servers")?,
                managed: r.try_get("managed")?,
                allow_dns: r.try_get("allow_dns")?,
                static_routes: vec![],
            })
        })
        .collect()
}

/// The static routes whose source is one of these subnets: (source subnet
/// id, route), by source, destination and gateway.
pub async fn static_routes(c: &mut Conn, subnet_ids: &[i64]) -> Result<Vec<(i64, StaticRoute)>> {
    let rows: Vec<(i64, String, String, i32)> = sqlx::query_as(
        "SELECT r.source_id, d.cidr::text, host(r.gateway_ip), r.metric
           FROM static_routes r JOIN subnets d ON d.id = r.destination_id
          WHERE r.source_id = ANY($1) ORDER BY r.source_id, d.cidr, r.gateway_ip",
    )
    .bind(subnet_ids)
    .fetch_all(&mut *c)
    .await?;
    rows.into_iter()
        .map(|(source, dest, gw, metric)| {
            Ok((
                source,
                StaticRoute {
                    destination: Cidr::parse(&dest).map_err(Error::internal)?,
                    gateway: ip(&gw)?,
                    metric: metric.max(0) as u32,
                },
            ))
        })
        .collect()
}

/// A machine and its MACs, as the boot server needs them.
pub struct BootMachineRow {
    pub system_id: String,
    pub hostname: String,
    pub status: i16,
    pub macs: Vec<String>,
    pub architecture: String,
    pub osystem: String,
    pub distro_series: String,
    pub netboot: bool,
}

type BootMachineTuple = (
    String,
    String,
    i16,
    Vec<String>,
    String,
    String,
    String,
    bool,
);

/// Machines with an interface on one of these VLANs or on none (a machine
/// created with only its MACs), by system id; MACs lower-case and sorted.
pub async fn boot_machines(c: &mut Conn, vlan_ids: &[i64]) -> Result<Vec<BootMachineRow>> {
    let rows: Vec<BootMachineTuple> = sqlx::query_as(
        "SELECT m.system_id, m.hostname, m.status,
                array_agg(lower(i.mac_address::text) ORDER BY lower(i.mac_address::text)),
                m.architecture, m.osystem, m.distro_series, m.netboot
           FROM machines m JOIN interfaces i ON i.machine_id = m.id
          WHERE i.mac_address IS NOT NULL
          GROUP BY m.id
         HAVING bool_or(i.vlan_id IS NULL OR i.vlan_id = ANY($1))
          ORDER BY m.system_id",
    )
    .bind(vlan_ids)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(system_id, hostname, status, macs, architecture, osystem, distro_series, netboot)| {
                BootMachineRow {
                    system_id,
                    hostname,
                    status,
                    macs,
                    architecture,
                    osystem,
                    distro_series,
                    netboot,
                }
            },
        )
        .collect())
}

/// The IP ranges of these subnets, by subnet and start.
pub async fn ranges(c: &mut Conn, subnet_ids: &[i64]) -> Result<Vec<IpRange>> {
    let rows = sqlx::query(
        "SELECT subnet_id, type, host(start_ip) AS s, host(end_ip) AS e FROM ipranges
          WHERE subnet_id = ANY($1) ORDER BY subnet_id, start_ip",
    )
    .bind(subnet_ids)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("type")?;
            Ok(IpRange {
                subnet_id: r.try_get("subnet_id")?,
                kind: RangeType::parse(&kind)
                    .ok_or_else(|| Error::internal(format!("IP range type '{kind}'")))?,
                start_ip: ip(r.try_get("s")?)?,
                end_ip: ip(r.try_get("e")?)?,
            })
        })
        .collect()
}

/// Fixed addresses on these subnets: reserved IPs, machines' and devices'
/// auto and static addresses (with the node's hostname), and user
/// reservations made with a MAC; by subnet and address.
pub async fn reservations(c: &mut Conn, subnet_ids: &[i64]) -> Result<Vec<Reservation>> {
    let rows = sqlx::query(
        "SELECT subnet_id, mac_address AS mac, host(ip) AS ip, NULL::text AS hostname
           FROM reserved_ips WHERE subnet_id = ANY($1)
         UNION ALL
         SELECT l.subnet_id, i.mac_address, host(l.ip), coalesce(m.hostname, d.hostname)
           FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
           LEFT JOIN machines m ON m.id = i.machine_id
           LEFT JOIN devices d ON d.id = i.device_id
          WHERE l.subnet_id = ANY($1) AND l.ip IS NOT NULL AND l.mode IN ('auto', 'static')
         UNION ALL
         SELECT subnet_id, mac_address, host(ip), NULLIF(hostname, '')
           FROM ip_reservations WHERE subnet_id = ANY($1) AND mac_address IS NOT NULL
         ORDER BY 1, 3",
    )
    .bind(subnet_ids)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Reservation {
                subnet_id: r.try_get(0)?,
                mac: r.try_get(1)?,
                ip: ip(r.try_get(2)?)?,
                hostname: r.try_get(3)?,
            })
        })
        .collect()
}

/// A DNS domain, by name.
pub struct DomainRow {
    pub id: i64,
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
}

pub async fn domains(c: &mut Conn) -> Result<Vec<DomainRow>> {
    let rows: Vec<(i64, String, Option<i32>, bool)> =
        sqlx::query_as("SELECT id, name, ttl, authoritative FROM domains ORDER BY name")
            .fetch_all(&mut *c)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, ttl, authoritative)| DomainRow {
            id,
            name,
            ttl,
            authoritative,
        })
        .collect())
}
