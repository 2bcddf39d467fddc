//! The PCI and USB devices of a commissioning inventory (`pci_devices`,
//! `usb_devices`), checked field by field, each given MAAS's hardware
//! type: Network when one of the inventory's NICs sits on it, Storage when
//! a disk does, GPU for a display controller, Node otherwise.

use maas_model::node_device::{Bus, HardwareType, is_device_id, pci_bus_device};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::node_devices::{Device, NewDevice};

/// More devices than any machine has: an inventory past it is refused.
const MAX_DEVICES: usize = 4096;
/// The longest name or driver kept.
const MAX_NAME: usize = 256;

fn wrong(field: &str) -> Error {
    Error::field(
        field,
        format!("Inventory field '{field}' has the wrong type."),
    )
}

/// A text field ("" when absent or null): no NUL, at most `MAX_NAME` bytes.
fn text(d: &Value, field: &str, key: &str) -> Result<String> {
    let field = format!("{field}.{key}");
    match d.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => checked(s, &field),
        Some(_) => Err(wrong(&field)),
    }
}

fn checked(t: &str, field: &str) -> Result<String> {
    if t.contains('\0') || t.len() > MAX_NAME {
        return Err(Error::field(
            field,
            format!("Text of at most {MAX_NAME} bytes without NUL."),
        ));
    }
    Ok(t.to_string())
}

fn device_id(d: &Value, field: &str, key: &str) -> Result<String> {
    let v = d.get(key).and_then(Value::as_str).unwrap_or("");
    if !is_device_id(v) {
        return Err(Error::field(
            &format!("{field}.{key}"),
            format!("'{}' is not four hex digits.", v.escape_default()),
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// A PCI address, lower-cased, with its bus and device numbers.
fn pci_address(v: &str, field: &str) -> Result<(String, u32, u32)> {
    let (bus, device) = pci_bus_device(v).filter(|_| v.len() <= 64).ok_or_else(|| {
        Error::field(
            field,
            format!("'{}' is not a PCI address.", v.escape_default()),
        )
    })?;
    Ok((v.to_ascii_lowercase(), bus, device))
}

/// The PCI addresses the inventory's `list` (`nics` or `disks`) sits on,
/// each with the entry's `key` (its MAC or name).
fn sitting_on(inv: &Value, list: &str, key: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for e in inv
        .get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = format!("{list}.pci_address");
        let addr = match e.get("pci_address") {
            None | Some(Value::Null) => continue,
            Some(Value::String(a)) => pci_address(a, &field)?.0,
            Some(_) => return Err(wrong(&field)),
        };
        if let Some(k) = e.get(key).and_then(Value::as_str) {
            let k = if key == "mac" {
                maas_model::ids::normalize_mac(k).unwrap_or_default()
            } else {
                k.to_string()
            };
            out.push((addr, k));
        }
    }
    Ok(out)
}

fn list<'a>(inv: &'a Value, key: &str) -> Result<Option<&'a Vec<Value>>> {
    match inv.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.len() <= MAX_DEVICES => Ok(Some(a)),
        Some(Value::Array(_)) => Err(Error::field(key, format!("At most {MAX_DEVICES} devices."))),
        Some(_) => Err(wrong(key)),
    }
}

/// The inventory's devices; `None` when it lists neither bus (what is
/// stored is kept).
pub fn parse(inv: &Value) -> Result<Option<Vec<NewDevice>>> {
    let nics = sitting_on(inv, "nics", "mac")?;
    let disks = sitting_on(inv, "disks", "name")?;
    let (pci, usb) = (list(inv, "pci_devices")?, list(inv, "usb_devices")?);
    if pci.is_none() && usb.is_none() {
        return Ok(None);
    }
    let on = |l: &[(String, String)], a: &str| l.iter().find(|(p, _)| p == a).map(|x| x.1.clone());
    let mut out: Vec<NewDevice> = Vec::new();
    for d in pci.into_iter().flatten() {
        let f = "pci_devices";
        let raw = d.get("pci_address").and_then(Value::as_str).unwrap_or("");
        let (addr, bus_number, device_number) = pci_address(raw, "pci_devices.pci_address")?;
        let numa_node = match d.get("numa_node") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .filter(|n| (-1..=i64::from(u16::MAX)).contains(n))
                .ok_or_else(|| Error::field("pci_devices.numa_node", "A NUMA node is 0 to 65535."))?
                .max(0) as i32,
        };
        let class = text(d, f, "class")?;
        let (mac, disk) = (on(&nics, &addr), on(&disks, &addr));
        let hardware_type = if mac.is_some() {
            HardwareType::Network
        } else if disk.is_some() {
            HardwareType::Storage
        } else if class.starts_with("03") {
            HardwareType::Gpu
        } else {
            HardwareType::Node
        };
        let dev = NewDevice {
            device: Device {
                bus: Bus::Pcie as i16,
                hardware_type: hardware_type as i16,
                numa_node,
                vendor_id: device_id(d, f, "vendor_id")?,
                product_id: device_id(d, f, "product_id")?,
                vendor_name: text(d, f, "vendor")?,
                product_name: text(d, f, "product")?,
                commissioning_driver: text(d, f, "driver")?,
                bus_number: bus_number as i32,
                device_number: device_number as i32,
                pci_address: Some(addr),
            },
            mac,
            disk,
        };
        if !out
            .iter()
            .any(|o| o.device.pci_address == dev.device.pci_address)
        {
            out.push(dev);
        }
    }
    for d in usb.into_iter().flatten() {
        let f = "usb_devices";
        let number = |k: &str| -> Result<i32> {
            d.get(k)
                .and_then(Value::as_i64)
                .filter(|n| (0..=65536).contains(n))
                .map(|n| n as i32)
                .ok_or_else(|| Error::field(&format!("{f}.{k}"), "A number from 0 to 65536."))
        };
        let mut drivers = Vec::new();
        match d.get("drivers") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for v in a {
                    let v = v.as_str().ok_or_else(|| wrong("usb_devices.drivers"))?;
                    let t = checked(v, "usb_devices.drivers")?;
                    if !t.is_empty() && !drivers.contains(&t) {
                        drivers.push(t);
                    }
                }
            }
            Some(_) => return Err(wrong("usb_devices.drivers")),
        }
        drivers.sort();
        let commissioning_driver = drivers.join(", ");
        if commissioning_driver.len() > MAX_NAME {
            return Err(Error::field(
                "usb_devices.drivers",
                format!("At most {MAX_NAME} bytes of driver names."),
            ));
        }
        let dev = NewDevice {
            device: Device {
                bus: Bus::Usb as i16,
                hardware_type: HardwareType::Node as i16,
                numa_node: 0,
                vendor_id: device_id(d, f, "vendor_id")?,
                product_id: device_id(d, f, "product_id")?,
                vendor_name: text(d, f, "vendor")?,
                product_name: text(d, f, "product")?,
                commissioning_driver,
                bus_number: number("bus_address")?,
                device_number: number("device_address")?,
                pci_address: None,
            },
            mac: None,
            disk: None,
        };
        let same = |o: &NewDevice| {
            let (o, d) = (&o.device, &dev.device);
            o.bus == d.bus && o.bus_number == d.bus_number && o.device_number == d.device_number
        };
        if !out.iter().any(same) {
            out.push(dev);
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(v: Value, field: &str) {
        match parse(&v) {
            Err(e) => assert!(format!("{e:?}").contains(field), "{field}: {e:?}"),
            Ok(d) => panic!("accepted {v}: {d:?}"),
        }
    }

    #[test]
    fn devices_get_their_types_and_links() {
        let inv = json!({
            "nics": [{"name": "ens3", "mac": "52-54-00-00-00-01", "pci_address": "0000:00:03.0"}],
            "disks": [{"name": "vda", "size": 1, "pci_address": "0000:00:04.0"}],
            "pci_devices": [
                {"pci_address": "0000:00:03.0", "vendor_id": "1AF4", "product_id": "1000",
                 "vendor": "Red Hat, Inc.", "product": "Virtio network device",
                 "driver": "virtio-pci", "numa_node": 0, "class": "020000"},
                {"pci_address": "0000:00:04.0", "vendor_id": "1af4", "product_id": "1001",
                 "numa_node": -1, "class": "010000"},
                {"pci_address": "0000:3b:1f.2", "vendor_id": "1234", "product_id": "1111",
                 "numa_node": 1, "class": "030000"},
                {"pci_address": "0000:00:05.0", "vendor_id": "1b36", "product_id": "000d",
                 "class": "0c0330"},
                {"pci_address": "0000:00:05.0", "vendor_id": "1b36", "product_id": "000d"}
            ],
            "usb_devices": [
                {"bus_address": 1, "device_address": 2, "vendor_id": "0627",
                 "product_id": "0001", "vendor": "QEMU", "product": "QEMU USB Tablet",
                 "drivers": ["usbhid", "snd-usb-audio", "usbhid"]},
                {"bus_address": 1, "device_address": 2, "vendor_id": "0627", "product_id": "0001"}
            ]
        });
        let d = parse(&inv).unwrap().unwrap();
        assert_eq!(d.len(), 5, "an address seen twice counts once: {d:?}");
        let mac = d[0].mac.clone();
        let disk = d[1].disk.clone();
        let d: Vec<Device> = d.into_iter().map(|n| n.device).collect();
        let net = &d[0];
        assert_eq!(net.hardware_type, HardwareType::Network as i16);
        assert_eq!(mac.as_deref(), Some("52:54:00:00:00:01"));
        assert_eq!(net.vendor_id, "1af4", "ids are lower-cased");
        assert_eq!((net.bus_number, net.device_number), (0, 3));
        assert_eq!(d[1].hardware_type, HardwareType::Storage as i16);
        assert_eq!(disk.as_deref(), Some("vda"));
        assert_eq!(d[1].numa_node, 0, "-1 is no NUMA node: node 0");
        assert_eq!(d[2].hardware_type, HardwareType::Gpu as i16);
        assert_eq!(
            (d[2].bus_number, d[2].device_number, d[2].numa_node),
            (0x3b, 0x1f, 1)
        );
        assert_eq!(d[3].hardware_type, HardwareType::Node as i16);
        let usb = &d[4];
        assert_eq!(usb.bus, Bus::Usb as i16);
        assert_eq!(usb.pci_address, None);
        assert_eq!(usb.commissioning_driver, "snd-usb-audio, usbhid");
        assert_eq!((usb.bus_number, usb.device_number), (1, 2));
        assert!(
            parse(&json!({"nics": []})).unwrap().is_none(),
            "no buses: keep"
        );
        assert_eq!(parse(&json!({"usb_devices": []})).unwrap(), Some(vec![]));
    }

    #[test]
    fn bad_devices_are_refused() {
        let pci = |d: Value| json!({"pci_devices": [d]});
        let good =
            json!({"pci_address": "0000:00:03.0", "vendor_id": "1af4", "product_id": "1000"});
        assert!(parse(&pci(good.clone())).is_ok());
        let with = |k: &str, v: Value| {
            let mut d = good.clone();
            d[k] = v;
            pci(d)
        };
        refused(
            with("pci_address", json!("00:03")),
            "pci_devices.pci_address",
        );
        refused(with("pci_address", json!(3)), "pci_devices.pci_address");
        refused(with("vendor_id", json!("1af")), "pci_devices.vendor_id");
        refused(with("product_id", json!("zzzz")), "pci_devices.product_id");
        refused(with("vendor", json!("a\u{0}b")), "pci_devices.vendor");
        refused(
            with("product", json!("x".repeat(257))),
            "pci_devices.product",
        );
        refused(with("driver", json!(["x"])), "pci_devices.driver");
        refused(with("numa_node", json!(70000)), "pci_devices.numa_node");
        refused(json!({"pci_devices": {}}), "pci_devices");
        refused(json!({"usb_devices": "x"}), "usb_devices");
        let usb = |d: Value| json!({"usb_devices": [d]});
        refused(
            usb(
                json!({"bus_address": -1, "device_address": 1, "vendor_id": "0627", "product_id": "0001"}),
            ),
            "usb_devices.bus_address",
        );
        refused(
            usb(json!({"bus_address": 1, "vendor_id": "0627", "product_id": "0001"})),
            "usb_devices.device_address",
        );
        refused(
            usb(
                json!({"bus_address": 1, "device_address": 1, "vendor_id": "0627",
                       "product_id": "0001", "drivers": "usbhid"}),
            ),
            "usb_devices.drivers",
        );
        refused(
            json!({"nics": [{"name": "e", "mac": "52:54:00:00:00:01", "pci_address": "nope"}]}),
            "nics.pci_address",
        );
        refused(
            json!({"disks": [{"name": "sda", "size": 1, "pci_address": 7}]}),
            "disks.pci_address",
        );
        let many: Vec<Value> = (0..=MAX_DEVICES).map(|_| good.clone()).collect();
        refused(json!({ "pci_devices": many }), "pci_devices");
    }
}
