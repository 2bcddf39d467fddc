//! What a machine's JSON embeds besides its own row: its related sets
//! (interfaces, disks); the shared names (domains, zones, pools, users) are
//! read as they are by the store.

use std::collections::HashMap;

use crate::render::{
    API, BlockDeviceJson, FsJson, InterfaceJson, LinkJson, VlanJson, networks, storage,
};
use crate::store::machines::related::{DiskRow, FsRow, IfaceRow, LinkRow, LinkSubnet, LinkVlan};
use crate::store::networks::subnets::SubnetRow;
use crate::store::networks::vlans::VlanRow;

/// A machine's interfaces (with VLANs and links) and block devices.
#[derive(Debug, Default)]
pub struct Related {
    pub interfaces: Vec<InterfaceJson>,
    pub disks: Vec<BlockDeviceJson>,
    /// Special filesystems (tmpfs, ramfs).
    pub special: Vec<FsJson>,
}

/// Build one machine's related set from its rows.
pub fn assemble(
    sys: &str,
    iface_rows: Vec<IfaceRow>,
    link_rows: Vec<LinkRow>,
    disk_rows: Vec<DiskRow>,
    special: Vec<FsRow>,
) -> Related {
    let mut links: HashMap<i64, Vec<LinkJson>> = HashMap::new();
    for l in link_rows {
        let LinkRow(id, iface, mode, ip, s, v, default_gateway) = l;
        let LinkSubnet(
            sid,
            name,
            cidr,
            gateway_ip,
            dns_servers,
            managed,
            allow_dns,
            allow_proxy,
            active_discovery,
            rdns_mode,
            description,
        ) = s;
        let LinkVlan(
            vlan_id,
            vid,
            vlan_name,
            mtu,
            dhcp_on,
            external_dhcp,
            vlan_description,
            relay_vlan_id,
            fabric_id,
            fabric,
            primary_rack,
            secondary_rack,
            space,
        ) = v;
        let subnet = SubnetRow {
            id: sid,
            name,
            cidr,
            vlan_id,
            gateway_ip,
            dns_servers,
            managed,
            allow_dns,
            allow_proxy,
            active_discovery,
            rdns_mode,
            description,
        };
        let vlan = VlanRow {
            id: vlan_id,
            vid,
            name: vlan_name,
            mtu,
            dhcp_on,
            external_dhcp,
            description: vlan_description,
            relay_vlan_id,
            fabric_id,
            fabric,
            primary_rack,
            secondary_rack,
            space,
        };
        links.entry(iface).or_default().push(LinkJson {
            id,
            mode,
            ip_address: ip,
            subnet: Some(networks::subnet_json(subnet, vlan)),
            default_gateway,
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
            params,
            link_connected,
            parents,
            children,
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
        let params: serde_json::Value = params
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .filter(|p: &serde_json::Value| p.as_object().is_some_and(|o| !o.is_empty()))
            .unwrap_or_else(|| serde_json::Value::String(String::new()));
        let mtu = params
            .get("mtu")
            .and_then(|m| m.as_i64())
            .map(|m| m as i32)
            .or(vlan.as_ref().map(|v| v.mtu))
            .unwrap_or(1500);
        interfaces.push(InterfaceJson {
            id,
            name,
            type_,
            mac_address,
            enabled,
            tags,
            vlan,
            links: links.remove(&id).unwrap_or_default(),
            params,
            parents,
            children,
            link_speed,
            interface_speed,
            link_connected,
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
        .map(|r| storage::disk_json(sys, r))
        .collect();
    let special = special.into_iter().map(storage::fs_json).collect();
    Related {
        interfaces,
        disks,
        special,
    }
}

pub use crate::store::machines::related::{DomainInfo, Place, SharedNames};
