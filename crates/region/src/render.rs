//! Machine rows and their MAAS JSON shape (`DISPLAYED_MACHINE_FIELDS`).
//! A machine is read as one row plus its related set (interfaces, disks),
//! which usually comes from `rendercache`; listings read ids and versions
//! first and render only what changed since they were last rendered.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maas_model::NodeStatus;
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::app::{App, json_bytes};
use crate::auth::User;
use crate::error::{ApiError, ApiResult};
use crate::rendercache::{DomainInfo, Place, Related, SharedNames};

pub const API: &str = "/MAAS/api/2.0";

/// The columns of `machines m` that `MachineRow::from_row` reads, ending
/// with the versions the render caches are keyed by. No joins: the names of
/// a machine's domain, zone, pool and owner come from `SharedNames`.
pub const MACHINE_SELECT: &str = "SELECT m.id, m.system_id, m.hostname, m.description,
    m.domain_id, m.status, m.status_message, m.error_description, m.previous_status,
    m.zone_id, m.pool_id, m.architecture, m.cpu_count, m.cpu_speed, m.memory, m.swap_size,
    m.power_type, m.power_state, m.locked, m.netboot, m.osystem, m.distro_series, m.hwe_kernel,
    m.min_hwe_kernel, m.tag_names, m.hardware_uuid, m.hardware_info::text AS hardware_info,
    m.owner_data::text AS owner_data, m.ephemeral_deploy, m.bios_boot_method, m.agent_name,
    m.node_type, m.owner_id, m.version, m.hw_version, (SELECT n FROM render_epoch) AS epoch
  FROM machines m";

/// What a listing reads first: which machines, at which versions. Only
/// machines whose rendered object is not cached are then read whole.
/// Filters may name the joined d, z, p and u.
pub const MACHINE_VERSIONS: &str =
    "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch) AS epoch
  FROM machines m
  JOIN domains d ON d.id = m.domain_id
  JOIN zones z ON z.id = m.zone_id
  JOIN resource_pools p ON p.id = m.pool_id
  LEFT JOIN users u ON u.id = m.owner_id";

#[derive(Debug, Clone)]
pub struct MachineRow {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub description: String,
    pub domain_id: i64,
    pub status: NodeStatus,
    pub previous_status: Option<NodeStatus>,
    pub status_message: String,
    pub error_description: String,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub pool_id: i64,
    pub architecture: String,
    pub cpu_count: i32,
    pub cpu_speed: i32,
    pub memory: i64,
    pub swap_size: Option<i64>,
    pub power_type: String,
    pub power_state: String,
    pub locked: bool,
    pub netboot: bool,
    pub osystem: String,
    pub distro_series: String,
    pub hwe_kernel: Option<String>,
    pub min_hwe_kernel: String,
    pub tag_names: Vec<String>,
    pub hardware_uuid: Option<String>,
    pub hardware_info: String,
    pub owner_data: String,
    pub ephemeral_deploy: bool,
    pub bios_boot_method: Option<String>,
    pub agent_name: String,
    pub node_type: i16,
    /// Row version, hardware version and shared-data epoch (`rendercache`).
    pub version: i64,
    pub hw_version: i64,
    pub epoch: i64,
}

fn status_of(n: i16) -> NodeStatus {
    NodeStatus::from_i16(n).unwrap_or(NodeStatus::Broken)
}

impl MachineRow {
    pub fn from_row(r: &PgRow) -> sqlx::Result<MachineRow> {
        Ok(MachineRow {
            id: r.try_get(0)?,
            system_id: r.try_get(1)?,
            hostname: r.try_get(2)?,
            description: r.try_get(3)?,
            domain_id: r.try_get(4)?,
            status: status_of(r.try_get(5)?),
            status_message: r.try_get(6)?,
            error_description: r.try_get(7)?,
            previous_status: r
                .try_get::<Option<i16>, _>(8)?
                .and_then(NodeStatus::from_i16),
            zone_id: r.try_get(9)?,
            pool_id: r.try_get(10)?,
            architecture: r.try_get(11)?,
            cpu_count: r.try_get(12)?,
            cpu_speed: r.try_get(13)?,
            memory: r.try_get(14)?,
            swap_size: r.try_get(15)?,
            power_type: r.try_get(16)?,
            power_state: r.try_get(17)?,
            locked: r.try_get(18)?,
            netboot: r.try_get(19)?,
            osystem: r.try_get(20)?,
            distro_series: r.try_get(21)?,
            hwe_kernel: r.try_get(22)?,
            min_hwe_kernel: r.try_get(23)?,
            tag_names: r.try_get(24)?,
            hardware_uuid: r.try_get(25)?,
            hardware_info: r.try_get(26)?,
            owner_data: r.try_get(27)?,
            ephemeral_deploy: r.try_get(28)?,
            bios_boot_method: r.try_get(29)?,
            agent_name: r.try_get(30)?,
            node_type: r.try_get(31)?,
            owner_id: r.try_get(32)?,
            version: r.try_get(33)?,
            hw_version: r.try_get(34)?,
            epoch: r.try_get(35)?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VlanJson {
    pub id: i64,
    pub vid: i32,
    pub name: String,
    pub mtu: i32,
    pub fabric: String,
    pub fabric_id: i64,
    pub dhcp_on: bool,
    pub external_dhcp: Option<String>,
    pub primary_rack: Option<String>,
    pub secondary_rack: Option<String>,
    pub relay_vlan: Option<i64>,
    pub space: String,
    pub resource_uri: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkJson {
    pub id: i64,
    pub mode: String,
    pub ip_address: Option<String>,
    pub subnet: Option<SubnetBrief>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubnetBrief {
    pub id: i64,
    pub name: String,
    pub cidr: String,
    pub vlan: i64,
    pub space: String,
    pub gateway_ip: Option<String>,
    pub resource_uri: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InterfaceJson {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub mac_address: String,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub vlan: Option<VlanJson>,
    pub links: Vec<LinkJson>,
    pub params: String,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub link_speed: i32,
    pub interface_speed: i32,
    pub link_connected: bool,
    pub effective_mtu: i32,
    pub discovered: Option<Vec<()>>,
    pub system_id: String,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub firmware_version: Option<String>,
    pub numa_node: i32,
    pub sriov_max_vf: i32,
    pub resource_uri: String,
    #[serde(skip)]
    pub is_boot: bool,
    #[serde(skip)]
    pub machine_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockDeviceJson {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub path: String,
    pub id_path: Option<String>,
    pub size: i64,
    pub block_size: i32,
    pub available_size: i64,
    pub used_size: i64,
    pub used_for: &'static str,
    pub tags: Vec<String>,
    pub model: String,
    pub serial: String,
    pub uuid: Option<String>,
    pub filesystem: Option<()>,
    pub partition_table_type: Option<String>,
    pub partitions: Vec<()>,
    pub storage_pool: Option<String>,
    pub numa_node: i32,
    pub system_id: String,
    pub resource_uri: String,
    #[serde(skip)]
    pub machine_id: i64,
}

#[derive(Serialize)]
struct DomainJson<'a> {
    id: i64,
    name: &'a str,
    ttl: Option<i32>,
    authoritative: bool,
    is_default: bool,
    resource_record_count: i64,
    resource_uri: String,
}

#[derive(Serialize)]
struct PlaceJson<'a> {
    id: i64,
    name: &'a str,
    description: &'a str,
    resource_uri: String,
}

#[derive(Serialize)]
struct Gateways {
    ipv4: GatewayPair,
    ipv6: GatewayPair,
}

#[derive(Serialize)]
struct GatewayPair {
    gateway_ip: Option<String>,
    link_id: Option<i64>,
}

/// The machine object as MAAS API 2.0 returns it.
#[derive(Serialize)]
pub struct MachineJson<'a> {
    system_id: &'a str,
    hostname: &'a str,
    fqdn: String,
    domain: DomainJson<'a>,
    description: &'a str,
    hardware_uuid: Option<&'a str>,
    node_type: i16,
    node_type_name: &'static str,
    resource_uri: String,
    parent: Option<()>,
    is_dpu: bool,
    status: i16,
    status_name: &'static str,
    status_message: &'a str,
    status_action: &'static str,
    error_description: &'a str,
    locked: bool,
    owner: Option<&'a str>,
    owner_data: &'a RawValue,
    workload_annotations: &'a RawValue,
    netboot: bool,
    ephemeral_deploy: bool,
    power_type: &'a str,
    power_state: &'a str,
    architecture: &'a str,
    cpu_count: i32,
    cpu_speed: i32,
    memory: i64,
    swap_size: Option<i64>,
    storage: f64,
    hardware_info: &'a RawValue,
    bios_boot_method: Option<&'a str>,
    osystem: &'a str,
    distro_series: &'a str,
    hwe_kernel: Option<&'a str>,
    min_hwe_kernel: &'a str,
    enable_hw_sync: bool,
    zone: PlaceJson<'a>,
    pool: PlaceJson<'a>,
    tag_names: &'a [String],
    agent_name: &'a str,
    ip_addresses: Vec<String>,
    boot_interface: Option<&'a InterfaceJson>,
    interface_set: &'a [InterfaceJson],
    default_gateways: Gateways,
    address_ttl: Option<i32>,
    disable_ipv4: bool,
    boot_disk: Option<&'a BlockDeviceJson>,
    blockdevice_set: &'a [BlockDeviceJson],
    physicalblockdevice_set: &'a [BlockDeviceJson],
    virtualblockdevice_set: [(); 0],
    volume_groups: [(); 0],
    raids: [(); 0],
    cache_sets: [(); 0],
    bcaches: [(); 0],
    special_filesystems: [(); 0],
    numanode_set: [(); 0],
    pod: Option<()>,
    commissioning_status: i32,
    commissioning_status_name: &'static str,
    testing_status: i32,
    testing_status_name: &'static str,
    current_commissioning_result_id: Option<i64>,
    current_testing_result_id: Option<i64>,
    current_installation_result_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraints_by_type: Option<&'a serde_json::Value>,
}

/// A machine with its interfaces and disks, ready to serialise.
pub struct FullMachine {
    pub row: MachineRow,
    pub related: Arc<Related>,
    /// Names of the row's domain, zone, pool and owner.
    pub shared: Arc<SharedNames>,
    pub constraints_by_type: Option<serde_json::Value>,
}

fn raw(s: &str) -> &RawValue {
    // Stored JSON columns are valid JSON (jsonb::text); fall back to {}.
    serde_json::from_str::<&RawValue>(s).unwrap_or_else(|_| empty_object())
}

fn empty_object() -> &'static RawValue {
    serde_json::from_str::<&RawValue>("{}").expect("static JSON")
}

pub fn machine_uri(system_id: &str) -> String {
    format!("{API}/machines/{system_id}/")
}

impl FullMachine {
    pub fn json(&self) -> MachineJson<'_> {
        let r = &self.row;
        let (interfaces, disks) = (&self.related.interfaces, &self.related.disks);
        let names = &*self.shared;
        let domain = names.domains.get(&r.domain_id);
        let domain_name = domain.map_or("", |d| d.name.as_str());
        let zone = names.zones.get(&r.zone_id);
        let zone_name = zone.map_or("", |z| z.name.as_str());
        let pool = names.pools.get(&r.pool_id);
        let owner = r
            .owner_id
            .map(|u| names.users.get(&u).map_or("", |n| n.as_str()));
        let boot = interfaces.iter().find(|i| i.is_boot).or(interfaces.first());
        let ips: Vec<String> = interfaces
            .iter()
            .flat_map(|i| i.links.iter().filter_map(|l| l.ip_address.clone()))
            .collect();
        let storage_mb: f64 = disks.iter().map(|d| d.size as f64 / 1e6).sum();
        MachineJson {
            system_id: &r.system_id,
            hostname: &r.hostname,
            fqdn: format!("{}.{domain_name}", r.hostname),
            domain: DomainJson {
                id: r.domain_id,
                name: domain_name,
                ttl: domain.and_then(|d| d.ttl),
                authoritative: domain.is_some_and(|d| d.authoritative),
                is_default: domain.is_some_and(|d| d.is_default),
                resource_record_count: 0,
                resource_uri: format!("{API}/domains/{}/", r.domain_id),
            },
            description: &r.description,
            hardware_uuid: r.hardware_uuid.as_deref(),
            node_type: r.node_type,
            node_type_name: "Machine",
            resource_uri: machine_uri(&r.system_id),
            parent: None,
            is_dpu: false,
            status: r.status.as_i16(),
            status_name: r.status.label(),
            status_message: &r.status_message,
            status_action: "",
            error_description: &r.error_description,
            locked: r.locked,
            owner,
            owner_data: raw(&r.owner_data),
            workload_annotations: raw(&r.owner_data),
            netboot: r.netboot,
            ephemeral_deploy: r.ephemeral_deploy,
            power_type: &r.power_type,
            power_state: &r.power_state,
            architecture: &r.architecture,
            cpu_count: r.cpu_count,
            cpu_speed: r.cpu_speed,
            memory: r.memory,
            swap_size: r.swap_size,
            storage: storage_mb,
            hardware_info: raw(&r.hardware_info),
            bios_boot_method: r.bios_boot_method.as_deref(),
            osystem: &r.osystem,
            distro_series: &r.distro_series,
            hwe_kernel: r.hwe_kernel.as_deref(),
            min_hwe_kernel: &r.min_hwe_kernel,
            enable_hw_sync: false,
            zone: PlaceJson {
                id: r.zone_id,
                name: zone_name,
                description: zone.map_or("", |z| z.description.as_str()),
                resource_uri: format!("{API}/zones/{zone_name}/"),
            },
            pool: PlaceJson {
                id: r.pool_id,
                name: pool.map_or("", |p| p.name.as_str()),
                description: pool.map_or("", |p| p.description.as_str()),
                resource_uri: format!("{API}/resourcepool/{}/", r.pool_id),
            },
            tag_names: &r.tag_names,
            agent_name: &r.agent_name,
            ip_addresses: ips,
            boot_interface: boot,
            interface_set: interfaces,
            default_gateways: Gateways {
                ipv4: GatewayPair {
                    gateway_ip: None,
                    link_id: None,
                },
                ipv6: GatewayPair {
                    gateway_ip: None,
                    link_id: None,
                },
            },
            address_ttl: None,
            disable_ipv4: false,
            boot_disk: disks.iter().min_by_key(|d| d.id),
            blockdevice_set: disks,
            physicalblockdevice_set: disks,
            virtualblockdevice_set: [],
            volume_groups: [],
            raids: [],
            cache_sets: [],
            bcaches: [],
            special_filesystems: [],
            numanode_set: [],
            pod: None,
            commissioning_status: 0,
            commissioning_status_name: "Pending",
            testing_status: 0,
            testing_status_name: "Pending",
            current_commissioning_result_id: None,
            current_testing_result_id: None,
            current_installation_result_id: None,
            constraints_by_type: self.constraints_by_type.as_ref(),
        }
    }
}

// ------------------------------------------------------------ related rows
//
// A machine's interfaces, links and disks are read as JSON arrays of rows,
// one line per machine, together with the machine's `hw_version` and the
// epoch in the same statement (`RELATED_SELECT`), so each set is cached under
// exactly the versions it was read at. Most reads find them cached.

/// An interface with its VLAN, fabric and space (columns of `IFACE_COLS`).
#[derive(serde::Deserialize)]
struct IfaceRow(
    i64,
    i64,
    String,
    String,
    String,
    bool,
    i32,
    i32,
    Vec<String>,
    bool,
    Option<i64>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<bool>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

const IFACE_COLS: &str = "i.id, i.machine_id, i.name, i.type, i.mac_address, i.enabled,
    i.link_speed, i.interface_speed, i.tags, i.is_boot, v.id, v.vid, v.name, v.mtu, v.dhcp_on,
    v.external_dhcp, v.relay_vlan_id, f.id, f.name, s.name";
const IFACE_FROM: &str = "FROM interfaces i
    LEFT JOIN vlans v ON v.id = i.vlan_id
    LEFT JOIN fabrics f ON f.id = v.fabric_id
    LEFT JOIN spaces s ON s.id = v.space_id";

/// A link of an interface to a subnet (columns of `LINK_COLS`).
#[derive(serde::Deserialize)]
struct LinkRow(
    i64,
    i64,
    String,
    Option<String>,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

const LINK_COLS: &str = "l.id, l.interface_id, l.mode, host(l.ip), s.id, s.name, s.cidr::text,
    s.vlan_id, host(s.gateway_ip), sp.name";
const LINK_FROM: &str = "FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
    JOIN subnets s ON s.id = l.subnet_id
    JOIN vlans v ON v.id = s.vlan_id LEFT JOIN spaces sp ON sp.id = v.space_id";

/// A physical block device (columns of `DISK_COLS`).
#[derive(serde::Deserialize)]
struct DiskRow(
    i64,
    i64,
    String,
    i64,
    i32,
    Vec<String>,
    String,
    String,
    Option<String>,
);

const DISK_COLS: &str = "d.id, d.machine_id, d.name, d.size, d.block_size, d.tags, d.model,
    d.serial, d.id_path";
const DISK_FROM: &str = "FROM block_devices d";

/// Per machine id (`$1`, an array): hardware version, epoch, and the
/// interfaces, links and disks as JSON arrays of rows.
static RELATED_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT m.id, m.system_id, m.hw_version, (SELECT n FROM render_epoch),
       coalesce(ii.j, '[]'), coalesce(ll.j, '[]'), coalesce(dd.j, '[]')
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

/// Complete machine rows for rendering: the names they refer to and their
/// interfaces and disks, from the caches where they hold the rows'
/// versions, else read (one statement for all the related sets).
pub async fn complete(app: &App, rows: Vec<MachineRow>) -> ApiResult<Vec<FullMachine>> {
    let shared = shared_names(app, &rows).await?;
    let mut found: Vec<Option<Arc<Related>>> = rows
        .iter()
        .map(|r| app.render.related(r.id, r.hw_version, r.epoch))
        .collect();
    let missing: Vec<i64> = rows
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| r.id)
        .collect();
    if !missing.is_empty() {
        let mut loaded = load_related(app, &missing).await?;
        for (r, f) in rows.iter().zip(found.iter_mut()) {
            if f.is_none() {
                // A machine deleted meanwhile renders with no hardware.
                *f = Some(loaded.remove(&r.id).unwrap_or_default());
            }
        }
    }
    Ok(rows
        .into_iter()
        .zip(found)
        .map(|(row, related)| FullMachine {
            row,
            related: related.unwrap_or_default(),
            shared: shared.clone(),
            constraints_by_type: None,
        })
        .collect())
}

/// A shared-names snapshot for `rows`: the cached one if it covers them all,
/// else a fresh read (one at a time; concurrent callers reuse it).
async fn shared_names(app: &App, rows: &[MachineRow]) -> ApiResult<Arc<SharedNames>> {
    let covered = |s: &SharedNames| {
        rows.iter()
            .all(|r| s.covers(r.epoch, r.domain_id, r.zone_id, r.pool_id, r.owner_id))
    };
    let s = app.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let _one = app.render.shared_reload.lock().await;
    let s = app.render.shared();
    if covered(&s) {
        return Ok(s);
    }
    let s = Arc::new(load_shared(app).await?);
    app.render.put_shared(s.clone());
    Ok(s)
}

/// Domains, zones, pools and user names, with the epoch, in one statement.
async fn load_shared(app: &App) -> ApiResult<SharedNames> {
    fn parse<T: serde::de::DeserializeOwned>(r: &PgRow, i: usize) -> ApiResult<Vec<T>> {
        let text: &str = r.try_get(i)?;
        serde_json::from_str(text).map_err(|e| ApiError::Internal(e.into()))
    }
    let q = sqlx::query(
        "SELECT (SELECT n FROM render_epoch),
          (SELECT coalesce(json_agg(json_build_array(id, name, ttl, authoritative, is_default)), '[]')::text
             FROM domains),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text FROM zones),
          (SELECT coalesce(json_agg(json_build_array(id, name, description)), '[]')::text
             FROM resource_pools),
          (SELECT coalesce(json_agg(json_build_array(id, username)), '[]')::text FROM users)",
    );
    let r = app.hot.run(async |c| q.fetch_one(c).await).await?;
    let places = |i| -> ApiResult<HashMap<i64, Place>> {
        Ok(parse::<(i64, String, String)>(&r, i)?
            .into_iter()
            .map(|(id, name, description)| (id, Place { name, description }))
            .collect())
    };
    Ok(SharedNames {
        epoch: r.try_get(0)?,
        domains: parse::<(i64, String, Option<i32>, bool, bool)>(&r, 1)?
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
        users: parse::<(i64, String)>(&r, 4)?.into_iter().collect(),
    })
}

/// Above this many machines, a read is split in two statements run at
/// once (two backends, two cores).
const SPLIT_READS: usize = 2000;

/// Run `read` on `ids`, split in two concurrent halves when large.
async fn split_read<T, F, Fut>(ids: &[i64], read: F) -> ApiResult<Vec<T>>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Vec<T>>>,
{
    if ids.len() <= SPLIT_READS {
        return read(ids.to_vec()).await;
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let (mut x, y) = tokio::try_join!(read(a.to_vec()), read(b.to_vec()))?;
    x.extend(y);
    Ok(x)
}

/// Read machines' related sets and cache each under the versions it was
/// read at.
async fn load_related(app: &App, ids: &[i64]) -> ApiResult<HashMap<i64, Arc<Related>>> {
    fn rows<T: serde::de::DeserializeOwned>(r: &PgRow, i: usize) -> ApiResult<Vec<T>> {
        let text: &str = r.try_get(i)?;
        serde_json::from_str(text).map_err(|e| ApiError::Internal(e.into()))
    }
    let got = split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(RELATED_SELECT.as_str())).bind(ids);
        let got = app.hot.run(async |c| q.fetch_all(c).await).await?;
        got.iter()
            .map(|r| {
                let system_id: &str = r.try_get(1)?;
                let related = assemble(system_id, rows(r, 4)?, rows(r, 5)?, rows(r, 6)?);
                Ok((
                    r.try_get(0)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    Arc::new(related),
                ))
            })
            .collect::<ApiResult<Vec<(i64, i64, i64, Arc<Related>)>>>()
    })
    .await?;
    let out = got
        .iter()
        .map(|(id, _, _, rel)| (*id, rel.clone()))
        .collect();
    app.render.put_related(got);
    Ok(out)
}

/// Machine rows by id.
async fn machine_rows(app: &App, ids: &[i64]) -> ApiResult<Vec<MachineRow>> {
    split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MACHINE_SELECT} WHERE m.id = ANY($1)"
        )))
        .bind(ids);
        let rows = app.hot.run(async |c| q.fetch_all(c).await).await?;
        Ok(rows
            .iter()
            .map(MachineRow::from_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    })
    .await
}

/// Build one machine's related set from its rows.
fn assemble(
    sys: &str,
    iface_rows: Vec<IfaceRow>,
    link_rows: Vec<LinkRow>,
    disk_rows: Vec<DiskRow>,
) -> Related {
    let mut links: HashMap<i64, Vec<LinkJson>> = HashMap::new();
    for l in link_rows {
        let LinkRow(id, iface, mode, ip, sid, name, cidr, vlan, gateway_ip, space) = l;
        links.entry(iface).or_default().push(LinkJson {
            id,
            mode,
            ip_address: ip,
            subnet: Some(SubnetBrief {
                id: sid,
                name,
                cidr,
                vlan,
                space: space.unwrap_or_else(|| "undefined".into()),
                gateway_ip,
                resource_uri: format!("{API}/subnets/{sid}/"),
            }),
        });
    }
    let mut interfaces = Vec::with_capacity(iface_rows.len());
    for r in iface_rows {
        let IfaceRow(
            id,
            mid,
            name,
            type_,
            mac_address,
            enabled,
            link_speed,
            interface_speed,
            tags,
            is_boot,
            vlan_id,
            vid,
            vlan_name,
            mtu,
            dhcp_on,
            external_dhcp,
            relay_vlan,
            fabric_id,
            fabric_name,
            space_name,
        ) = r;
        let vlan = vlan_id.map(|vid_id| VlanJson {
            id: vid_id,
            vid: vid.unwrap_or(0),
            name: vlan_name.unwrap_or_else(|| "untagged".into()),
            mtu: mtu.unwrap_or(1500),
            fabric: fabric_name.unwrap_or_default(),
            fabric_id: fabric_id.unwrap_or(0),
            dhcp_on: dhcp_on.unwrap_or(false),
            external_dhcp,
            primary_rack: None,
            secondary_rack: None,
            relay_vlan,
            space: space_name.unwrap_or_else(|| "undefined".into()),
            resource_uri: format!("{API}/vlans/{vid_id}/"),
        });
        let mtu = vlan.as_ref().map(|v| v.mtu).unwrap_or(1500);
        interfaces.push(InterfaceJson {
            id,
            name,
            type_,
            mac_address,
            enabled,
            tags,
            vlan,
            links: links.remove(&id).unwrap_or_default(),
            params: String::new(),
            parents: vec![],
            children: vec![],
            link_speed,
            interface_speed,
            link_connected: true,
            effective_mtu: mtu,
            discovered: None,
            system_id: sys.to_string(),
            vendor: None,
            product: None,
            firmware_version: None,
            numa_node: 0,
            sriov_max_vf: 0,
            resource_uri: format!("{API}/nodes/{sys}/interfaces/{id}/"),
            is_boot,
            machine_id: mid,
        });
    }
    let disks = disk_rows
        .into_iter()
        .map(|r| {
            let DiskRow(id, mid, name, size, block_size, tags, model, serial, id_path) = r;
            BlockDeviceJson {
                id,
                path: format!("/dev/disk/by-dname/{name}"),
                name,
                type_: "physical",
                id_path,
                size,
                block_size,
                available_size: size,
                used_size: 0,
                used_for: "Unused",
                tags,
                model,
                serial,
                uuid: None,
                filesystem: None,
                partition_table_type: None,
                partitions: vec![],
                storage_pool: None,
                numa_node: 0,
                system_id: sys.to_string(),
                resource_uri: format!("{API}/nodes/{sys}/blockdevices/{id}/"),
                machine_id: mid,
            }
        })
        .collect();
    Related { interfaces, disks }
}

/// Render each machine to its JSON object; large sets on two threads (the
/// cost of a cold listing is mostly this and row decoding).
fn render_each(ms: &[FullMachine]) -> Vec<Arc<[u8]>> {
    fn render(ms: &[FullMachine]) -> Vec<Arc<[u8]>> {
        ms.iter().map(|m| Arc::from(machine_to_json(m))).collect()
    }
    if ms.len() < 512 {
        return render(ms);
    }
    let (a, b) = ms.split_at(ms.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| render(b));
        let mut out = render(a);
        out.extend(second.join().unwrap_or_default());
        out
    })
}

/// Whether `m` was completed exactly as of its row's versions: names of
/// the row's epoch and the related set its hardware version names (either
/// can be newer when something changed between the reads). Only such a
/// rendering may be cached under the row's versions.
fn cacheable(app: &App, m: &FullMachine) -> bool {
    m.shared.epoch == m.row.epoch
        && app
            .render
            .related(m.row.id, m.row.hw_version, m.row.epoch)
            .is_some_and(|r| Arc::ptr_eq(&r, &m.related))
}

/// A machine listing. `q` is `MACHINE_VERSIONS` plus the caller's WHERE and
/// `ORDER BY m.id` (and `LIMIT limit + 1` when paginating): one cheap read of
/// ids and versions, then only machines whose current rendering is not
/// cached are read whole and rendered. With `limit`, a further page is
/// announced in `X-MAAS-Next-Cursor`.
pub async fn list_response(
    app: &App,
    viewer: &User,
    mut q: QueryBuilder<Postgres>,
    limit: Option<i64>,
) -> ApiResult<Response> {
    let vrows = app.hot.run(async |c| q.build().fetch_all(c).await).await?;
    // (id, version, hw_version, epoch)
    let mut keys = vrows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<sqlx::Result<Vec<(i64, i64, i64, i64)>>>()?;
    let mut next: Option<String> = None;
    if let Some(l) = limit
        && keys.len() as i64 > l
    {
        keys.truncate(l as usize);
        next = keys.last().map(|k| format!("c{:x}", k.0));
    }
    let pieces = rendered_for(app, Some(viewer), &keys).await?;
    let total: usize = pieces.iter().flatten().map(|p| p.len() + 1).sum();
    let mut body = Vec::with_capacity(total + 2);
    body.push(b'[');
    for p in pieces.iter().flatten() {
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(p);
    }
    body.push(b']');
    let mut resp = json_bytes(StatusCode::OK, body);
    if let Some(n) = next
        && let Ok(v) = HeaderValue::from_str(&n)
    {
        resp.headers_mut().insert("x-maas-next-cursor", v);
    }
    Ok(resp)
}

/// The rendered object of each `(id, version, hw_version, epoch)` key, in
/// order: cached ones as they are, the rest read, rendered and cached.
/// `None` for a machine deleted since the keys were read, or (with a
/// `viewer`) no longer visible to them.
async fn rendered_for(
    app: &App,
    viewer: Option<&User>,
    keys: &[(i64, i64, i64, i64)],
) -> ApiResult<Vec<Option<Arc<[u8]>>>> {
    let wanted: Vec<(i64, i64, i64)> = keys.iter().map(|k| (k.0, k.1, k.3)).collect();
    let mut pieces = app.render.rendered(&wanted);
    let missing: Vec<&(i64, i64, i64, i64)> = keys
        .iter()
        .zip(&pieces)
        .filter(|(_, p)| p.is_none())
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        // Rows, and the related sets not cached at the versions just read,
        // at once.
        let ids: Vec<i64> = missing.iter().map(|k| k.0).collect();
        let unrelated: Vec<i64> = missing
            .iter()
            .filter(|k| app.render.related(k.0, k.2, k.3).is_none())
            .map(|k| k.0)
            .collect();
        let (mut rows, _) = tokio::try_join!(machine_rows(app, &ids), async {
            if unrelated.is_empty() {
                return Ok(HashMap::new());
            }
            load_related(app, &unrelated).await
        })?;
        // A machine changed since the first read may no longer be the
        // viewer's to see (allocated to someone else meanwhile).
        if let Some(v) = viewer {
            rows.retain(|r| crate::api::machines::can_view(v, r.owner_id));
        }
        // Related sets come from the cache at each row's own versions; a
        // machine whose hardware changed between the reads is read again.
        let machines = complete(app, rows).await?;
        let (machines, rendered) = tokio::task::spawn_blocking(move || {
            let r = render_each(&machines);
            (machines, r)
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
        let mut by_id: HashMap<i64, Arc<[u8]>> = HashMap::with_capacity(machines.len());
        let mut fresh = Vec::with_capacity(machines.len());
        for (m, json) in machines.iter().zip(rendered) {
            if cacheable(app, m) {
                fresh.push((m.row.id, m.row.version, m.row.epoch, json.clone()));
            }
            by_id.insert(m.row.id, json);
        }
        app.render.put_rendered(fresh);
        for (k, p) in keys.iter().zip(pieces.iter_mut()) {
            if p.is_none() {
                // None: deleted since the first read; left out.
                *p = by_id.remove(&k.0);
            }
        }
    }
    Ok(pieces)
}

/// Read and render every machine once, in pages, so a region that just
/// started (or just dropped its caches) answers from warm caches. Runs in
/// the background; one pass at a time.
pub async fn preload(app: App) {
    use std::sync::atomic::Ordering;
    if app.render.preloading.swap(true, Ordering::AcqRel) {
        return;
    }
    let t0 = std::time::Instant::now();
    let mut last = 0i64;
    let mut n = 0usize;
    let result: ApiResult<()> = async {
        while n < crate::rendercache::MAX_ENTRIES {
            let q = sqlx::query(
                "SELECT m.id, m.version, m.hw_version, (SELECT n FROM render_epoch)
                   FROM machines m WHERE m.id > $1 ORDER BY m.id LIMIT 2000",
            )
            .bind(last);
            let rows = app.hot.run(async |c| q.fetch_all(c).await).await?;
            let keys = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<sqlx::Result<Vec<(i64, i64, i64, i64)>>>()?;
            let Some(k) = keys.last() else { break };
            last = k.0;
            n += keys.len();
            rendered_for(&app, None, &keys).await?;
        }
        Ok(())
    }
    .await;
    app.render.preloading.store(false, Ordering::Release);
    match result {
        Ok(()) => tracing::info!(
            machines = n,
            ms = t0.elapsed().as_millis() as u64,
            "render caches loaded"
        ),
        Err(e) => tracing::warn!(error = %e, "render cache preload stopped"),
    }
}

pub fn machine_to_json(m: &FullMachine) -> Vec<u8> {
    serde_json::to_vec(&m.json()).unwrap_or_else(|_| b"{}".to_vec())
}
