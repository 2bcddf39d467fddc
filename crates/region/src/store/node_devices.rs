//! A machine's PCI and USB devices (MAAS's node devices).

use crate::error::Result;
use crate::store::{Conn, Executor};

/// What is known of a device, stored and reported alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub bus: i16,
    pub hardware_type: i16,
    pub numa_node: i32,
    pub vendor_id: String,
    pub product_id: String,
    pub vendor_name: String,
    pub product_name: String,
    pub commissioning_driver: String,
    pub bus_number: i32,
    pub device_number: i32,
    pub pci_address: Option<String>,
}

/// A device as commissioning reports it, checked. `mac` and `disk` name the
/// interface or disk of the machine it drives, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    pub device: Device,
    pub mac: Option<String>,
    pub disk: Option<String>,
}

/// A stored device.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub device: Device,
    pub interface_id: Option<i64>,
    pub block_device_id: Option<i64>,
}

type Tuple = (
    i64,
    i16,
    i16,
    i32,
    String,
    String,
    String,
    String,
    String,
    i32,
    i32,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// A machine's devices: PCI by address, then USB by bus and device.
pub async fn list<'e>(e: impl Executor<'e>, machine_id: i64) -> Result<Vec<Row>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT id, bus, hardware_type, numa_node, vendor_id, product_id, vendor_name,
                product_name, commissioning_driver, bus_number, device_number, pci_address,
                interface_id, block_device_id
           FROM node_devices WHERE machine_id = $1
          ORDER BY bus, pci_address, bus_number, device_number",
    )
    .bind(machine_id)
    .fetch_all(e)
    .await?;
    Ok(rows
        .into_iter()
        .map(|t| Row {
            id: t.0,
            device: Device {
                bus: t.1,
                hardware_type: t.2,
                numa_node: t.3,
                vendor_id: t.4,
                product_id: t.5,
                vendor_name: t.6,
                product_name: t.7,
                commissioning_driver: t.8,
                bus_number: t.9,
                device_number: t.10,
                pci_address: t.11,
            },
            interface_id: t.12,
            block_device_id: t.13,
        })
        .collect())
}

/// Delete one device of a machine; whether it was there.
pub async fn delete<'e>(e: impl Executor<'e>, machine_id: i64, id: i64) -> Result<bool> {
    let n = sqlx::query("DELETE FROM node_devices WHERE machine_id = $1 AND id = $2")
        .bind(machine_id)
        .bind(id)
        .execute(e)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// Where a device is: its PCI address, or `bus:device` on USB.
fn address(d: &Device) -> String {
    d.pci_address
        .clone()
        .unwrap_or_else(|| format!("{}:{}", d.bus_number, d.device_number))
}

/// Make the machine's devices what commissioning found, as MAAS does: a
/// device still at its address with the same vendor and product keeps its
/// id and is updated; the rest are removed and the new ones added. Links
/// to interfaces (by MAC) and disks (by name) are set from the machine's
/// current ones.
pub async fn replace(c: &mut Conn, machine_id: i64, devices: &[NewDevice]) -> Result<()> {
    let keys: Vec<String> = devices
        .iter()
        .map(|n| &n.device)
        .map(|d| format!("{}/{}/{}", d.vendor_id, d.product_id, address(d)))
        .collect();
    sqlx::query(
        "DELETE FROM node_devices WHERE machine_id = $1 AND NOT (
             vendor_id || '/' || product_id || '/' ||
             coalesce(pci_address, bus_number || ':' || device_number) = ANY($2))",
    )
    .bind(machine_id)
    .bind(&keys)
    .execute(&mut *c)
    .await?;
    for NewDevice {
        device: d,
        mac,
        disk,
    } in devices
    {
        let updated = sqlx::query(
            "UPDATE node_devices SET hardware_type = $5, numa_node = $6, vendor_name = $7,
                    product_name = $8, commissioning_driver = $9,
                    interface_id = (SELECT id FROM interfaces WHERE machine_id = $1
                                     AND mac_address = $10 AND type = 'physical'),
                    block_device_id = (SELECT id FROM block_devices WHERE machine_id = $1
                                        AND name = $11),
                    updated = now()
              WHERE machine_id = $1 AND vendor_id = $2 AND product_id = $3
                AND coalesce(pci_address, bus_number || ':' || device_number) = $4",
        )
        .bind(machine_id)
        .bind(&d.vendor_id)
        .bind(&d.product_id)
        .bind(address(d))
        .bind(d.hardware_type)
        .bind(d.numa_node)
        .bind(&d.vendor_name)
        .bind(&d.product_name)
        .bind(&d.commissioning_driver)
        .bind(mac)
        .bind(disk)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if updated > 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO node_devices (machine_id, bus, hardware_type, numa_node, vendor_id,
                    product_id, vendor_name, product_name, commissioning_driver, bus_number,
                    device_number, pci_address, interface_id, block_device_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                    (SELECT id FROM interfaces WHERE machine_id = $1 AND mac_address = $13
                        AND type = 'physical'),
                    (SELECT id FROM block_devices WHERE machine_id = $1 AND name = $14))",
        )
        .bind(machine_id)
        .bind(d.bus)
        .bind(d.hardware_type)
        .bind(d.numa_node)
        .bind(&d.vendor_id)
        .bind(&d.product_id)
        .bind(&d.vendor_name)
        .bind(&d.product_name)
        .bind(&d.commissioning_driver)
        .bind(d.bus_number)
        .bind(d.device_number)
        .bind(&d.pci_address)
        .bind(mac)
        .bind(disk)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}
