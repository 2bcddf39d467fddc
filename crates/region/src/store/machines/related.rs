//! What a machine's JSON embeds besides its row, read in one statement per
//! set: its interfaces, links and disks as rows, and the shared names
//! (domains, zones, pools, users) at one epoch.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::{Error, Result};
use crate::store::db::Hot;

// ------------------------------------------------------------ related rows
//
// A machine's interfaces, links and disks are read as JSON arrays of rows,
// one line per machine, together with the machine's `hw_version` and the
// epoch in the same statement (`RELATED_SELECT`), so each set is cached under
// exactly the versions it was read at. Most reads find them cached.

/// An interface with its VLAN, fabric and space (columns of `IFACE_COLS`).
#[derive(serde::Deserialize)]
pub struct IfaceRow(
    pub i64,
    pub i64,
    pub String,
    pub String,
    pub String,
    pub bool,
    pub i32,
    pub i32,
    pub Vec<String>,
    pub bool,
    pub Option<i64>,
    pub Option<i32>,
    pub Option<String>,
    pub Option<i32>,
    pub Option<bool>,
    pub Option<String>,
    pub Option<i64>,
    pub Option<i64>,
    pub Option<String>,
    pub Option<String>,
    pub Option<String>,
    pub bool,
    pub Vec<String>,
    pub Vec<String>,
);

pub const IFACE_COLS: &str = "i.id, i.machine_id, i.name, i.type, i.mac_address, i.enabled,
    i.link_speed, i.interface_speed, i.tags, i.is_boot, v.id, v.vid, v.name, v.mtu, v.dhcp_on,
    v.external_dhcp, v.relay_vlan_id, f.id, f.name, s.name, i.params::text, i.link_connected,
    coalesce((SELECT array_agg(p.name ORDER BY p.name) FROM interface_parents r
                JOIN interfaces p ON p.id = r.parent_id WHERE r.child_id = i.id), '{}'),
    coalesce((SELECT array_agg(ch.name ORDER BY ch.name) FROM interface_parents r
                JOIN interfaces ch ON ch.id = r.child_id WHERE r.parent_id = i.id), '{}')";
pub const IFACE_FROM: &str = "FROM interfaces i
    LEFT JOIN vlans v ON v.id = i.vlan_id
    LEFT JOIN fabrics f ON f.id = v.fabric_id
    LEFT JOIN spaces s ON s.id = v.space_id";

/// A link of an interface to a subnet (columns of `LINK_COLS`): id,
/// interface id, mode, address, then the subnet and its VLAN as nested rows.
#[derive(serde::Deserialize)]
pub struct LinkRow(
    pub i64,
    pub i64,
    pub String,
    pub Option<String>,
    pub LinkSubnet,
    pub LinkVlan,
    pub bool,
);

/// A linked subnet's columns (the `subnets/` shape, `SUBNET_COLS`).
#[derive(serde::Deserialize)]
pub struct LinkSubnet(
    pub i64,
    pub String,
    pub String,
    pub Option<String>,
    pub Vec<String>,
    pub bool,
    pub bool,
    pub bool,
    pub bool,
    pub i16,
    pub String,
);

/// A linked subnet's VLAN (the `vlans/` shape, `VLAN_COLS`).
#[derive(serde::Deserialize)]
pub struct LinkVlan(
    pub i64,
    pub i32,
    pub Option<String>,
    pub i32,
    pub bool,
    pub Option<String>,
    pub String,
    pub Option<i64>,
    pub i64,
    pub String,
    pub Option<String>,
    pub Option<String>,
    pub Option<String>,
);

pub const LINK_COLS: &str = "l.id, l.interface_id, l.mode, host(l.ip),
    json_build_array(s.id, s.name, s.cidr::text, host(s.gateway_ip), s.dns_servers, s.managed,
        s.allow_dns, s.allow_proxy, s.active_discovery, s.rdns_mode, s.description),
    json_build_array(v.id, v.vid, v.name, v.mtu, v.dhcp_on, v.external_dhcp, v.description,
        v.relay_vlan_id, v.fabric_id, f.name, pr.system_id, sr.system_id, sp.name),
    l.default_gateway";
pub const LINK_FROM: &str = "FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
    JOIN subnets s ON s.id = l.subnet_id
    JOIN vlans v ON v.id = s.vlan_id JOIN fabrics f ON f.id = v.fabric_id
    LEFT JOIN racks pr ON pr.id = v.primary_rack_id
    LEFT JOIN racks sr ON sr.id = v.secondary_rack_id
    LEFT JOIN spaces sp ON sp.id = v.space_id";

/// A physical block device (columns of `DISK_COLS`): id, machine id, name,
/// size, block size, tags, model, serial, id path, boot disk, partition
/// table (type, overhead), filesystem, partitions.
#[derive(serde::Deserialize)]
pub struct DiskRow(
    pub i64,
    pub i64,
    pub String,
    pub i64,
    pub i32,
    pub Vec<String>,
    pub String,
    pub String,
    pub Option<String>,
    pub bool,
    pub Option<(String, i64)>,
    pub Option<FsRow>,
    pub Vec<PartRow>,
);

/// A filesystem: fstype, uuid, label, mount point, mount options.
#[derive(serde::Deserialize, Clone, Debug)]
pub struct FsRow(
    pub String,
    pub String,
    pub Option<String>,
    pub Option<String>,
    pub Option<String>,
);

/// A partition: id, index, uuid, size, bootable, tags, filesystem.
#[derive(serde::Deserialize)]
pub struct PartRow(
    pub i64,
    pub i32,
    pub String,
    pub i64,
    pub bool,
    pub Vec<String>,
    pub Option<FsRow>,
);

pub const DISK_COLS: &str = "d.id, d.machine_id, d.name, d.size, d.block_size, d.tags, d.model,
    d.serial, d.id_path, d.is_boot,
    (SELECT json_build_array(pt.table_type, pt.overhead) FROM partition_tables pt
      WHERE pt.block_device_id = d.id),
    (SELECT json_build_array(f.fstype, f.uuid, f.label, f.mount_point, f.mount_options)
       FROM filesystems f WHERE f.block_device_id = d.id),
    (SELECT coalesce(json_agg(json_build_array(p.id, p.idx, p.uuid, p.size, p.bootable, p.tags,
              (SELECT json_build_array(f.fstype, f.uuid, f.label, f.mount_point, f.mount_options)
                 FROM filesystems f WHERE f.partition_id = p.id)) ORDER BY p.idx), '[]')
       FROM partitions p WHERE p.block_device_id = d.id)";
const DISK_FROM: &str = "FROM block_devices d";

/// Per machine id (`$1`, an array): hardware version, epoch, and the
/// interfaces, links and disks as JSON arrays of rows.
static RELATED_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT m.id, m.system_id, m.hw_version, (SELECT n FROM render_epoch),
       coalesce(ii.j, '[]'), coalesce(ll.j, '[]'), coalesce(dd.j, '[]'),
       (SELECT coalesce(json_agg(json_build_array(f.fstype, f.uuid, f.label, f.mount_point,
                                                  f.mount_options) ORDER BY f.id), '[]')::text
          FROM filesystems f WHERE f.machine_id = m.id AND f.block_device_id IS NULL
           AND f.partition_id IS NULL)
  FROM machines m
  LEFT JOIN (SELECT i.machine_id, json_agg(json_build_array({IFACE_COLS}) ORDER BY i.id)::text j
               {IFACE_FROM} WHERE i.machine_id = ANY($1) GROUP BY i.machine_id) ii
         ON ii.machine_id = m.id
  LEFT JOIN (SELECT i.machine_id, json_agg(json_build_array({LINK_COLS}) ORDER BY l.id)::text j
               {LINK_FROM} WHERE i.machine_id = ANY($1) GROUP BY i.machine_id) ll
         ON ll.machine_id = m.id
  LEFT JOIN (SELECT d.machine_id, json_agg(json_build_array({DISK_COLS}) ORDER BY d.id)::text j
               {DISK_FROM} WHERE d.machine_id = ANY($1) GROUP BY d.machine_id) dd
         ON dd.machine_id = m.id
 WHERE m.id = ANY($1)"
    )
});

/// A domain as a machine's JSON shows it.
#[derive(Debug, Clone)]
pub struct DomainInfo {
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
    pub is_default: bool,
}

/// A zone or resource pool: name and description.
#[derive(Debug, Clone)]
pub struct Place {
    pub name: String,
    pub description: String,
}

/// The shared rows machine JSON embeds, as of one epoch.
#[derive(Debug, Default)]
pub struct SharedNames {
    pub epoch: i64,
    pub domains: HashMap<i64, DomainInfo>,
    pub zones: HashMap<i64, Place>,
    pub pools: HashMap<i64, Place>,
    pub users: HashMap<i64, String>,
}

impl SharedNames {
    /// Whether this snapshot names everything a row read at `epoch` refers
    /// to, as of that epoch (rows inserted since are missing; updated or
    /// deleted ones would have moved the epoch).
    pub fn covers(
        &self,
        epoch: i64,
        domain: i64,
        zone: i64,
        pool: i64,
        owner: Option<i64>,
    ) -> bool {
        self.epoch == epoch
            && self.domains.contains_key(&domain)
            && self.zones.contains_key(&zone)
            && self.pools.contains_key(&pool)
            && owner.is_none_or(|u| self.users.contains_key(&u))
    }
}

/// One machine's related rows, with the versions they were read at.
pub struct RelatedRows {
    pub id: i64,
    pub system_id: String,
    pub hw_version: i64,
    pub epoch: i64,
    pub interfaces: Vec<IfaceRow>,
    pub links: Vec<LinkRow>,
    pub disks: Vec<DiskRow>,
    /// Special filesystems (tmpfs, ramfs: on no device).
    pub special: Vec<FsRow>,
}

/// The related rows of machines `ids` (split over two backends when many).
pub async fn related_rows(hot: &Hot, ids: &[i64]) -> Result<Vec<RelatedRows>> {
    crate::store::split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(RELATED_SELECT.as_str())).bind(ids);
        let got = hot.run(async |c| q.fetch_all(c).await).await?;
        got.iter()
            .map(|r| {
                Ok(RelatedRows {
                    id: r.try_get(0)?,
                    system_id: r.try_get(1)?,
                    hw_version: r.try_get(2)?,
                    epoch: r.try_get(3)?,
                    interfaces: json_rows(r, 4)?,
                    links: json_rows(r, 5)?,
                    disks: json_rows(r, 6)?,
                    special: json_rows(r, 7)?,
                })
            })
            .collect::<Result<Vec<_>>>()
    })
    .await
}

/// Column `i` of `r`: a JSON array of rows built by PostgreSQL.
fn json_rows<T: serde::de::DeserializeOwned>(r: &PgRow, i: usize) -> Result<Vec<T>> {
    let text: &str = r.try_get(i)?;
    serde_json::from_str(text).map_err(|e| Error::Internal(e.into()))
}

/// Domains, zones, pools and user names, with the epoch, in one statement.
pub async fn shared_names(hot: &Hot) -> Result<SharedNames> {
    let q = sqlx::query(
        "SELECT (SELECT n FROM render_epoch),
          (SELECT coalesce(json_agg(json_build_array(id, name, ttl, authoritative, is_default)), '[]')::text
             FROM domains),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text FROM zones),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text
             FROM resource_pools),
          (SELECT coalesce(json_agg(json_build_array(id, username)), '[]')::text FROM users)",
    );
    let r = hot.run(async |c| q.fetch_one(c).await).await?;
    let places = |i| -> Result<HashMap<i64, Place>> {
        Ok(json_rows::<(i64, String, String)>(&r, i)?
            .into_iter()
            .map(|(id, name, description)| (id, Place { name, description }))
            .collect())
    };
    Ok(SharedNames {
        epoch: r.try_get(0)?,
        domains: json_rows::<(i64, String, Option<i32>, bool, bool)>(&r, 1)?
            .into_iter()
            .map(|(id, name, ttl, authoritative, is_default)| {
                let d = DomainInfo {
                    name,
                    ttl,
                    authoritative,
                    is_default,
                };
                (id, d)
            })
            .collect(),
        zones: places(2)?,
        pools: places(3)?,
        users: json_rows::<(i64, String)>(&r, 4)?.into_iter().collect(),
    })
}
