//! The hardware inventory (`hardware.json`), read from a root directory
//! (`/` on the machine, a fixture tree in tests): /proc/cpuinfo,
//! /proc/meminfo, /sys/devices/system/memory, /sys/block, /sys/class/net,
//! /sys/class/dmi/id, /sys/bus/pci, /sys/bus/usb and
//! /sys/devices/system/node.

pub mod devices;
pub mod disks;
pub mod lldp;
mod nics;
pub mod numa;

use std::path::Path;

use serde_json::{Value, json};

pub use disks::{Disk, disks};
pub use nics::{Nic, nics};

/// A sysfs/procfs text file, trimmed; `None` when unreadable or empty.
pub(crate) fn read_trim(p: &Path) -> Option<String> {
    let s = std::fs::read_to_string(p).ok()?;
    let t = s.trim().trim_matches('\0').trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cpu {
    pub count: u32,
    /// MHz, from the highest cpufreq maximum or else `cpu MHz`.
    pub speed_mhz: u32,
    pub model: String,
}

pub fn cpu(root: &Path) -> Cpu {
    let text = std::fs::read_to_string(root.join("proc/cpuinfo")).unwrap_or_default();
    let field = |line: &str, name: &str| -> Option<String> {
        let (k, v) = line.split_once(':')?;
        (k.trim() == name).then(|| v.trim().to_string())
    };
    let mut count = 0;
    let mut mhz: f64 = 0.0;
    let mut model = String::new();
    for line in text.lines() {
        if field(line, "processor").is_some() {
            count += 1;
        } else if let Some(v) = field(line, "cpu MHz") {
            mhz = mhz.max(v.parse().unwrap_or(0.0));
        } else if model.is_empty()
            && let Some(v) = field(line, "model name").or_else(|| field(line, "Model"))
        {
            model = v;
        }
    }
    let khz = read_trim(&root.join("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let speed_mhz = if khz > 0 {
        (khz / 1000) as u32
    } else {
        mhz.round() as u32
    };
    Cpu {
        count,
        speed_mhz,
        model,
    }
}

/// Memory in MiB: the online memory blocks (what the machine has, as the
/// firmware reports it) when sysfs lists them, else `MemTotal`.
pub fn memory_mib(root: &Path) -> u64 {
    let dir = root.join("sys/devices/system/memory");
    let block = read_trim(&dir.join("block_size_bytes"))
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    if block > 0
        && let Ok(rd) = std::fs::read_dir(&dir)
    {
        let online = rd
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("memory"))
            .filter(|e| read_trim(&e.path().join("state")).as_deref() == Some("online"))
            .count() as u64;
        if online > 0 {
            return online * block / (1024 * 1024);
        }
    }
    let text = std::fs::read_to_string(root.join("proc/meminfo")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

/// DMI strings the firmware gives (system, board, firmware, chassis: what
/// the region shows as `hardware_info`), by their /sys/class/dmi/id names.
pub fn dmi(root: &Path) -> Value {
    let dir = root.join("sys/class/dmi/id");
    let mut m = serde_json::Map::new();
    for k in [
        "sys_vendor",
        "product_name",
        "product_family",
        "product_version",
        "product_sku",
        "product_serial",
        "product_uuid",
        "board_vendor",
        "board_name",
        "board_serial",
        "board_version",
        "bios_vendor",
        "bios_date",
        "bios_version",
        "chassis_vendor",
        "chassis_type",
        "chassis_serial",
        "chassis_version",
    ] {
        if let Some(v) = read_trim(&dir.join(k)) {
            m.insert(k.into(), Value::String(v));
        }
    }
    Value::Object(m)
}

/// The architecture in MAAS's form.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64/generic",
        "arm" => "armhf/generic",
        "powerpc64" => "ppc64el/generic",
        "s390x" => "s390x/generic",
        "riscv64" => "riscv64/generic",
        _ => "amd64/generic",
    }
}

/// The whole `hardware.json` document. `smart_serial` fills a disk serial
/// sysfs does not have (from `smartctl -i`). Disks and NICs carry the PCI
/// address of the device they sit on (null when none), which the region
/// uses to tell a network or storage PCI device from the rest.
pub fn hardware_json(root: &Path, smart_serial: &dyn Fn(&str) -> Option<String>) -> Value {
    let c = cpu(root);
    let disks: Vec<Value> = disks(root)
        .into_iter()
        .map(|mut d| {
            if d.serial.is_empty()
                && let Some(s) = smart_serial(&d.name)
            {
                d.serial = s;
                d.id_path = disks::id_path(&d);
            }
            let mut j = d.to_json();
            j["pci_address"] = json!(devices::pci_address_of(
                &root.join("sys/block").join(&d.name).join("device")
            ));
            j
        })
        .collect();
    let nics: Vec<Value> = nics(root)
        .iter()
        .map(|n| {
            let mut j = n.to_json();
            j["pci_address"] = json!(devices::pci_address_of(
                &root.join("sys/class/net").join(&n.name).join("device")
            ));
            j
        })
        .collect();
    let pci: Vec<Value> = devices::pci_devices(root)
        .iter()
        .map(devices::PciDevice::to_json)
        .collect();
    let usb: Vec<Value> = devices::usb_devices(root)
        .iter()
        .map(devices::UsbDevice::to_json)
        .collect();
    json!({
        "architecture": architecture(),
        "cpu_count": c.count,
        "cpu_speed": c.speed_mhz,
        "cpu_model": c.model,
        "memory": memory_mib(root),
        "disks": disks,
        "nics": nics,
        "dmi": dmi(root),
        "pci_devices": pci,
        "usb_devices": usb,
        "numa_nodes": numa::numa_nodes(root).iter().map(numa::NumaNode::to_json).collect::<Vec<_>>(),
        "boot_method": boot_method(root),
    })
}

/// How the firmware booted this environment, in MAAS's words: `uefi` when
/// the kernel has EFI runtime services, `pxe` (BIOS) otherwise.
pub fn boot_method(root: &Path) -> &'static str {
    if root.join("sys/firmware/efi").is_dir() {
        "uefi"
    } else {
        "pxe"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    pub(crate) fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn qemu_vm_inventory() {
        let root = fixture("qemu-vm");
        let c = cpu(&root);
        assert_eq!(c.count, 2);
        assert_eq!(c.speed_mhz, 2995);
        assert_eq!(c.model, "QEMU Virtual CPU version 2.5+");
        // Six online 128 MiB blocks; one offline block is not counted.
        assert_eq!(memory_mib(&root), 768);
        assert_eq!(dmi(&root)["sys_vendor"], "QEMU");
        let j = hardware_json(&root, &|_| None);
        assert_eq!(j["cpu_count"], 2);
        assert_eq!(j["memory"], 768);
        assert_eq!(j["disks"].as_array().unwrap().len(), 2);
        assert_eq!(j["nics"].as_array().unwrap().len(), 2);
        assert_eq!(j["boot_method"], "pxe", "no /sys/firmware/efi: BIOS");
    }

    #[test]
    fn meminfo_and_cpufreq_fallbacks() {
        let root = fixture("server");
        assert_eq!(memory_mib(&root), 64302);
        let c = cpu(&root);
        assert_eq!((c.count, c.speed_mhz), (4, 3500));
        let j = hardware_json(&root, &|n| (n == "sda").then(|| "SMART123".into()));
        let sda = &j["disks"][0];
        assert_eq!(sda["serial"], "SMART123");
        assert_eq!(sda["id_path"], "/dev/disk/by-id/ata-WDC_WD40EFRX_SMART123");
        assert_eq!(j["boot_method"], "uefi", "it has /sys/firmware/efi");
    }

    #[test]
    fn empty_root_gives_zeros_not_panics() {
        let root = fixture("empty");
        let j = hardware_json(&root, &|_| None);
        assert_eq!(j["cpu_count"], 0);
        assert_eq!(j["memory"], 0);
        assert!(j["disks"].as_array().unwrap().is_empty());
    }
}
