//! Devices as MAAS renders them (`DISPLAYED_DEVICE_FIELDS` + resource_uri),
//! and the node shape `nodes/` lists them in.

use serde_json::{Value, json};

use crate::render::related::SharedNames;
use crate::render::{API, InterfaceJson};
use crate::store::devices::DeviceRow;

pub fn device_uri(system_id: &str) -> String {
    format!("{API}/devices/{system_id}/")
}

/// The domain object nodes embed.
pub fn domain(names: &SharedNames, id: i64) -> Value {
    let d = names.domains.get(&id);
    json!({
        "authoritative": d.is_some_and(|d| d.authoritative),
        "id": id,
        "is_default": d.is_some_and(|d| d.is_default),
        "name": d.map_or("", |d| d.name.as_str()),
        "resource_record_count": 0,
        "resource_uri": format!("{API}/domains/{id}/"),
        "ttl": d.and_then(|d| d.ttl),
    })
}

/// The zone object nodes embed.
pub fn zone(names: &SharedNames, id: i64) -> Value {
    let z = names.zones.get(&id);
    let name = z.map_or("", |z| z.name.as_str());
    json!({
        "description": z.map_or("", |z| z.description.as_str()),
        "id": id,
        "name": name,
        "resource_uri": format!("{API}/zones/{name}/"),
    })
}

/// One device with its interfaces.
pub fn device(d: &DeviceRow, names: &SharedNames, interfaces: &[InterfaceJson]) -> Value {
    let domain_name = names
        .domains
        .get(&d.domain_id)
        .map_or("", |x| x.name.as_str());
    let owner = d
        .owner_id
        .map(|u| names.users.get(&u).cloned().unwrap_or_default());
    let owner_data: Value = serde_json::from_str(&d.owner_data).unwrap_or_else(|_| json!({}));
    let ips: Vec<&str> = interfaces
        .iter()
        .flat_map(|i| i.links.iter().filter_map(|l| l.ip_address.as_deref()))
        .collect();
    json!({
        "address_ttl": None::<i32>,
        "description": d.description,
        "domain": domain(names, d.domain_id),
        "fqdn": format!("{}.{domain_name}", d.hostname),
        "hostname": d.hostname,
        "interface_set": interfaces,
        "ip_addresses": ips,
        "node_type": 1,
        "node_type_name": "Device",
        "owner": owner,
        "owner_data": owner_data,
        "parent": d.parent,
        "resource_uri": device_uri(&d.system_id),
        "system_id": d.system_id,
        "tag_names": [],
        "workload_annotations": owner_data,
        "zone": zone(names, d.zone_id),
    })
}
