//! Disks from /sys/block: size (sectors of 512 bytes), rotational, model,
//! serial (the `serial` attribute, `device/serial`, or VPD page 0x80).

use std::path::Path;

use serde_json::{Value, json};

use super::read_trim;

#[derive(Debug, Clone, PartialEq)]
pub struct Disk {
    pub name: String,
    pub size: u64,
    pub rotational: bool,
    pub model: String,
    pub serial: String,
    pub id_path: Option<String>,
    pub vendor: String,
}

impl Disk {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "size": self.size,
            "model": self.model,
            "serial": self.serial,
            "id_path": self.id_path,
            "rotational": self.rotational,
            "tags": [if self.rotational { "rotary" } else { "ssd" }],
        })
    }
}

/// Names that are not disks of the machine.
fn skipped(name: &str) -> bool {
    ["loop", "ram", "zram", "sr", "fd", "nbd", "dm-", "md"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// VPD page 0x80: 4 header bytes, then the serial.
fn vpd_serial(p: &Path) -> Option<String> {
    let b = std::fs::read(p).ok()?;
    let s = String::from_utf8_lossy(b.get(4..)?)
        .trim()
        .trim_matches('\0')
        .to_string();
    (!s.is_empty()).then_some(s)
}

/// The `/dev/disk/by-id` name udev would give (no udev here).
pub fn id_path(d: &Disk) -> Option<String> {
    if d.serial.is_empty() {
        return None;
    }
    let clean = |s: &str| s.trim().replace(' ', "_");
    let name = if d.name.starts_with("vd") {
        format!("virtio-{}", clean(&d.serial))
    } else if d.name.starts_with("nvme") {
        format!("nvme-{}_{}", clean(&d.model), clean(&d.serial))
    } else if d.vendor.is_empty() || d.vendor == "ATA" {
        format!("ata-{}_{}", clean(&d.model), clean(&d.serial))
    } else {
        format!(
            "scsi-{}_{}_{}",
            clean(&d.vendor),
            clean(&d.model),
            clean(&d.serial)
        )
    };
    Some(format!("/dev/disk/by-id/{name}"))
}

pub fn disks(root: &Path) -> Vec<Disk> {
    let Ok(rd) = std::fs::read_dir(root.join("sys/block")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !skipped(n))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let dir = root.join("sys/block").join(&name);
        let sectors: u64 = read_trim(&dir.join("size"))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if sectors == 0 {
            continue;
        }
        let serial = read_trim(&dir.join("serial"))
            .or_else(|| read_trim(&dir.join("device/serial")))
            .or_else(|| vpd_serial(&dir.join("device/vpd_pg80")))
            .unwrap_or_default();
        let mut d = Disk {
            size: sectors * 512,
            rotational: read_trim(&dir.join("queue/rotational")).as_deref() == Some("1"),
            model: read_trim(&dir.join("device/model")).unwrap_or_default(),
            vendor: read_trim(&dir.join("device/vendor")).unwrap_or_default(),
            serial,
            id_path: None,
            name,
        };
        d.id_path = id_path(&d);
        out.push(d);
    }
    out
}

/// The serial in `smartctl -i` output.
pub fn smartctl_serial(out: &str) -> Option<String> {
    out.lines()
        .find_map(|l| {
            l.strip_prefix("Serial Number:")
                .or_else(|| l.strip_prefix("Serial number:"))
        })
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::tests::fixture;

    #[test]
    fn virtio_and_scsi_disks() {
        let d = disks(&fixture("qemu-vm"));
        assert_eq!(d.len(), 2, "loop0 and sr0 are skipped: {d:?}");
        assert_eq!(d[0].name, "sda");
        assert_eq!(d[0].size, 20 * 1024 * 1024 * 1024);
        assert!(d[0].rotational);
        assert_eq!(d[0].model, "QEMU HARDDISK");
        assert_eq!(d[0].serial, "QM00001");
        assert_eq!(
            d[0].id_path.as_deref(),
            Some("/dev/disk/by-id/scsi-QEMU_QEMU_HARDDISK_QM00001")
        );
        assert_eq!(d[1].name, "vda");
        assert_eq!(d[1].size, 1 << 30);
        assert!(!d[1].rotational);
        assert_eq!(d[1].serial, "disk-serial-1");
        assert_eq!(
            d[1].id_path.as_deref(),
            Some("/dev/disk/by-id/virtio-disk-serial-1")
        );
        let j = d[1].to_json();
        assert_eq!(j["tags"], json!(["ssd"]));
    }

    #[test]
    fn smartctl_output() {
        let out = "=== START OF INFORMATION SECTION ===\nDevice Model:     WDC WD40EFRX\nSerial Number:    WD-ABC123\n";
        assert_eq!(smartctl_serial(out).as_deref(), Some("WD-ABC123"));
        assert_eq!(smartctl_serial("nothing"), None);
    }
}
