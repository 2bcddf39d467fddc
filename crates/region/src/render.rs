//! Machine rows and their MAAS JSON shape (`DISPLAYED_MACHINE_FIELDS`).
//! Machines are read with one query plus one per related table for the whole
//! page, then serialised straight from structs.

use std::collections::HashMap;

use maas_model::NodeStatus;
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::error::ApiResult;

pub const API: &str = "/MAAS/api/2.0";

/// Columns of `machines m` + joins that `MachineRow::from_row` reads.
pub const MACHINE_SELECT: &str = "SELECT m.id, m.system_id, m.hostname, m.description,
    m.domain_id, d.name AS domain_name, d.ttl AS domain_ttl, d.authoritative AS domain_auth,
    d.is_default AS domain_default,
    m.status, m.status_message, m.error_description, m.previous_status, u.username AS owner,
    m.zone_id, z.name AS zone_name, z.description AS zone_desc,
    m.pool_id, p.name AS pool_name, p.description AS pool_desc,
    m.architecture, m.cpu_count, m.cpu_speed, m.memory, m.swap_size, m.power_type,
    m.power_state, m.locked, m.netboot, m.osystem, m.distro_series, m.hwe_kernel,
    m.min_hwe_kernel, m.tag_names, m.hardware_uuid, m.hardware_info::text AS hardware_info,
    m.owner_data::text AS owner_data, m.ephemeral_deploy, m.bios_boot_method, m.agent_name,
    m.node_type, m.owner_id
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
    pub domain_name: String,
    pub domain_ttl: Option<i32>,
    pub domain_auth: bool,
    pub domain_default: bool,
    pub status: NodeStatus,
    pub previous_status: Option<NodeStatus>,
    pub status_message: String,
    pub error_description: String,
    pub owner: Option<String>,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub zone_name: String,
    pub zone_desc: String,
    pub pool_id: i64,
    pub pool_name: String,
    pub pool_desc: String,
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
            domain_name: r.try_get(5)?,
            domain_ttl: r.try_get(6)?,
            domain_auth: r.try_get(7)?,
            domain_default: r.try_get(8)?,
            status: status_of(r.try_get(9)?),
            previous_status: r
                .try_get::<Option<i16>, _>(12)?
                .and_then(NodeStatus::from_i16),
            status_message: r.try_get(10)?,
            error_description: r.try_get(11)?,
            owner: r.try_get(13)?,
            owner_id: r.try_get(41)?,
            zone_id: r.try_get(14)?,
            zone_name: r.try_get(15)?,
            zone_desc: r.try_get(16)?,
            pool_id: r.try_get(17)?,
            pool_name: r.try_get(18)?,
            pool_desc: r.try_get(19)?,
            architecture: r.try_get(20)?,
            cpu_count: r.try_get(21)?,
            cpu_speed: r.try_get(22)?,
            memory: r.try_get(23)?,
            swap_size: r.try_get(24)?,
            power_type: r.try_get(25)?,
            power_state: r.try_get(26)?,
            locked: r.try_get(27)?,
            netboot: r.try_get(28)?,
            osystem: r.try_get(29)?,
            distro_series: r.try_get(30)?,
            hwe_kernel: r.try_get(31)?,
            min_hwe_kernel: r.try_get(32)?,
            tag_names: r.try_get(33)?,
            hardware_uuid: r.try_get(34)?,
            hardware_info: r.try_get(35)?,
            owner_data: r.try_get(36)?,
            ephemeral_deploy: r.try_get(37)?,
            bios_boot_method: r.try_get(38)?,
            agent_name: r.try_get(39)?,
            node_type: r.try_get(40)?,
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
    pub interfaces: Vec<InterfaceJson>,
    pub disks: Vec<BlockDeviceJson>,
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
        let boot = self
            .interfaces
            .iter()
            .find(|i| i.is_boot)
            .or(self.interfaces.first());
        let ips: Vec<String> = self
            .interfaces
            .iter()
            .flat_map(|i| i.links.iter().filter_map(|l| l.ip_address.clone()))
            .collect();
        let storage_mb: f64 = self.disks.iter().map(|d| d.size as f64 / 1e6).sum();
        MachineJson {
            system_id: &r.system_id,
            hostname: &r.hostname,
            fqdn: format!("{}.{}", r.hostname, r.domain_name),
            domain: DomainJson {
                id: r.domain_id,
                name: &r.domain_name,
                ttl: r.domain_ttl,
                authoritative: r.domain_auth,
                is_default: r.domain_default,
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
            owner: r.owner.as_deref(),
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
                name: &r.zone_name,
                description: &r.zone_desc,
                resource_uri: format!("{API}/zones/{}/", r.zone_name),
            },
            pool: PlaceJson {
                id: r.pool_id,
                name: &r.pool_name,
                description: &r.pool_desc,
                resource_uri: format!("{API}/resourcepool/{}/", r.pool_id),
            },
            tag_names: &r.tag_names,
            agent_name: &r.agent_name,
            ip_addresses: ips,
            boot_interface: boot,
            interface_set: &self.interfaces,
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
            boot_disk: self.disks.iter().min_by_key(|d| d.id),
            blockdevice_set: &self.disks,
            physicalblockdevice_set: &self.disks,
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

/// Load interfaces (with VLAN/fabric and links) and disks for machines.
pub async fn load_related(db: &PgPool, rows: Vec<MachineRow>) -> ApiResult<Vec<FullMachine>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let sysids: HashMap<i64, &str> = rows.iter().map(|r| (r.id, r.system_id.as_str())).collect();
    // Interfaces, their links and disks: three queries, run concurrently.
    let ifaces_q = sqlx::query(
        "SELECT i.id, i.machine_id, i.name, i.type, i.mac_address, i.enabled, i.link_speed,
                i.interface_speed, i.tags, i.is_boot,
                v.id AS vlan_id, v.vid, v.name AS vlan_name, v.mtu, v.dhcp_on, v.external_dhcp,
                v.relay_vlan_id, f.id AS fabric_id, f.name AS fabric_name, s.name AS space_name
           FROM interfaces i
           LEFT JOIN vlans v ON v.id = i.vlan_id
           LEFT JOIN fabrics f ON f.id = v.fabric_id
           LEFT JOIN spaces s ON s.id = v.space_id
          WHERE i.machine_id = ANY($1) ORDER BY i.id",
    )
    .bind(&ids)
    .fetch_all(db);
    let links_q = sqlx::query(
        "SELECT l.id, l.interface_id, l.mode, host(l.ip) AS ip, s.id AS subnet_id, s.name,
                s.cidr::text AS cidr, s.vlan_id, host(s.gateway_ip) AS gateway_ip,
                sp.name AS space_name
           FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
           JOIN subnets s ON s.id = l.subnet_id
           JOIN vlans v ON v.id = s.vlan_id LEFT JOIN spaces sp ON sp.id = v.space_id
          WHERE i.machine_id = ANY($1) ORDER BY l.id",
    )
    .bind(&ids)
    .fetch_all(db);
    let disks_q = sqlx::query(
        "SELECT id, machine_id, name, size, block_size, tags, model, serial, id_path
           FROM block_devices WHERE machine_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(db);
    let (iface_rows, link_rows, disk_rows) = tokio::try_join!(ifaces_q, links_q, disks_q)?;
    let mut links: HashMap<i64, Vec<LinkJson>> = HashMap::new();
    for l in link_rows {
        let sid: i64 = l.get("subnet_id");
        links
            .entry(l.get("interface_id"))
            .or_default()
            .push(LinkJson {
                id: l.get("id"),
                mode: l.get("mode"),
                ip_address: l.get("ip"),
                subnet: Some(SubnetBrief {
                    id: sid,
                    name: l.get("name"),
                    cidr: l.get("cidr"),
                    vlan: l.get("vlan_id"),
                    space: l
                        .get::<Option<String>, _>("space_name")
                        .unwrap_or_else(|| "undefined".into()),
                    gateway_ip: l.get("gateway_ip"),
                    resource_uri: format!("{API}/subnets/{sid}/"),
                }),
            });
    }
    let mut ifaces: HashMap<i64, Vec<InterfaceJson>> = HashMap::new();
    for r in iface_rows {
        let id: i64 = r.get("id");
        let mid: i64 = r.get("machine_id");
        let sys = sysids.get(&mid).copied().unwrap_or("");
        let vlan = r.get::<Option<i64>, _>("vlan_id").map(|vid_id| {
            let fabric_id: i64 = r.get("fabric_id");
            VlanJson {
                id: vid_id,
                vid: r.get("vid"),
                name: r
                    .get::<Option<String>, _>("vlan_name")
                    .unwrap_or_else(|| "untagged".into()),
                mtu: r.get("mtu"),
                fabric: r.get("fabric_name"),
                fabric_id,
                dhcp_on: r.get("dhcp_on"),
                external_dhcp: r.get("external_dhcp"),
                primary_rack: None,
                secondary_rack: None,
                relay_vlan: r.get("relay_vlan_id"),
                space: r
                    .get::<Option<String>, _>("space_name")
                    .unwrap_or_else(|| "undefined".into()),
                resource_uri: format!("{API}/vlans/{vid_id}/"),
            }
        });
        let mtu = vlan.as_ref().map(|v| v.mtu).unwrap_or(1500);
        ifaces.entry(mid).or_default().push(InterfaceJson {
            id,
            name: r.get("name"),
            type_: r.get("type"),
            mac_address: r.get("mac_address"),
            enabled: r.get("enabled"),
            tags: r.get("tags"),
            vlan,
            links: links.remove(&id).unwrap_or_default(),
            params: String::new(),
            parents: vec![],
            children: vec![],
            link_speed: r.get("link_speed"),
            interface_speed: r.get("interface_speed"),
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
            is_boot: r.get("is_boot"),
            machine_id: mid,
        });
    }
    let mut disks: HashMap<i64, Vec<BlockDeviceJson>> = HashMap::new();
    for r in disk_rows {
        let id: i64 = r.get("id");
        let mid: i64 = r.get("machine_id");
        let sys = sysids.get(&mid).copied().unwrap_or("");
        let name: String = r.get("name");
        let size: i64 = r.get("size");
        disks.entry(mid).or_default().push(BlockDeviceJson {
            id,
            path: format!("/dev/disk/by-dname/{name}"),
            name,
            type_: "physical",
            id_path: r.get("id_path"),
            size,
            block_size: r.get("block_size"),
            available_size: size,
            used_size: 0,
            used_for: "Unused",
            tags: r.get("tags"),
            model: r.get("model"),
            serial: r.get("serial"),
            uuid: None,
            filesystem: None,
            partition_table_type: None,
            partitions: vec![],
            storage_pool: None,
            numa_node: 0,
            system_id: sys.to_string(),
            resource_uri: format!("{API}/nodes/{sys}/blockdevices/{id}/"),
            machine_id: mid,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| FullMachine {
            interfaces: ifaces.remove(&row.id).unwrap_or_default(),
            disks: disks.remove(&row.id).unwrap_or_default(),
            row,
            constraints_by_type: None,
        })
        .collect())
}

fn write_objects(ms: &[FullMachine], out: &mut Vec<u8>) {
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Serialising plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &m.json());
    }
}

/// Serialise machines as a JSON array. Large lists are split across two
/// threads (the list endpoint's cost is mostly this and row decoding).
pub fn machines_to_json(ms: &[FullMachine]) -> Vec<u8> {
    const PER_MACHINE: usize = 2800;
    if ms.len() < 512 {
        let mut out = Vec::with_capacity(2 + ms.len() * PER_MACHINE);
        out.push(b'[');
        write_objects(ms, &mut out);
        out.push(b']');
        return out;
    }
    let (a, b) = ms.split_at(ms.len() / 2);
    let mut second = Vec::with_capacity(b.len() * PER_MACHINE);
    let mut out = Vec::with_capacity(2 + ms.len() * PER_MACHINE);
    out.push(b'[');
    std::thread::scope(|scope| {
        scope.spawn(|| write_objects(b, &mut second));
        write_objects(a, &mut out);
    });
    out.push(b',');
    out.extend_from_slice(&second);
    out.push(b']');
    out
}

pub fn machine_to_json(m: &FullMachine) -> Vec<u8> {
    serde_json::to_vec(&m.json()).unwrap_or_else(|_| b"{}".to_vec())
}
