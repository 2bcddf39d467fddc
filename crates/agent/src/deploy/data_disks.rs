//! The layout's disks other than the boot disk (`deploy.storage.disks`):
//! a filesystem on the whole disk (no partition table; fstab names it by
//! the filesystem UUID the agent gives it), or the region's partitions
//! from the first MiB (an MBR for up to four on a disk of at most 2 TiB,
//! else a GPT, or what the region's `partition_table_type` asks). No boot
//! code, no boot partition: the root stays on the boot disk.

use anyhow::{Result, bail};
use serde_json::Value;

use super::layout::{self, DiskIds, GPT_MAX, MIB, Part};

/// How a data disk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One filesystem on the whole disk.
    Whole,
    Mbr,
    Gpt,
}

/// A data disk's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPlan {
    pub table: Table,
    pub parts: Vec<Part>,
}

/// What a disk of the region's layout is called in errors.
pub fn name_of(spec: &Value) -> String {
    spec["name"].as_str().unwrap_or("?").to_string()
}

/// The plan for the region's disk `spec` on a disk of `sectors` sectors.
pub fn plan(sectors: u64, spec: &Value, ids: &DiskIds) -> Result<DataPlan> {
    let name = name_of(spec);
    let wanted: Vec<&Value> = spec["partitions"]
        .as_array()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let whole = spec["filesystem"].is_object();
    if whole && !wanted.is_empty() {
        bail!("disk {name} of the storage layout has both partitions and a filesystem of its own");
    }
    let (table, parts) = if whole {
        let mut p = layout::from_region(&spec["filesystem"], &format!("disk {name}"))?;
        if p.fstype.is_none() {
            bail!("disk {name} of the storage layout has a filesystem with no type");
        }
        p.len = sectors;
        let u = layout::uuid_text(&ids.fs);
        p.fs_uuid = Some(if p.kind == 0x0c {
            // FAT's volume id: 32 bits, written XXXX-XXXX.
            let v = u[..8].to_uppercase();
            format!("{}-{}", &v[..4], &v[4..])
        } else {
            u
        });
        (Table::Whole, vec![p])
    } else {
        if wanted.is_empty() {
            bail!("disk {name} of the storage layout has nothing to make");
        }
        if wanted.len() > GPT_MAX {
            bail!(
                "the storage layout has {} partitions on disk {name}; the agent makes at most {GPT_MAX}",
                wanted.len()
            );
        }
        let gpt = spec["partition_table_type"].as_str() == Some("GPT")
            || layout::uses_gpt(wanted.len(), sectors);
        let usable = layout::usable(sectors, gpt);
        if usable < 2 * MIB {
            bail!(
                "disk {name} ({} MiB) is too small for partitions",
                sectors / MIB
            );
        }
        let table = if gpt { Table::Gpt } else { Table::Mbr };
        (
            table,
            layout::lay(&wanted, 1, MIB, usable, gpt, ids, &name)?,
        )
    };
    if parts.iter().any(Part::is_root) {
        bail!("the storage layout mounts / on disk {name}; the root must be on the boot disk");
    }
    Ok(DataPlan { table, parts })
}

/// Refuse two filesystems at one mount point, across every disk.
pub fn check_mount_points<'a>(parts: impl IntoIterator<Item = &'a Part>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for p in parts {
        if p.fstype.as_deref() == Some("swap") {
            continue;
        }
        if let Some(mp) = p.mount_point.as_deref()
            && !seen.insert(mp)
        {
            bail!("the storage layout mounts two filesystems at {mp}");
        }
    }
    Ok(())
}
