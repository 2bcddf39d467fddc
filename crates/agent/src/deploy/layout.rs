//! The disk layout of a root-tarball deployment: the agent's own boot
//! partition first (FAT32, `BOOT_MIB`, active: kernel, initramfs, extlinux,
//! systemd-boot), then the partitions the region configured on the boot
//! disk (`deploy.storage.partitions`: sizes, filesystems, mount points, in
//! order), or MAAS's flat layout (one ext4 root) when it sent none. The
//! last partition gives up what the boot partition takes. A FAT partition
//! at /boot/efi (MAAS's ESP on UEFI) is the boot partition itself, made as
//! big as the region made it: it is not made twice. A GPT when the region
//! says so (its tables are GPTs); otherwise up to three partitions from
//! the region on a disk of at most 2 TiB go in an MBR; more, or a bigger
//! disk, get a GPT (syslinux's `gptmbr.bin` boots BIOS machines
//! from the boot partition, marked legacy-BIOS-bootable and typed as an EFI
//! system partition for UEFI).

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::tarball::{BOOT_MIB, ROOT_LABEL};

/// A new partition table's identifiers, fresh for every deployment: the
/// MBR's disk signature (fstab names partitions `PARTUUID=<signature>-<NN>`)
/// and the GPT's disk GUID, whose last byte is zero (partition NN's unique
/// GUID is the disk's ending in NN); and the UUID of a filesystem made on
/// the whole disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskIds {
    pub signature: u32,
    /// The GUID's bytes in the order its text is written.
    pub guid: [u8; 16],
    /// A version-4 UUID for a filesystem on the whole disk.
    pub fs: [u8; 16],
}

/// Random bytes → a version-4 UUID.
fn v4(b: &[u8]) -> [u8; 16] {
    let mut u = [0u8; 16];
    u.copy_from_slice(&b[..16]);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// A UUID's text (8-4-4-4-12, lower case).
pub fn uuid_text(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl DiskIds {
    /// From 36 random bytes: a non-zero signature and two version-4 UUIDs.
    pub fn from_bytes(b: [u8; 36]) -> DiskIds {
        let signature = u32::from_le_bytes([b[0], b[1], b[2], b[3]]).max(1);
        let mut guid = v4(&b[4..20]);
        guid[15] = 0;
        DiskIds {
            signature,
            guid,
            fs: v4(&b[20..]),
        }
    }

    /// Fresh identifiers from `<root>/dev/urandom`.
    pub fn random(root: &std::path::Path) -> Result<DiskIds> {
        use std::io::Read;
        let mut b = [0u8; 36];
        std::fs::File::open(root.join("dev/urandom"))
            .and_then(|mut f| f.read_exact(&mut b))
            .context("reading dev/urandom for the partition table's identifiers")?;
        Ok(DiskIds::from_bytes(b))
    }

    /// The disk GUID as text.
    pub fn guid_text(&self) -> String {
        uuid_text(&self.guid)
    }
}
/// Partitions a GPT holds beside the boot partition (of its 128 entries).
pub const GPT_MAX: usize = 120;
pub(crate) const MIB: u64 = 2048; // sectors
/// Sectors a GPT takes at each end: LBA 0–33 (protective MBR, header, 128
/// entries of 128 bytes) and the last 33 (entries, header).
const GPT_HEAD: u64 = 34;
pub const GPT_TAIL: u64 = 33;

/// One partition of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// First sector and length in 512-byte sectors.
    pub start: u64,
    pub len: u64,
    /// MBR partition type: 0x0c FAT32 LBA, 0x83 Linux, 0x82 swap.
    pub kind: u8,
    /// The agent's boot partition (mounted in the installed OS only as
    /// the ESP at /boot/efi, when the region's layout has one).
    pub boot: bool,
    /// `ext4`, `fat32`, `swap`, …; `None`: left unformatted.
    pub fstype: Option<String>,
    pub label: Option<String>,
    pub mount_point: Option<String>,
    pub mount_options: Option<String>,
    /// How the kernel (and fstab) name it: `PARTUUID=<uuid>`.
    pub uuid: String,
    /// A filesystem on a whole disk has no partition: fstab names it
    /// `UUID=<fs_uuid>`, the UUID the agent gives it when making it
    /// (`XXXX-XXXX` for FAT's volume id).
    pub fs_uuid: Option<String>,
}

impl Part {
    pub fn is_root(&self) -> bool {
        self.mount_point.as_deref() == Some("/")
    }
}

/// Where an EFI system partition is mounted.
const ESP_MOUNT: &str = "/boot/efi";

/// Whether a partition of the region's layout is the EFI system partition:
/// a FAT filesystem at /boot/efi.
fn is_esp(w: &Value) -> bool {
    w["mount_point"].as_str() == Some(ESP_MOUNT)
        && matches!(w["fstype"].as_str(), Some("fat16" | "fat32" | "vfat"))
}

/// The filesystems the environment can make (`mke2fs`, `mkfs.fat`, busybox
/// `mkswap`).
const MAKEABLE: &[&str] = &["ext2", "ext3", "ext4", "fat16", "fat32", "vfat", "swap"];

/// The plan for a disk of `sectors` sectors; `storage` is the task's
/// `deploy.storage` (null: the flat layout); `ids` name the partitions.
pub fn plan(sectors: u64, storage: &Value, ids: &DiskIds) -> Result<Vec<Part>> {
    let all = storage["partitions"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    // MAAS's layouts give a UEFI machine an EFI system partition at
    // /boot/efi; the agent's boot partition is that partition (typed and
    // filled as one, as big as the region made it), so it takes the mount
    // point instead of a second.
    let esp = all.iter().position(is_esp);
    let esp_mib = esp.map_or(0, |i| all[i]["size"].as_u64().unwrap_or(0) >> 20);
    let boot_mib = esp_mib.max(BOOT_MIB);
    let first = MIB + boot_mib * MIB;
    if sectors < first + 64 * MIB {
        bail!(
            "the disk ({} MiB) is too small for a {boot_mib} MiB boot partition and a root",
            sectors / MIB
        );
    }
    let wanted: Vec<&Value> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != esp)
        .map(|(_, w)| w)
        .collect();
    let gpt = wants_gpt(storage, wanted.len() + 1, sectors);
    let usable = usable(sectors, gpt);
    let mut parts = vec![Part {
        start: MIB,
        len: boot_mib * MIB,
        kind: 0x0c,
        boot: true,
        fstype: Some("fat32".into()),
        label: Some("MAASBOOT".into()),
        mount_point: esp.map(|_| ESP_MOUNT.to_string()),
        mount_options: esp
            .and_then(|i| all[i]["mount_options"].as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        uuid: part_uuid(gpt, 1, ids),
        fs_uuid: None,
    }];
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
            uuid: part_uuid(gpt, 2, ids),
            fs_uuid: None,
        });
        return Ok(parts);
    }
    if wanted.len() > GPT_MAX {
        bail!(
            "the storage layout has {} partitions on the boot disk; the agent makes at most {GPT_MAX}",
            wanted.len()
        );
    }
    let after = format!("after the {boot_mib} MiB boot partition");
    parts.extend(lay(&wanted, 2, first, usable, gpt, ids, &after)?);
    match parts.iter().filter(|p| p.is_root()).count() {
        1 => Ok(parts),
        0 => bail!("the storage layout mounts nothing at / on the boot disk"),
        _ => bail!("the storage layout mounts more than one filesystem at /"),
    }
}

/// The sectors partitions may use: whole MiB, clear of a GPT's backup.
pub(crate) fn usable(sectors: u64, gpt: bool) -> u64 {
    if gpt {
        (sectors - GPT_TAIL) / MIB * MIB
    } else {
        sectors / MIB * MIB
    }
}

/// The region's partitions `wanted`, numbered from `first_n`, placed one
/// after the other from sector `at`; the last one ends by `usable`
/// (`where_` says where they start, for the error).
pub(crate) fn lay(
    wanted: &[&Value],
    first_n: usize,
    mut at: u64,
    usable: u64,
    gpt: bool,
    ids: &DiskIds,
    where_: &str,
) -> Result<Vec<Part>> {
    let mut parts = Vec::with_capacity(wanted.len());
    for (i, w) in wanted.iter().enumerate() {
        let n = i + first_n;
        let last = i + 1 == wanted.len();
        let size = w["size"].as_u64().unwrap_or(0);
        let want = (size / 512 / MIB * MIB).max(MIB);
        let room = usable.saturating_sub(at);
        let len = if last { want.min(room) } else { want };
        if len > room || len < MIB {
            bail!(
                "partition {n} of the storage layout ({} MiB) does not fit on the disk {where_}",
                size >> 20
            );
        }
        let what = format!("partition {n} of the storage layout");
        let mut p = from_region(w, &what)?;
        p.start = at;
        p.len = len;
        p.uuid = part_uuid(gpt, n as u32, ids);
        parts.push(p);
        at += len;
    }
    Ok(parts)
}

/// A partition (or whole-disk filesystem) as the region's `w` describes
/// it: filesystem, label, mount point and options; placed by the caller.
/// `what` names it in errors.
pub(crate) fn from_region(w: &Value, what: &str) -> Result<Part> {
    let fstype = w["fstype"].as_str().filter(|s| !s.is_empty());
    if let Some(f) = fstype
        && !MAKEABLE.contains(&f)
    {
        bail!(
            "{what} wants a {f} filesystem, which this environment cannot make ({})",
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
    Ok(Part {
        start: 0,
        len: 0,
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
        uuid: String::new(),
        fs_uuid: None,
    })
}

/// Whether the boot disk's `count` partitions (the boot partition
/// included) go in a GPT: the region's table type when it says GPT
/// (MAAS's tables are GPTs), else only when an MBR cannot hold them.
pub fn wants_gpt(storage: &Value, count: usize, sectors: u64) -> bool {
    storage["partition_table_type"].as_str() == Some("GPT") || uses_gpt(count, sectors)
}

/// Whether `count` partitions (the boot partition included) on a disk of
/// `sectors` need a GPT: more than an MBR's four, or past its 2 TiB.
pub fn uses_gpt(count: usize, sectors: u64) -> bool {
    count > 4 || sectors > u64::from(u32::MAX)
}

/// Partition `n`'s PARTUUID: `<MBR signature>-<NN>`, or the GPT disk
/// GUID ending in NN.
pub(crate) fn part_uuid(gpt: bool, n: u32, ids: &DiskIds) -> String {
    if gpt {
        let disk = ids.guid_text();
        format!("{}{n:02x}", &disk[..disk.len() - 2])
    } else {
        format!("{:08x}-{n:02x}", ids.signature)
    }
}

/// A GUID's on-disk bytes from its text (the first three fields little
/// endian, the rest as written).
fn guid(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

const ESP: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
const BASIC_DATA: &str = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7";
const LINUX_SWAP: &str = "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f";
const LINUX_FS: &str = "0fc63daf-8483-4772-8e79-3d69d8477de4";

/// A GPT for `parts` on a disk of `sectors`: (the first 34 sectors —
/// a protective MBR with `boot_code`, the header, the entries — and the
/// last 33 — the backup entries and header). The boot partition is an
/// EFI system partition marked legacy-BIOS-bootable (what `gptmbr.bin`
/// boots).
pub fn gpt(
    boot_code: &[u8],
    parts: &[Part],
    sectors: u64,
    ids: &DiskIds,
) -> Result<(Vec<u8>, Vec<u8>)> {
    if parts.len() > 128 {
        bail!("a GPT holds 128 partitions, not {}", parts.len());
    }
    if sectors < GPT_HEAD + GPT_TAIL + MIB {
        bail!("the disk is too small for a GPT");
    }
    let mut entries = vec![0u8; 128 * 128];
    for (i, p) in parts.iter().enumerate() {
        let e = &mut entries[128 * i..128 * (i + 1)];
        let kind = match (p.boot, p.kind) {
            (true, _) => ESP,
            (_, 0x0c) => BASIC_DATA,
            (_, 0x82) => LINUX_SWAP,
            _ => LINUX_FS,
        };
        e[0..16].copy_from_slice(&guid(kind));
        e[16..32].copy_from_slice(&guid(&p.uuid));
        e[32..40].copy_from_slice(&p.start.to_le_bytes());
        e[40..48].copy_from_slice(&(p.start + p.len - 1).to_le_bytes());
        // Bit 2: legacy BIOS bootable.
        let attrs: u64 = if p.boot { 1 << 2 } else { 0 };
        e[48..56].copy_from_slice(&attrs.to_le_bytes());
        let name = p.label.as_deref().unwrap_or("");
        for (j, u) in name.encode_utf16().take(36).enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&u.to_le_bytes());
        }
    }
    let entries_crc = crc32fast::hash(&entries);
    let last = sectors - 1;
    let header = |at: u64, other: u64, entries_at: u64| {
        let mut h = vec![0u8; 512];
        h[0..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&at.to_le_bytes());
        h[32..40].copy_from_slice(&other.to_le_bytes());
        h[40..48].copy_from_slice(&GPT_HEAD.to_le_bytes());
        h[48..56].copy_from_slice(&(sectors - GPT_TAIL - 1).to_le_bytes());
        h[56..72].copy_from_slice(&guid(&ids.guid_text()));
        h[72..80].copy_from_slice(&entries_at.to_le_bytes());
        h[80..84].copy_from_slice(&128u32.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = crc32fast::hash(&h[..92]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        h
    };
    let mut pmbr = [0u8; 512];
    let code = &boot_code[..boot_code.len().min(440)];
    pmbr[..code.len()].copy_from_slice(code);
    let e = &mut pmbr[446..462];
    e[1..4].copy_from_slice(&[0x00, 0x02, 0x00]);
    e[4] = 0xee;
    e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    e[8..12].copy_from_slice(&1u32.to_le_bytes());
    e[12..16].copy_from_slice(&(last.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    pmbr[510] = 0x55;
    pmbr[511] = 0xaa;
    let mut head = pmbr.to_vec();
    head.extend(header(1, last, 2));
    head.extend(&entries);
    let mut tail = entries;
    tail.extend(header(last, 1, sectors - GPT_TAIL));
    Ok((head, tail))
}

/// The MBR for `parts`: `boot_code` (up to 440 bytes), the disk signature,
/// one entry per partition (the agent's boot partition active).
pub fn mbr(boot_code: &[u8], parts: &[Part], ids: &DiskIds) -> Result<[u8; 512]> {
    if parts.len() > 4 {
        bail!("an MBR holds 4 partitions, not {}", parts.len());
    }
    let mut m = [0u8; 512];
    let code = &boot_code[..boot_code.len().min(440)];
    m[..code.len()].copy_from_slice(code);
    m[440..444].copy_from_slice(&ids.signature.to_le_bytes());
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

/// fstab lines for the plan's partitions other than the root (and the
/// boot partition unless it is mounted at /boot/efi), by `PARTUUID`.
pub fn fstab_lines(parts: &[Part]) -> Vec<String> {
    let mut out = Vec::new();
    for p in parts {
        if p.is_root() || (p.boot && p.mount_point.is_none()) {
            continue;
        }
        let dev = match &p.fs_uuid {
            Some(u) => format!("UUID={u}"),
            None => format!("PARTUUID={}", p.uuid),
        };
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
