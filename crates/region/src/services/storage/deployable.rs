//! What a root-tarball deployment needs of the machine's storage layout,
//! checked when the deployment is asked for (MAAS's "storage layout
//! issues": a 400 on `storage`, nothing written or powered) rather than
//! found by the agent on the machine. A whole-disk image brings its own
//! partitions, so only root tarballs are checked (MAAS, too, checks only
//! the OSes it lays out). A machine with nothing configured on any disk
//! passes: the agent lays out MAAS's flat layout itself.

use crate::error::{Error, Result};
use crate::render::{BlockDeviceJson, FsJson};
use crate::services::lifecycle::Core;
use crate::store::Conn;

/// Filesystems the deployment environment makes (`mke2fs`, `mkfs.fat`,
/// `mkswap`).
pub const MAKEABLE: &[&str] = &["ext2", "ext3", "ext4", "fat16", "fat32", "vfat", "swap"];

/// Whether an image of this file type is a root tarball the agent lays
/// out itself.
pub fn is_root_tarball(filetype: &str) -> bool {
    matches!(filetype, "root-tgz" | "root-txz" | "root-tbz" | "root-tar")
}

/// The boot disk: the one chosen, else the first.
pub fn boot_disk(disks: &[BlockDeviceJson]) -> Option<&BlockDeviceJson> {
    disks.iter().find(|d| d.is_boot).or_else(|| disks.first())
}

/// Whether the layout puts anything on `d`.
pub fn in_use(d: &BlockDeviceJson) -> bool {
    d.filesystem.is_some() || !d.partitions.is_empty()
}

/// The filesystems on `d`: (where, on a partition, filesystem), its
/// partitions' first, then one on the whole disk.
fn filesystems(d: &BlockDeviceJson) -> impl Iterator<Item = (&str, bool, &FsJson)> {
    d.partitions
        .iter()
        .filter_map(|p| p.filesystem.as_ref().map(|f| (p.name.as_str(), true, f)))
        .chain(d.filesystem.as_ref().map(|f| (d.name.as_str(), false, f)))
}

/// The issues of `disks`' layout for a root tarball, as MAAS words them
/// where it has words for them; empty when it can be deployed.
pub fn issues(disks: &[BlockDeviceJson]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(boot) = boot_disk(disks) else {
        return out;
    };
    if !disks.iter().any(in_use) {
        return out;
    }
    if boot.filesystem.is_some() {
        out.push(format!(
            "The boot disk {} is formatted as a whole; partition it so that the boot partition fits before the root '/'.",
            boot.name
        ));
    }
    let is_root = |f: &FsJson| f.mount_point.as_deref() == Some("/");
    let any_root = disks
        .iter()
        .flat_map(filesystems)
        .any(|(_, _, f)| is_root(f));
    let on_boot_partition = filesystems(boot).any(|(_, part, f)| part && is_root(f));
    if !any_root {
        out.push("Mount the root '/' filesystem to be able to deploy this node.".into());
    } else if !on_boot_partition {
        out.push(format!(
            "The root '/' filesystem must be on a partition of the boot disk ({}) for this image.",
            boot.name
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (on, _, f) in disks.iter().flat_map(filesystems) {
        if !MAKEABLE.contains(&f.fstype.as_str()) {
            out.push(format!(
                "The {} filesystem on {on} cannot be made when deploying this image (it makes {}).",
                f.fstype,
                MAKEABLE.join(", ")
            ));
        }
        if let Some(mp) = f.mount_point.as_deref().filter(|m| m.starts_with('/'))
            && !seen.insert(mp)
        {
            out.push(format!("More than one filesystem is mounted at {mp}."));
        }
    }
    out
}

/// Refuse a root-tarball deployment whose layout has issues.
pub async fn check(c: &mut Conn, m: &Core, filetype: &str) -> Result<()> {
    if !is_root_tarball(filetype) {
        return Ok(());
    }
    let disks = super::read_disks(c, m).await?;
    let found = issues(&disks);
    if found.is_empty() {
        return Ok(());
    }
    let mut e = maas_model::constraints::FieldErrors::new();
    e.insert("storage".into(), found);
    Err(Error::Validation(e))
}
