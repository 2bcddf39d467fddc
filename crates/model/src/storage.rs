//! Storage rules MAAS applies to block devices, partition tables, partitions
//! and filesystems: sizes and alignment, the space a partition table
//! reserves, partition numbering, what a device is "used for". Pure.

/// Partitions are aligned (rounded down) to 4 MiB; also their minimum size.
pub const PARTITION_ALIGNMENT: i64 = 4 * 1024 * 1024;
/// The smallest partition.
pub const MIN_PARTITION_SIZE: i64 = PARTITION_ALIGNMENT;
/// The smallest block device.
pub const MIN_BLOCK_DEVICE_SIZE: i64 = 4 * 1024 * 1024;
/// The EFI system partition a UEFI machine's boot disk starts with.
pub const EFI_PARTITION_SIZE: i64 = 512 * 1024 * 1024;
/// The largest MBR partition (2 TiB less 1 MiB), aligned.
pub const MAX_MBR_PARTITION_SIZE: i64 = round_down(
    (((1i64 << 32) - 1) * 512) - 1024 * 1024,
    PARTITION_ALIGNMENT,
);

/// Filesystem types a device or partition may be formatted with.
pub const FORMAT_TYPES: &[&str] = &[
    "ext2", "ext4", "xfs", "fat32", "vfat", "swap", "ramfs", "tmpfs", "btrfs", "zfsroot",
];

/// Filesystem types mounted on the machine itself, with no storage.
pub const SPECIAL_TYPES: &[&str] = &["ramfs", "tmpfs"];

/// Storage layouts MAAS knows (`set_storage_layout`).
pub const LAYOUTS: &[&str] = &["bcache", "blank", "custom", "flat", "lvm", "vmfs6", "vmfs7"];

/// `size` rounded down to a multiple of `block`.
pub const fn round_down(size: i64, block: i64) -> i64 {
    size - size.rem_euclid(block)
}

/// A byte count as MAAS reads it: digits with an optional SI suffix (K, M,
/// G, T, P, E: powers of 1000), e.g. `10G`.
pub fn parse_bytes(s: &str) -> Option<i64> {
    let s = s.trim();
    let (digits, mul) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1_000i64),
        'M' | 'm' => (&s[..s.len() - 1], 1_000_000),
        'G' | 'g' => (&s[..s.len() - 1], 1_000_000_000),
        'T' | 't' => (&s[..s.len() - 1], 1_000_000_000_000),
        'P' | 'p' => (&s[..s.len() - 1], 1_000_000_000_000_000),
        'E' | 'e' => (&s[..s.len() - 1], 1_000_000_000_000_000_000),
        _ => (s, 1),
    };
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(mul)
}

/// The bytes a new partition table reserves on a machine of `arch`
/// (`amd64/generic`, …) booting with `boot_method`: 4 MiB at the start, 1
/// MiB at the end, plus 8 MiB PReP on ppc64el or 1 MiB bios_grub on amd64
/// BIOS machines.
pub fn table_overhead(arch: &str, boot_method: Option<&str>) -> i64 {
    let base = 5 * 1024 * 1024;
    match arch.split('/').next().unwrap_or("") {
        "ppc64el" => base + 8 * 1024 * 1024,
        "amd64" if boot_method != Some("uefi") => base + 1024 * 1024,
        _ => base,
    }
}

/// The partition table type MAAS creates (GPT; MBR tables only come from
/// elsewhere).
pub fn table_type() -> &'static str {
    "GPT"
}

/// Space left for new partitions on a table: the device less the overhead
/// and the partitions, aligned down.
pub fn available(device_size: i64, overhead: i64, partitions: i64) -> i64 {
    round_down(device_size - overhead - partitions, PARTITION_ALIGNMENT).max(0)
}

/// The index of a new partition: after the highest; MBR skips 4 (the
/// extended partition); a GPT table's first partition is 2 when index 1 is
/// kept for bios_grub (amd64 BIOS) or PReP (ppc64el boot disk).
pub fn next_index(
    max_index: i32,
    table_type: &str,
    arch: &str,
    boot_method: Option<&str>,
    is_boot_disk: bool,
) -> i32 {
    let index = max_index + 1;
    let arch = arch.split('/').next().unwrap_or("");
    if index == 4 && table_type == "MBR" {
        5
    } else if index == 1
        && table_type == "GPT"
        && ((arch == "ppc64el" && is_boot_disk) || (arch == "amd64" && boot_method != Some("uefi")))
    {
        2
    } else {
        index
    }
}

/// Fit a requested partition `size` into `available` bytes as MAAS does:
/// aligned down; a size at most one block over what is free is shrunk by a
/// block; otherwise `None` (not enough space).
pub fn fit_partition(size: i64, available: i64, block_size: i64) -> Option<i64> {
    let size = round_down(size, PARTITION_ALIGNMENT);
    if available >= size {
        Some(size)
    } else if available >= size - block_size {
        Some(size - block_size)
    } else {
        None
    }
}

/// A filesystem as the used_for text sees it.
pub struct FsUse<'a> {
    pub fstype: &'a str,
    pub mount_point: Option<&'a str>,
}

/// What a device or partition is used for, as MAAS words it.
pub fn used_for(fs: Option<FsUse<'_>>, table: Option<(&str, usize)>) -> String {
    match (fs, table) {
        (Some(f), _) => match f.mount_point {
            Some(mp) => format!("{} formatted filesystem mounted at {mp}", f.fstype),
            None => format!("Unmounted {} formatted filesystem", f.fstype),
        },
        (None, Some((ty, n))) => {
            let s = if n > 1 { "s" } else { "" };
            format!("{ty} partitioned with {n} partition{s}")
        }
        (None, None) => "Unused".to_string(),
    }
}

/// Whether `s` is an absolute path as MAAS accepts one for a mount point.
pub fn valid_mount_point(s: &str) -> bool {
    s.starts_with('/') && s.len() < 4096
}

/// Whether `s` is a UUID (8-4-4-4-12 hexadecimal digits, any case).
pub fn valid_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("10G"), Some(10_000_000_000));
        assert_eq!(parse_bytes("4194304"), Some(4194304));
        assert_eq!(parse_bytes("5k"), Some(5000));
        assert_eq!(parse_bytes("x"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("1.5G"), None);
    }

    #[test]
    fn sizes() {
        let mib = 1024 * 1024;
        assert_eq!(table_overhead("amd64/generic", None), 6 * mib);
        assert_eq!(table_overhead("amd64/generic", Some("uefi")), 5 * mib);
        assert_eq!(table_overhead("ppc64el/generic", None), 13 * mib);
        assert_eq!(table_overhead("arm64/generic", None), 5 * mib);
        assert_eq!(available(100 * mib, 6 * mib, 0), 92 * mib);
        assert_eq!(fit_partition(10 * mib, 92 * mib, 512), Some(8 * mib));
        assert_eq!(fit_partition(96 * mib, 92 * mib, 512), None);
        assert_eq!(next_index(0, "GPT", "amd64/generic", None, true), 2);
        assert_eq!(next_index(0, "GPT", "amd64/generic", Some("uefi"), true), 1);
        assert_eq!(next_index(3, "MBR", "amd64/generic", None, true), 5);
        assert_eq!(MAX_MBR_PARTITION_SIZE % PARTITION_ALIGNMENT, 0);
    }

    #[test]
    fn uses() {
        assert_eq!(used_for(None, None), "Unused");
        assert_eq!(
            used_for(None, Some(("GPT", 1))),
            "GPT partitioned with 1 partition"
        );
        assert_eq!(
            used_for(None, Some(("GPT", 2))),
            "GPT partitioned with 2 partitions"
        );
        let f = FsUse {
            fstype: "ext4",
            mount_point: Some("/"),
        };
        assert_eq!(
            used_for(Some(f), None),
            "ext4 formatted filesystem mounted at /"
        );
        assert!(valid_uuid("95c8571a-9477-4b83-ae15-f160ab162815"));
        assert!(!valid_uuid("95c8571a"));
    }
}
