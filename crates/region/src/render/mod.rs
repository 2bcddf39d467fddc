//! Machine rows and their MAAS JSON shape (`DISPLAYED_MACHINE_FIELDS`).
//! A machine is rendered from its row, its related set (interfaces, disks)
//! and the shared names it refers to; `load` reads and caches those.

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

pub mod cache;
pub mod devices;
pub mod networks;
pub mod node_devices;
pub mod related;
pub mod storage;

use crate::render::related::{Related, SharedNames};
pub use crate::store::machines::MachineRow;

pub const API: &str = "/MAAS/api/2.0";

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

/// An interface's link; `ip_address` is left out when there is none (as
/// MAAS does; gomaasapi refuses a null).
#[derive(Debug, Clone, Serialize)]
pub struct LinkJson {
    pub id: i64,
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    pub subnet: Option<SubnetJson>,
    /// The machine's default gateway link of this subnet's family.
    #[serde(skip)]
    pub default_gateway: bool,
}

/// A subnet as `subnets/{id}/` renders it (`networks::subnet`), typed for
/// machine rendering; fields in key order, so the bytes are the same.
#[derive(Debug, Clone, Serialize)]
pub struct SubnetJson {
    pub active_discovery: bool,
    pub allow_dns: bool,
    pub allow_proxy: bool,
    pub cidr: String,
    pub description: String,
    pub disabled_boot_architectures: [(); 0],
    pub dns_servers: Vec<String>,
    pub gateway_ip: Option<String>,
    pub id: i64,
    pub managed: bool,
    pub name: String,
    pub rdns_mode: i16,
    pub resource_uri: String,
    pub space: String,
    pub vlan: FullVlanJson,
}

/// A VLAN as `vlans/{id}/` renders it (`networks::vlan`), in key order.
#[derive(Debug, Clone, Serialize)]
pub struct FullVlanJson {
    pub description: String,
    pub dhcp_on: bool,
    pub external_dhcp: Option<String>,
    pub fabric: String,
    pub fabric_id: i64,
    pub id: i64,
    pub mtu: i32,
    pub name: String,
    pub primary_rack: Option<String>,
    pub relay_vlan: Option<i64>,
    pub resource_uri: String,
    pub secondary_rack: Option<String>,
    pub space: String,
    pub vid: i32,
}

/// `numanode_set`: the nodes commissioning found, or else MAAS's default.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum NumaSet<'a> {
    Found(&'a RawValue),
    Default([NumaNodeJson; 1]),
}

/// A NUMA node as MAAS shows it. Before commissioning reports its nodes a
/// machine has MAAS's default node: index 0 with all its memory and cores
/// (what MAAS makes when a machine is created).
#[derive(Debug, Clone, Serialize)]
pub struct NumaNodeJson {
    pub index: i32,
    pub memory: i64,
    pub cores: Vec<i32>,
    pub hugepages_set: [(); 0],
}

impl NumaNodeJson {
    /// At most this many cores are listed (a bound on the JSON's size).
    const MAX_CORES: i32 = 65536;

    pub fn default_for(cpu_count: i32, memory: i64) -> NumaNodeJson {
        NumaNodeJson {
            index: 0,
            memory,
            cores: (0..cpu_count.clamp(0, Self::MAX_CORES)).collect(),
            hugepages_set: [],
        }
    }
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
    pub params: serde_json::Value,
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

pub use crate::render::storage::{BlockDeviceJson, FsJson, PartitionJson};

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
    special_filesystems: &'a [FsJson],
    numanode_set: NumaSet<'a>,
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

/// MAAS's `hardware_info`: what commissioning stored, else its eighteen
/// keys all "Unknown".
fn hardware_info(s: &str) -> &RawValue {
    static UNKNOWN: std::sync::LazyLock<Box<RawValue>> = std::sync::LazyLock::new(|| {
        let m: serde_json::Map<String, serde_json::Value> = maas_model::hardware::unknown()
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
        serde_json::value::to_raw_value(&m).expect("a map of strings is JSON")
    });
    match serde_json::from_str::<&RawValue>(s) {
        Ok(v) if v.get() != "{}" => v,
        _ => &UNKNOWN,
    }
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
        // Folded from +0.0: an empty float sum is -0.0, which would render
        // as `-0.0`.
        let storage_mb: f64 = disks
            .iter()
            .map(|d| d.size as f64 / 1e6)
            .fold(0.0, |a, b| a + b);
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
            hardware_info: hardware_info(&r.hardware_info),
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
            default_gateways: gateways(interfaces),
            address_ttl: None,
            disable_ipv4: false,
            boot_disk: disks
                .iter()
                .find(|d| d.is_boot)
                .or_else(|| disks.iter().min_by_key(|d| d.id)),
            blockdevice_set: disks,
            physicalblockdevice_set: disks,
            virtualblockdevice_set: [],
            volume_groups: [],
            raids: [],
            cache_sets: [],
            bcaches: [],
            special_filesystems: &self.related.special,
            numanode_set: match &r.numa_nodes {
                Some(stored) => NumaSet::Found(raw(stored)),
                None => NumaSet::Default([NumaNodeJson::default_for(r.cpu_count, r.memory)]),
            },
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

/// The machine's default gateways: the links marked as such (MAAS's
/// `gateway_link_ipv4` / `gateway_link_ipv6`), with their subnets' gateways.
fn gateways(interfaces: &[InterfaceJson]) -> Gateways {
    let mut g = Gateways {
        ipv4: GatewayPair {
            gateway_ip: None,
            link_id: None,
        },
        ipv6: GatewayPair {
            gateway_ip: None,
            link_id: None,
        },
    };
    for l in interfaces.iter().flat_map(|i| &i.links) {
        let Some(s) = l.subnet.as_ref().filter(|_| l.default_gateway) else {
            continue;
        };
        let pair = if s.cidr.contains(':') {
            &mut g.ipv6
        } else {
            &mut g.ipv4
        };
        pair.gateway_ip = s.gateway_ip.clone();
        pair.link_id = Some(l.id);
    }
    g
}

pub fn machine_to_json(m: &FullMachine) -> Vec<u8> {
    serde_json::to_vec(&m.json()).unwrap_or_else(|_| b"{}".to_vec())
}

/// Render each machine to its JSON object; large sets on two threads (the
/// cost of a cold listing is mostly this and row decoding).
pub fn render_each(ms: &[FullMachine]) -> Vec<Arc<[u8]>> {
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

/// A user as MAAS embeds one in other objects (an IP range's `user`, an
/// address's `owner`, a notification's `user`): the `users/` shape.
pub fn user_ref(
    username: &str,
    email: &str,
    is_superuser: bool,
    is_local: bool,
) -> serde_json::Value {
    serde_json::json!({
        "username": username,
        "email": email,
        "is_superuser": is_superuser,
        "is_local": is_local,
        "last_name": "",
        "resource_uri": format!("{API}/users/{username}/"),
    })
}
