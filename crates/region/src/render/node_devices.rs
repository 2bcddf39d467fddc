//! A node device (PCI or USB) in MAAS's JSON shape: the interface or disk
//! it drives is shown whole, as MAAS nests them.

use maas_model::node_device::{Bus, HardwareType};
use serde::Serialize;

use crate::render::storage::BlockDeviceJson;
use crate::render::{API, InterfaceJson};
use crate::store::node_devices::Row;

#[derive(Debug, Clone, Serialize)]
pub struct NodeDeviceJson {
    pub id: i64,
    pub bus: i16,
    pub bus_name: &'static str,
    pub hardware_type: i16,
    pub hardware_type_name: &'static str,
    pub system_id: String,
    pub numa_node: i32,
    pub physical_blockdevice: Option<BlockDeviceJson>,
    pub physical_interface: Option<InterfaceJson>,
    pub vendor_id: String,
    pub product_id: String,
    pub vendor_name: String,
    pub product_name: String,
    pub commissioning_driver: String,
    pub bus_number: i32,
    pub device_number: i32,
    pub pci_address: Option<String>,
    pub resource_uri: String,
}

impl NodeDeviceJson {
    /// `interfaces` and `disks`: the machine's, to nest the linked ones.
    pub fn new(
        system_id: &str,
        r: Row,
        interfaces: &[InterfaceJson],
        disks: &[BlockDeviceJson],
    ) -> NodeDeviceJson {
        let d = r.device;
        let bus = Bus::from_number(d.bus.into()).unwrap_or(Bus::Pcie);
        let hardware_type = HardwareType::from_number(d.hardware_type.into());
        NodeDeviceJson {
            resource_uri: format!("{API}/nodes/{system_id}/devices/{}/", r.id),
            id: r.id,
            bus: d.bus,
            bus_name: bus.name(),
            hardware_type: d.hardware_type,
            hardware_type_name: hardware_type.name(),
            system_id: system_id.to_string(),
            numa_node: d.numa_node,
            physical_blockdevice: r
                .block_device_id
                .and_then(|id| disks.iter().find(|d| d.id == id).cloned()),
            physical_interface: r
                .interface_id
                .and_then(|id| interfaces.iter().find(|i| i.id == id).cloned()),
            vendor_id: d.vendor_id,
            product_id: d.product_id,
            vendor_name: d.vendor_name,
            product_name: d.product_name,
            commissioning_driver: d.commissioning_driver,
            bus_number: d.bus_number,
            device_number: d.device_number,
            pci_address: d.pci_address,
        }
    }
}
