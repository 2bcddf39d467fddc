//! The disk layout of a root-tarball deployment: the agent's own boot
//! partition first (FAT32, `BOOT_MIB`, active: kernel, initramfs, extlinux,
//! systemd-boot), then the partitions the region configured on the boot
//! disk (`deploy.storage.partitions`: sizes, filesystems, mount points, in
//! order), or MAAS's flat layout (one ext4 root) when it sent none. The
//! last partition gives up what the boot partition takes. An MBR holds at
//! most four partitions, so at most three come from the region.

use anyhow::{Result, bail};
use serde_json::Value;

use super::tarball::{BOOT_MIB, ROOT_LABEL};

/// The disk signature the agent writes (fstab names partitions by it:
/// `PARTUUID=<signature>-<NN>`).
pub const SIGNATURE: u32 = u32::from_le_bytes(*b"MAAS");
const MIB: u64 = 2048; // sectors

/// One partition of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// First sector and length in 512-byte sectors.
    pub start: u64,
    pub len: u64,
    /// MBR partition type: 0x0c FAT32 LBA, 0x83 Linux, 0x82 swap.
    pub kind: u8,
    /// The agent's boot partition (not mounted in the installed OS).
    pub boot: bool,
    /// `ext4`, `fat32`, `swap`, …; `None`: left unformatted.
    pub fstype: Option<String>,
    pub label: Option<String>,
    pub mount_point: Option<String>,
    pub mount_options: Option<String>,
}

impl Part {
    pub fn is_root(&self) -> bool {
        self.mount_point.as_deref() == Some("/")
    }
}

/// The filesystems the environment can make (`mke2fs`, `mkfs.fat`, busybox
/// `mkswap`).
const MAKEABLE: &[&str] = &["ext2", "ext3", "ext4", "fat16", "fat32", "vfat", "swap"];

/// The plan for a disk of `sectors` sectors; `storage` is the task's
/// `deploy.storage` (null: the flat layout).
pub fn plan(sectors: u64, storage: &Value) -> Result<Vec<Part>> {
    let first = MIB + BOOT_MIB * MIB;
    if sectors < first + 64 * MIB {
        bail!(
            "the disk ({} MiB) is too small for a {BOOT_MIB} MiB boot partition and a root",
            sectors / MIB
        );
    }
    let usable = sectors.min(u64::from(u32::MAX)) / MIB * MIB;
    let mut parts = vec![Part {
        start: MIB,
        len: BOOT_MIB * MIB,
        kind: 0x0c,
        boot: true,
        fstype: Some("fat32".into()),
        label: Some("MAASBOOT".into()),
        mount_point: None,
        mount_options: None,
    }];
    let wanted = storage["partitions"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if wanted.is_empty() {
        parts.push(Part {
            start: first,
            len: usable - first,
            kind: 0x83,
            boot: false,
            fstype: Some("ext4".into()),
            label: Some(ROOT_LABEL.into()),
            mount_point: Some("/".into()),
            mount_options: None,
        });
        return Ok(parts);
    }
    if wanted.len() > 3 {
        bail!(
            "the storage layout has {} partitions on the boot disk; an MBR disk takes 3 beside the boot partition",
            wanted.len()
        );
    }
    let mut at = first;
    for (i, w) in wanted.iter().enumerate() {
        let n = i + 2;
        let last = i + 1 == wanted.len();
        let size = w["size"].as_u64().unwrap_or(0);
        let want = (size / 512 / MIB * MIB).max(MIB);
        let room = usable.saturating_sub(at);
        let len = if last { want.min(room) } else { want };
        if len > room || len < MIB {
            bail!(
                "partition {n} of the storage layout ({} MiB) does not fit on the disk after the {BOOT_MIB} MiB boot partition",
                size >> 20
            );
        }
        let fstype = w["fstype"].as_str().filter(|s| !s.is_empty());
        if let Some(f) = fstype
            && !MAKEABLE.contains(&f)
        {
            bail!(
                "partition {n} of the storage layout wants a {f} filesystem, which this environment cannot make ({})",
                MAKEABLE.join(", ")
            );
        }
        let mount_point = w["mount_point"].as_str().filter(|s| !s.is_empty());
        let kind = match fstype {
            Some("fat16" | "fat32" | "vfat") => 0x0c,
            Some("swap") => 0x82,
            _ => 0x83,
        };
        let root = mount_point == Some("/");
        if root && !matches!(fstype, Some("ext2" | "ext3" | "ext4")) {
            bail!("the storage layout's root (/) must be ext2, ext3 or ext4 for a root tarball");
        }
        parts.push(Part {
            start: at,
            len,
            kind,
            boot: false,
            fstype: fstype.map(str::to_string),
            // The boot entries find the root by this label.
            label: if root {
                Some(ROOT_LABEL.into())
            } else {
                w["label"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            },
            mount_point: mount_point.map(str::to_string),
            mount_options: w["mount_options"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        });
        at += len;
    }
    match parts.iter().filter(|p| p.is_root()).count() {
        1 => Ok(parts),
        0 => bail!("the storage layout mounts nothing at / on the boot disk"),
        _ => bail!("the storage layout mounts more than one filesystem at /"),
    }
}

/// The MBR for `parts`: `boot_code` (up to 440 bytes), the disk signature,
/// one entry per partition (the agent's boot partition active).
pub fn mbr(boot_code: &[u8], parts: &[Part]) -> Result<[u8; 512]> {
    if parts.len() > 4 {
        bail!("an MBR holds 4 partitions, not {}", parts.len());
    }
    let mut m = [0u8; 512];
    let code = &boot_code[..boot_code.len().min(440)];
    m[..code.len()].copy_from_slice(code);
    m[440..444].copy_from_slice(&SIGNATURE.to_le_bytes());
    for (i, p) in parts.iter().enumerate() {
        let e = &mut m[446 + 16 * i..462 + 16 * i];
        e[0] = if p.boot { 0x80 } else { 0 };
        e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
        e[4] = p.kind;
        e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
        e[8..12].copy_from_slice(&(p.start as u32).to_le_bytes());
        e[12..16].copy_from_slice(&(p.len as u32).to_le_bytes());
    }
    m[510] = 0x55;
    m[511] = 0xaa;
    Ok(m)
}

/// fstab lines for the plan's partitions other than the root and the boot
/// partition, by `PARTUUID` (the MBR signature and the partition number).
pub fn fstab_lines(parts: &[Part]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if p.boot || p.is_root() {
            continue;
        }
        let dev = format!("PARTUUID={SIGNATURE:08x}-{:02x}", i + 1);
        let opts = p.mount_options.as_deref().unwrap_or("defaults");
        match (p.fstype.as_deref(), p.mount_point.as_deref()) {
            (Some("swap"), _) => out.push(format!("{dev} none swap sw 0 0")),
            (Some(f), Some(mp)) => {
                let t = if f.starts_with("fat") { "vfat" } else { f };
                out.push(format!("{dev} {mp} {t} {opts} 0 2"));
            }
            _ => {}
        }
    }
    out
}

/// The plan's mounted partitions other than the root, parents first:
/// (partition number, mount point).
pub fn mounts(parts: &[Part]) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.boot && !p.is_root() && p.fstype.as_deref() != Some("swap"))
        .filter_map(|(i, p)| p.mount_point.clone().map(|m| (i as u32 + 1, m)))
        .filter(|(_, m)| m.starts_with('/') && !m.split('/').any(|c| c == ".." || c == "."))
        .collect();
    v.sort_by_key(|(_, m)| m.matches('/').count());
    v
}
