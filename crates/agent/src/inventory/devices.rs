//! PCI and USB devices (MAAS's node devices) from /sys/bus/pci/devices and
//! /sys/bus/usb/devices, named from the pci.ids and usb.ids databases under
//! /usr/share/misc when the environment carries them; a USB device the
//! database does not know keeps the strings it reports itself.

use std::path::Path;

use serde_json::{Value, json};

use super::read_trim;

#[derive(Debug, Clone, PartialEq)]
pub struct PciDevice {
    /// Domain:bus:device.function, as sysfs names it (`0000:00:03.0`).
    pub pci_address: String,
    pub vendor_id: String,
    pub product_id: String,
    pub vendor: String,
    pub product: String,
    pub driver: String,
    pub numa_node: u32,
    /// The class code, six hex digits (`030000`: a VGA controller).
    pub class: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UsbDevice {
    pub bus_address: u32,
    pub device_address: u32,
    pub vendor_id: String,
    pub product_id: String,
    pub vendor: String,
    pub product: String,
    /// The drivers bound to its interfaces (a webcam has video and audio).
    pub drivers: Vec<String>,
}

impl PciDevice {
    pub fn to_json(&self) -> Value {
        json!({
            "pci_address": self.pci_address,
            "vendor_id": self.vendor_id,
            "product_id": self.product_id,
            "vendor": self.vendor,
            "product": self.product,
            "driver": self.driver,
            "numa_node": self.numa_node,
            "class": self.class,
        })
    }
}

impl UsbDevice {
    pub fn to_json(&self) -> Value {
        json!({
            "bus_address": self.bus_address,
            "device_address": self.device_address,
            "vendor_id": self.vendor_id,
            "product_id": self.product_id,
            "vendor": self.vendor,
            "product": self.product,
            "drivers": self.drivers,
        })
    }
}

/// Whether `s` is a PCI address in sysfs's form (`0000:00:1f.2`).
pub fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_hexdigit);
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && hex(0..4)
        && hex(5..7)
        && hex(8..10)
        && hex(11..12)
}

/// The PCI device a sysfs device sits on (`link` is a class entry's
/// `device` link, e.g. /sys/class/net/ens3/device → …/0000:00:03.0/virtio0):
/// the nearest PCI address among its real path's components.
pub fn pci_address_of(link: &Path) -> Option<String> {
    let real = std::fs::canonicalize(link).ok()?;
    real.components()
        .rev()
        .filter_map(|c| c.as_os_str().to_str())
        .find(|c| is_pci_address(c))
        .map(str::to_string)
}

/// A hex id from sysfs (`0x1af4` or `1af4`), as four lower-case digits.
fn hex_id(v: Option<String>) -> Option<String> {
    let v = v?.to_ascii_lowercase();
    let v = v.strip_prefix("0x").unwrap_or(&v).to_string();
    (v.len() == 4 && v.bytes().all(|c| c.is_ascii_hexdigit())).then_some(v)
}

fn driver_of(dir: &Path) -> String {
    std::fs::read_link(dir.join("driver"))
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Vendor and product names from a pci.ids/usb.ids text: vendors at the
/// start of a line (`1af4  Red Hat, Inc.`), their products one tab in.
/// Either name is "" when the database does not have it.
pub fn lookup(db: &str, vendor_id: &str, product_id: &str) -> (String, String) {
    let entry = |line: &str| -> Option<(String, String)> {
        let (id, name) = line.split_once("  ")?;
        (id.len() == 4 && id.bytes().all(|c| c.is_ascii_hexdigit()))
            .then(|| (id.to_ascii_lowercase(), name.trim().to_string()))
    };
    let mut vendor = None;
    for line in db.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if !line.starts_with('\t') {
            if vendor.is_some() {
                break;
            }
            if let Some((id, name)) = entry(line)
                && id == vendor_id
            {
                vendor = Some(name);
            }
        } else if vendor.is_some()
            && !line.starts_with("\t\t")
            && let Some((id, name)) = entry(&line[1..])
            && id == product_id
        {
            return (vendor.unwrap_or_default(), name);
        }
    }
    (vendor.unwrap_or_default(), String::new())
}

fn ids_db(root: &Path, file: &str) -> String {
    std::fs::read(root.join("usr/share/misc").join(file))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Sorted directory entries of `dir` (none when it cannot be read).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn pci_devices(root: &Path) -> Vec<PciDevice> {
    let db = ids_db(root, "pci.ids");
    let base = root.join("sys/bus/pci/devices");
    entries(&base)
        .into_iter()
        .filter(|n| is_pci_address(n))
        .filter_map(|name| {
            let dir = base.join(&name);
            let vendor_id = hex_id(read_trim(&dir.join("vendor")))?;
            let product_id = hex_id(read_trim(&dir.join("device")))?;
            let (vendor, product) = lookup(&db, &vendor_id, &product_id);
            let class = read_trim(&dir.join("class"))
                .map(|c| c.trim_start_matches("0x").to_ascii_lowercase())
                .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or_default();
            let numa_node = read_trim(&dir.join("numa_node"))
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|n| (0..=i64::from(u16::MAX)).contains(n))
                .unwrap_or(0) as u32;
            Some(PciDevice {
                driver: driver_of(&dir),
                pci_address: name.to_ascii_lowercase(),
                vendor_id,
                product_id,
                vendor,
                product,
                numa_node,
                class,
            })
        })
        .collect()
}

pub fn usb_devices(root: &Path) -> Vec<UsbDevice> {
    let db = ids_db(root, "usb.ids");
    let base = root.join("sys/bus/usb/devices");
    let all = entries(&base);
    all.iter()
        // Interfaces are `<device>:<config>.<interface>`.
        .filter(|n| !n.contains(':'))
        .filter_map(|name| {
            let dir = base.join(name);
            let number = |f: &str| read_trim(&dir.join(f))?.parse::<u32>().ok();
            let vendor_id = hex_id(read_trim(&dir.join("idVendor")))?;
            let product_id = hex_id(read_trim(&dir.join("idProduct")))?;
            let (mut vendor, mut product) = lookup(&db, &vendor_id, &product_id);
            if vendor.is_empty() {
                vendor = read_trim(&dir.join("manufacturer")).unwrap_or_default();
            }
            if product.is_empty() {
                product = read_trim(&dir.join("product")).unwrap_or_default();
            }
            let prefix = format!("{name}:");
            let mut drivers: Vec<String> = all
                .iter()
                .filter(|i| i.starts_with(&prefix))
                .map(|i| driver_of(&base.join(i)))
                .filter(|d| !d.is_empty())
                .collect();
            drivers.sort();
            drivers.dedup();
            Some(UsbDevice {
                bus_address: number("busnum")?,
                device_address: number("devnum")?,
                vendor_id,
                product_id,
                vendor,
                product,
                drivers,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    /// A scratch sysfs tree, removed when dropped.
    struct Tree(PathBuf);
    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    impl Tree {
        fn new(tag: &str) -> Tree {
            let p =
                std::env::temp_dir().join(format!("agent-devices-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Tree(p)
        }
        fn file(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        fn link(&self, rel: &str, target: &str) {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, p).unwrap();
        }
    }

    const PCI_IDS: &str = "# comment\n1af4  Red Hat, Inc.\n\t1000  Virtio network device\n\t\t1af4 0001  Virtio network device\n\t1001  Virtio block device\n8086  Intel Corporation\n\t100e  82540EM Gigabit Ethernet Controller\nC 02  Network controller\n\t00  Ethernet controller\n";

    /// A qemu-like machine: a virtio NIC, an e1000 without a driver, a
    /// VGA card on NUMA node -1, a USB controller with a tablet and its
    /// root hub.
    fn machine(t: &Tree) {
        t.file("usr/share/misc/pci.ids", PCI_IDS);
        t.file(
            "usr/share/misc/usb.ids",
            "1d6b  Linux Foundation\n\t0003  3.0 root hub\n0627  Adomax Technology Co., Ltd\n",
        );
        let dev = |bdf: &str, vendor: &str, device: &str, class: &str, numa: &str| {
            let d = format!("sys/devices/pci0000:00/{bdf}");
            t.file(&format!("{d}/vendor"), vendor);
            t.file(&format!("{d}/device"), device);
            t.file(&format!("{d}/class"), class);
            t.file(&format!("{d}/numa_node"), numa);
            t.link(
                &format!("sys/bus/pci/devices/{bdf}"),
                &format!("../../../devices/pci0000:00/{bdf}"),
            );
        };
        dev("0000:00:03.0", "0x1af4\n", "0x1000\n", "0x020000\n", "-1\n");
        dev("0000:00:04.0", "0x8086", "0x100E", "0x020000", "1");
        dev("0000:00:02.0", "0x1234", "0x1111", "0x030000", "-1");
        dev("0000:00:05.0", "0x1b36", "0x000d", "0x0c0330", "-1");
        t.file("sys/bus/drivers/virtio-pci/.keep", "");
        t.link(
            "sys/devices/pci0000:00/0000:00:03.0/driver",
            "../../../bus/drivers/virtio-pci",
        );
        t.file("sys/devices/pci0000:00/0000:00:03.0/virtio0/.keep", "");
        t.link(
            "sys/class/net/ens3/device",
            "../../../devices/pci0000:00/0000:00:03.0/virtio0",
        );
        // USB: root hub 1 (usb1), a tablet 1-1 with one interface.
        let usb = "sys/bus/usb/devices";
        for (name, vendor, product, dev, manufacturer, prod) in [
            (
                "usb1",
                "1d6b",
                "0003",
                "1",
                "Linux 6.1 xhci-hcd",
                "xHCI Host Controller",
            ),
            ("1-1", "0627", "0001", "2", "QEMU", "QEMU USB Tablet"),
        ] {
            t.file(&format!("{usb}/{name}/idVendor"), vendor);
            t.file(&format!("{usb}/{name}/idProduct"), product);
            t.file(&format!("{usb}/{name}/busnum"), "1\n");
            t.file(&format!("{usb}/{name}/devnum"), dev);
            t.file(&format!("{usb}/{name}/manufacturer"), manufacturer);
            t.file(&format!("{usb}/{name}/product"), prod);
        }
        t.file("sys/bus/usb/drivers/usbhid/.keep", "");
        t.file("sys/bus/usb/drivers/hub/.keep", "");
        t.file(&format!("{usb}/1-1:1.0/bInterfaceClass"), "03");
        t.link(&format!("{usb}/1-1:1.0/driver"), "../../drivers/usbhid");
        t.file(&format!("{usb}/usb1:1.0/bInterfaceClass"), "09");
        t.link(&format!("{usb}/usb1:1.0/driver"), "../../drivers/hub");
    }

    #[test]
    fn pci_devices_are_read_and_named() {
        let t = Tree::new("pci");
        machine(&t);
        let d = pci_devices(&t.0);
        let addrs: Vec<&str> = d.iter().map(|d| d.pci_address.as_str()).collect();
        assert_eq!(
            addrs,
            [
                "0000:00:02.0",
                "0000:00:03.0",
                "0000:00:04.0",
                "0000:00:05.0"
            ]
        );
        let virtio = &d[1];
        assert_eq!(
            (virtio.vendor_id.as_str(), virtio.product_id.as_str()),
            ("1af4", "1000")
        );
        assert_eq!(virtio.vendor, "Red Hat, Inc.");
        assert_eq!(virtio.product, "Virtio network device");
        assert_eq!(virtio.driver, "virtio-pci");
        assert_eq!(virtio.class, "020000");
        assert_eq!(virtio.numa_node, 0, "-1 (no NUMA) is node 0");
        let e1000 = &d[2];
        assert_eq!(e1000.product_id, "100e", "ids are lower-cased");
        assert_eq!(e1000.product, "82540EM Gigabit Ethernet Controller");
        assert_eq!((e1000.driver.as_str(), e1000.numa_node), ("", 1));
        let vga = &d[0];
        assert_eq!((vga.vendor.as_str(), vga.product.as_str()), ("", ""));
        assert_eq!(vga.class, "030000");
        assert_eq!(
            pci_address_of(&t.0.join("sys/class/net/ens3/device")).as_deref(),
            Some("0000:00:03.0")
        );
    }

    #[test]
    fn usb_devices_take_names_from_the_database_or_the_device() {
        let t = Tree::new("usb");
        machine(&t);
        let d = usb_devices(&t.0);
        assert_eq!(d.len(), 2, "interfaces are not devices: {d:?}");
        let tablet = d.iter().find(|d| d.device_address == 2).unwrap();
        assert_eq!(tablet.bus_address, 1);
        assert_eq!(tablet.vendor, "Adomax Technology Co., Ltd");
        assert_eq!(
            tablet.product, "QEMU USB Tablet",
            "not in usb.ids: its own string"
        );
        assert_eq!(tablet.drivers, ["usbhid"]);
        let hub = d.iter().find(|d| d.device_address == 1).unwrap();
        assert_eq!(
            (hub.vendor.as_str(), hub.product.as_str()),
            ("Linux Foundation", "3.0 root hub")
        );
        assert_eq!(hub.drivers, ["hub"]);
    }

    #[test]
    fn no_bus_no_devices_and_bad_ids_are_skipped() {
        let t = Tree::new("empty");
        assert!(pci_devices(&t.0).is_empty());
        assert!(usb_devices(&t.0).is_empty());
        t.file("sys/bus/pci/devices/0000:00:01.0/vendor", "nonsense");
        t.file("sys/bus/pci/devices/0000:00:01.0/device", "0x1234");
        t.file("sys/bus/pci/devices/not-an-address/vendor", "0x1234");
        assert!(pci_devices(&t.0).is_empty());
        assert!(!is_pci_address("0000:00:01.g"));
        assert!(!is_pci_address("0000:00:01"));
        assert!(is_pci_address("0000:3b:00.1"));
    }

    #[test]
    fn lookup_stops_at_the_next_vendor() {
        assert_eq!(
            lookup(PCI_IDS, "1af4", "100e"),
            ("Red Hat, Inc.".into(), String::new()),
            "8086's 100e is not Red Hat's"
        );
        assert_eq!(
            lookup(PCI_IDS, "ffff", "0000"),
            (String::new(), String::new())
        );
        assert_eq!(lookup(PCI_IDS, "1af4", "1001").1, "Virtio block device");
    }
}
