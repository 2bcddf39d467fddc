//! The desired state of one rack, computed from the database: the VLANs it is
//! attached to or serves DHCP on (and VLANs relayed to those), their subnets,
//! IP ranges and reservations, boot settings, DNS zones, images and power
//! jobs; its content hash; and which generation a rack is pushed. The order
//! is deterministic, so equal state hashes equal.

use maas_model::desired::{BootSettings, DhcpRole, DnsRecord, DnsZone, Snapshot, Vlan};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::services::config;
use crate::store::snapshot::{self as db, AddressRow, DomainRow, VlanRow};
use crate::store::{Pool, racks};

/// The content hash: SHA-256 (hex) of the content (without generation and
/// hash) in its serialised form.
pub fn hash(s: &Snapshot) -> String {
    let bytes = serde_json::to_vec(s).expect("a snapshot always serialises");
    hex::encode(Sha256::digest(bytes))
}

/// The snapshot of `rack_id` (generation 0, no hash).
pub async fn compute(db: &Pool, rack_id: i64) -> Result<Snapshot> {
    let mut c = db.acquire().await?;
    let vlan_rows = db::vlans(&mut c, rack_id).await?;
    let vlan_ids: Vec<i64> = vlan_rows.iter().map(|v| v.id).collect();
    let subnets = db::subnets(&mut c, &vlan_ids).await?;
    let subnet_ids: Vec<i64> = subnets.iter().map(|s| s.id).collect();
    let ranges = db::ranges(&mut c, &subnet_ids).await?;
    let reservations = db::reservations(&mut c, &subnet_ids).await?;
    let boot = BootSettings {
        default_osystem: config::get_str(&mut *c, "default_osystem").await?,
        default_distro_series: config::get_str(&mut *c, "default_distro_series").await?,
        commissioning_osystem: config::get_str(&mut *c, "commissioning_osystem").await?,
        commissioning_distro_series: config::get_str(&mut *c, "commissioning_distro_series")
            .await?,
        kernel_opts: config::get_str(&mut *c, "kernel_opts").await?,
        maas_url: config::get_str(&mut *c, "maas_url").await?,
    };
    let default_ttl = config::get_i64(&mut *c, "default_dns_ttl").await?;
    let domains = db::domains(&mut c).await?;
    let addresses = db::machine_addresses(&mut c).await?;
    Ok(Snapshot {
        vlans: vlans(rack_id, vlan_rows)?,
        subnets,
        ranges,
        reservations,
        boot,
        zones: zones(&domains, &addresses, default_ttl),
        images: images(&mut c).await?,
        // BMC drivers are a later issue: nothing to power yet.
        power_jobs: vec![],
        ..Snapshot::default()
    })
}

/// The complete boot images racks should cache.
async fn images(c: &mut crate::store::Conn) -> Result<Vec<maas_model::desired::Image>> {
    Ok(crate::store::misc::bootres::complete_images(c)
        .await?
        .into_iter()
        .map(
            |(name, architecture, sha256, size)| maas_model::desired::Image {
                name,
                architecture,
                sha256,
                size: size.max(0) as u64,
            },
        )
        .collect())
}

/// VLAN rows as the rack sees them: its DHCP role on each.
fn vlans(rack_id: i64, rows: Vec<VlanRow>) -> Result<Vec<Vlan>> {
    rows.into_iter()
        .map(|r| {
            let dhcp_role = if r.primary_rack_id == Some(rack_id) {
                Some(DhcpRole::Primary)
            } else if r.secondary_rack_id == Some(rack_id) {
                Some(DhcpRole::Secondary)
            } else {
                None
            };
            Ok(Vlan {
                id: r.id,
                vid: u16::try_from(r.vid)
                    .map_err(|_| Error::internal(format!("VLAN {} has vid {}", r.id, r.vid)))?,
                fabric: r.fabric,
                mtu: r.mtu.max(0) as u32,
                dhcp_on: r.dhcp_on,
                dhcp_role,
                relay_vlan_id: r.relay_vlan_id,
            })
        })
        .collect()
}

/// One zone per domain with its machines' A / AAAA records; a domain
/// without its own TTL takes `default_ttl` (clamped to 1 s … 1 week).
fn zones(domains: &[DomainRow], addresses: &[AddressRow], default_ttl: i64) -> Vec<DnsZone> {
    let default_ttl = default_ttl.clamp(1, 604800) as u32;
    domains
        .iter()
        .map(|d| {
            let ttl = d.ttl.map(|t| t.max(1) as u32).unwrap_or(default_ttl);
            DnsZone {
                name: d.name.clone(),
                ttl,
                authoritative: d.authoritative,
                records: addresses
                    .iter()
                    .filter(|a| a.domain_id == d.id)
                    .map(|a| DnsRecord {
                        name: a.hostname.clone(),
                        rtype: if a.ip.is_ipv6() { "AAAA" } else { "A" }.into(),
                        data: a.ip.to_string(),
                        ttl,
                    })
                    .collect(),
            }
        })
        .collect()
}

/// What to tell a rack about its desired state.
#[derive(Debug)]
pub enum Push {
    /// It has the current content already, as this generation.
    Unchanged(u64),
    /// This (with its generation and hash).
    Snapshot(Box<Snapshot>),
    /// Nothing: it has applied this content already.
    Nothing,
}

/// Compute the rack's snapshot and decide what to send. `rack_has` is what a
/// connecting rack said it has applied (generation, hash); None for a change
/// in the database. The generation moves only when the content changed since
/// the last push, so a reconnecting rack that lacks it gets the same
/// generation again.
pub async fn next_push(db: &Pool, rack_id: i64, rack_has: Option<(u64, &str)>) -> Result<Push> {
    let mut snap = compute(db, rack_id).await?;
    let hash = hash(&snap);
    let mut c = db.acquire().await?;
    if let Some((generation, have)) = rack_has
        && generation > 0
        && have == hash
    {
        racks::has_generation(&mut c, rack_id, wire_generation(generation)?, &hash).await?;
        return Ok(Push::Unchanged(generation));
    }
    let rack_generation = rack_has.map(|h| wire_generation(h.0)).transpose()?;
    let generation =
        racks::push_generation(&mut c, rack_id, &hash, rack_generation.unwrap_or(0)).await?;
    if rack_has.is_none() && racks::applied_generation(&mut c, rack_id).await? == generation {
        // Change-driven: the rack already has this content.
        return Ok(Push::Nothing);
    }
    snap.generation = generation.max(0) as u64;
    snap.hash = hash;
    Ok(Push::Snapshot(Box::new(snap)))
}

/// A generation a rack sent, as stored.
fn wire_generation(g: u64) -> Result<i64> {
    i64::try_from(g).map_err(|_| Error::BadRequest(format!("generation {g} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use maas_model::desired::Subnet;
    use maas_model::net::Cidr;

    fn vlan_row(id: i64, primary: Option<i64>, secondary: Option<i64>) -> VlanRow {
        VlanRow {
            id,
            vid: 0,
            fabric: format!("fabric-{id}"),
            mtu: 1500,
            dhcp_on: true,
            primary_rack_id: primary,
            secondary_rack_id: secondary,
            relay_vlan_id: None,
        }
    }

    #[test]
    fn dhcp_roles_are_this_racks() {
        let v = vlans(
            7,
            vec![
                vlan_row(1, Some(7), Some(8)),
                vlan_row(2, Some(8), Some(7)),
                vlan_row(3, Some(8), None),
                vlan_row(4, None, None),
            ],
        )
        .unwrap();
        let roles: Vec<_> = v.iter().map(|v| v.dhcp_role).collect();
        assert_eq!(
            roles,
            vec![
                Some(DhcpRole::Primary),
                Some(DhcpRole::Secondary),
                None,
                None
            ]
        );
        let mut bad = vlan_row(5, None, None);
        bad.vid = -1;
        assert!(vlans(7, vec![bad]).is_err());
    }

    #[test]
    fn zones_hold_their_machines_records_with_the_right_ttl() {
        let domains = [
            DomainRow {
                id: 0,
                name: "maas".into(),
                ttl: None,
                authoritative: true,
            },
            DomainRow {
                id: 1,
                name: "lab".into(),
                ttl: Some(0),
                authoritative: false,
            },
        ];
        let a = |domain_id, hostname: &str, ip: &str| AddressRow {
            domain_id,
            hostname: hostname.into(),
            ip: ip.parse().unwrap(),
        };
        let addrs = [
            a(0, "n1", "10.0.0.5"),
            a(1, "n2", "fd00::5"),
            a(0, "n3", "10.0.0.6"),
        ];
        let z = zones(&domains, &addrs, 10_000_000);
        assert_eq!((z[0].ttl, z[1].ttl), (604800, 1));
        assert_eq!(z[0].records.len(), 2);
        assert_eq!(
            (
                z[1].records[0].rtype.as_str(),
                z[1].records[0].data.as_str()
            ),
            ("AAAA", "fd00::5")
        );
        assert!(
            z[0].records
                .iter()
                .all(|r| r.rtype == "A" && r.ttl == 604800)
        );
    }

    #[test]
    fn hash_is_of_the_content_only() {
        let mut s = Snapshot::default();
        let h0 = hash(&s);
        assert_eq!(h0.len(), 64);
        s.generation = 9;
        s.hash = "x".into();
        assert_eq!(hash(&s), h0, "generation and hash are not content");
        s.subnets.push(Subnet {
            id: 1,
            vlan_id: 1,
            cidr: Cidr::parse("10.0.0.0/24").unwrap(),
            gateway_ip: None,
            dns_servers: vec![],
            managed: true,
            allow_dns: true,
        });
        let h1 = hash(&s);
        assert_ne!(h1, h0);
        assert_eq!(hash(&s.clone()), h1, "deterministic");
        s.boot.kernel_opts = "quiet".into();
        assert_ne!(hash(&s), h1);
    }
}
