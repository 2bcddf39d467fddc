//! The desired state of one rack, computed from the database: the VLANs it is
//! attached to or serves DHCP on (and VLANs relayed to those), their subnets,
//! IP ranges and reservations, boot settings, DNS zones, images and power
//! jobs; its content hash; and which generation a rack is pushed. The order
//! is deterministic, so equal state hashes equal.

use maas_model::desired::{
    BootMachine, BootSettings, DhcpRole, DnsRecord, DnsZone, NetworkSettings, Snapshot, Vlan,
};
use maas_model::dns::Zone;
use maas_model::status::NodeStatus;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::services::config;
use crate::store::snapshot::{self as db, VlanRow};
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
    let mut subnets = db::subnets(&mut c, &vlan_ids).await?;
    let subnet_ids: Vec<i64> = subnets.iter().map(|s| s.id).collect();
    for (source, route) in db::static_routes(&mut c, &subnet_ids).await? {
        if let Some(s) = subnets.iter_mut().find(|s| s.id == source) {
            s.static_routes.push(route);
        }
    }
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
    let domains = db::domains(&mut c).await?;
    let default_domain = crate::services::dns::domains::default_id(&mut c).await?;
    let mut zones = Vec::with_capacity(domains.len());
    for d in &domains {
        zones.push(zone(crate::services::dns::zone_in(&mut c, d.id).await?));
    }
    let network = NetworkSettings {
        ntp_servers: words(&config::get_str(&mut *c, "ntp_servers").await?),
        upstream_dns: words(&config::get_str(&mut *c, "upstream_dns").await?),
        default_domain: domains
            .iter()
            .find(|d| d.id == default_domain)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        lease_time: DHCP_LEASE_TIME,
    };
    let machines = db::boot_machines(&mut c, &vlan_ids)
        .await?
        .into_iter()
        .map(|m| BootMachine {
            system_id: m.system_id,
            hostname: m.hostname,
            status: NodeStatus::from_i16(m.status)
                .map(|s| s.short_name())
                .unwrap_or("unknown")
                .into(),
            macs: m.macs,
            architecture: m.architecture,
            osystem: m.osystem,
            distro_series: m.distro_series,
            netboot: m.netboot,
        })
        .collect();
    Ok(Snapshot {
        vlans: vlans(rack_id, vlan_rows)?,
        subnets,
        ranges,
        reservations,
        boot,
        zones,
        images: crate::services::images::select::images(&mut *c).await?,
        network,
        machines,
        ..Snapshot::default()
    })
}

/// The lease time racks hand out (MAAS's: ten minutes).
pub const DHCP_LEASE_TIME: u32 = 600;

/// A setting holding a list: its words, split on spaces and commas.
fn words(s: &str) -> Vec<String> {
    s.split([' ', ',', '\t', '\n'])
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// A domain's zone as the rack gets it.
fn zone(z: Zone) -> DnsZone {
    DnsZone {
        name: z.name,
        ttl: z.ttl,
        serial: z.serial,
        authoritative: z.authoritative,
        records: z
            .records
            .into_iter()
            .map(|r| DnsRecord {
                name: r.name,
                rtype: r.rrtype,
                data: r.rrdata,
                ttl: r.ttl,
            })
            .collect(),
    }
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
                serve_dhcp: r.dhcp_on
                    && match dhcp_role {
                        Some(DhcpRole::Primary) => true,
                        Some(DhcpRole::Secondary) => !r.primary_connected,
                        None => false,
                    },
                dhcp_role,
                relay_vlan_id: r.relay_vlan_id,
            })
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
            primary_connected: true,
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
        // The primary serves; the secondary only while the primary is away;
        // nobody serves a VLAN with DHCP off.
        let serving: Vec<_> = v.iter().map(|v| v.serve_dhcp).collect();
        assert_eq!(serving, vec![true, false, false, false]);
        let mut away = vlan_row(2, Some(8), Some(7));
        away.primary_connected = false;
        let mut off = vlan_row(1, Some(7), None);
        off.dhcp_on = false;
        let v = vlans(7, vec![away, off]).unwrap();
        assert!(v[0].serve_dhcp, "the secondary takes over");
        assert!(!v[1].serve_dhcp, "DHCP is off");
        let mut bad = vlan_row(5, None, None);
        bad.vid = -1;
        assert!(vlans(7, vec![bad]).is_err());
    }

    #[test]
    fn list_settings_split_on_spaces_and_commas() {
        assert_eq!(
            words(" ntp1.example.com,ntp2  10.0.0.1\t"),
            vec!["ntp1.example.com", "ntp2", "10.0.0.1"]
        );
        assert!(words("").is_empty());
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
            static_routes: vec![],
        });
        let h1 = hash(&s);
        assert_ne!(h1, h0);
        assert_eq!(hash(&s.clone()), h1, "deterministic");
        s.boot.kernel_opts = "quiet".into();
        assert_ne!(hash(&s), h1);
    }
}
