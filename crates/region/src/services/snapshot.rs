//! The desired state of one rack, computed from the database: the VLANs it is
//! attached to or serves DHCP on (and VLANs relayed to those), their subnets,
//! IP ranges and reservations, boot settings, DNS zones, images and power
//! jobs. Deterministic order, so equal state hashes equal.

use maas_rpc::pb;
use prost::Message;
use sqlx::{PgPool, Row};

use crate::services::config;

pub fn hash(s: &pb::Snapshot) -> String {
    let mut c = s.clone();
    c.generation = 0;
    c.hash.clear();
    maas_rpc::tls::fingerprint(&c.encode_to_vec())
}

pub async fn compute(db: &PgPool, rack_id: i64) -> anyhow::Result<pb::Snapshot> {
    let vlan_rows = sqlx::query(
        "WITH mine AS (
             SELECT vlan_id AS id FROM rack_interfaces WHERE rack_id = $1 AND vlan_id IS NOT NULL
             UNION SELECT id FROM vlans WHERE primary_rack_id = $1 OR secondary_rack_id = $1)
         SELECT v.id, v.vid, f.name AS fabric, v.mtu, v.dhcp_on, v.primary_rack_id,
                v.secondary_rack_id, coalesce(v.relay_vlan_id, 0) AS relay
           FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
          WHERE v.id IN (SELECT id FROM mine) OR v.relay_vlan_id IN (SELECT id FROM mine)
          ORDER BY v.id",
    )
    .bind(rack_id)
    .fetch_all(db)
    .await?;
    let vlans: Vec<pb::Vlan> = vlan_rows
        .iter()
        .map(|r| {
            let role = if r.get::<Option<i64>, _>("primary_rack_id") == Some(rack_id) {
                "primary"
            } else if r.get::<Option<i64>, _>("secondary_rack_id") == Some(rack_id) {
                "secondary"
            } else {
                ""
            };
            pb::Vlan {
                id: r.get("id"),
                vid: r.get("vid"),
                fabric: r.get("fabric"),
                mtu: r.get::<i32, _>("mtu").max(0) as u32,
                dhcp_on: r.get("dhcp_on"),
                dhcp_role: role.into(),
                relay_vlan_id: r.get("relay"),
            }
        })
        .collect();
    let vlan_ids: Vec<i64> = vlans.iter().map(|v| v.id).collect();
    let subnet_rows = sqlx::query(
        "SELECT id, vlan_id, cidr::text AS cidr, coalesce(host(gateway_ip), '') AS gw, dns_servers,
                managed, allow_dns
           FROM subnets WHERE vlan_id = ANY($1) ORDER BY id",
    )
    .bind(&vlan_ids)
    .fetch_all(db)
    .await?;
    let subnets: Vec<pb::Subnet> = subnet_rows
        .iter()
        .map(|r| pb::Subnet {
            id: r.get("id"),
            vlan_id: r.get("vlan_id"),
            cidr: r.get("cidr"),
            gateway_ip: r.get("gw"),
            dns_servers: r.get("dns_servers"),
            managed: r.get("managed"),
            allow_dns: r.get("allow_dns"),
        })
        .collect();
    let subnet_ids: Vec<i64> = subnets.iter().map(|s| s.id).collect();
    let ranges = sqlx::query(
        "SELECT subnet_id, type, host(start_ip) AS s, host(end_ip) AS e FROM ipranges
          WHERE subnet_id = ANY($1) ORDER BY subnet_id, start_ip",
    )
    .bind(&subnet_ids)
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| pb::IpRange {
        subnet_id: r.get("subnet_id"),
        r#type: r.get("type"),
        start_ip: r.get("s"),
        end_ip: r.get("e"),
    })
    .collect();
    // Reservations: reserved IPs, and machines' static addresses with a MAC.
    let reservations = sqlx::query(
        "SELECT subnet_id, mac_address AS mac, host(ip) AS ip, '' AS hostname
           FROM reserved_ips WHERE subnet_id = ANY($1)
         UNION ALL
         SELECT l.subnet_id, i.mac_address, host(l.ip), m.hostname
           FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
           JOIN machines m ON m.id = i.machine_id
          WHERE l.subnet_id = ANY($1) AND l.ip IS NOT NULL AND l.mode IN ('auto', 'static')
         ORDER BY 1, 3",
    )
    .bind(&subnet_ids)
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| pb::Reservation {
        subnet_id: r.get(0),
        mac: r.get(1),
        ip: r.get(2),
        hostname: r.get(3),
    })
    .collect();
    let boot = pb::BootSettings {
        default_osystem: config::get_str(db, "default_osystem").await?,
        default_distro_series: config::get_str(db, "default_distro_series").await?,
        commissioning_osystem: config::get_str(db, "commissioning_osystem").await?,
        commissioning_distro_series: config::get_str(db, "commissioning_distro_series").await?,
        kernel_opts: config::get_str(db, "kernel_opts").await?,
        maas_url: config::get_str(db, "maas_url").await?,
    };
    let default_ttl = config::get_i64(db, "default_dns_ttl")
        .await?
        .clamp(1, 604800) as u32;
    let domain_rows = sqlx::query("SELECT id, name, ttl, authoritative FROM domains ORDER BY name")
        .fetch_all(db)
        .await?;
    let record_rows = sqlx::query(
        "SELECT m.domain_id, m.hostname, host(l.ip) AS ip, family(l.ip) AS fam
           FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
           JOIN machines m ON m.id = i.machine_id
          WHERE l.ip IS NOT NULL ORDER BY m.hostname, l.ip",
    )
    .fetch_all(db)
    .await?;
    let zones = domain_rows
        .iter()
        .map(|d| {
            let id: i64 = d.get("id");
            let ttl = d
                .get::<Option<i32>, _>("ttl")
                .map(|t| t.max(1) as u32)
                .unwrap_or(default_ttl);
            pb::DnsZone {
                name: d.get("name"),
                ttl,
                authoritative: d.get("authoritative"),
                records: record_rows
                    .iter()
                    .filter(|r| r.get::<i64, _>("domain_id") == id)
                    .map(|r| pb::DnsRecord {
                        name: r.get("hostname"),
                        rtype: if r.get::<i32, _>("fam") == 6 {
                            "AAAA"
                        } else {
                            "A"
                        }
                        .into(),
                        data: r.get("ip"),
                        ttl,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(pb::Snapshot {
        generation: 0,
        hash: String::new(),
        vlans,
        subnets,
        ranges,
        reservations,
        boot: Some(boot),
        zones,
        // Boot resources and BMC drivers are later issues: nothing to cache
        // or power yet.
        images: vec![],
        power_jobs: vec![],
    })
}
