//! Root-tarball images (`root-tgz`, `root-txz`, `root-tbz`, `root-tar`): there is no
//! disk image, so the agent lays the disk out itself (`layout`: its boot
//! partition, then the region's layout of the boot disk, or MAAS's flat
//! layout) and unpacks the tarball into the root:
//!
//! - an MBR with syslinux's boot code (`mbr.bin`), partition 1 FAT32
//!   (`BOOT_MIB`, active), then the layout's partitions;
//! - `mkfs.fat`, `mke2fs` (the root labelled `cloudimg-rootfs`), `mkswap`;
//! - the tarball unpacked into the ext4 root (sha256 and size of what was
//!   downloaded checked);
//! - the boot partition: the root's newest kernel and initramfs, extlinux
//!   for BIOS, systemd-boot as `\EFI\BOOT\BOOTX64.EFI` for UEFI, both with
//!   `root=LABEL=cloudimg-rootfs` and the console of the ephemeral boot;
//! - `/etc/fstab` for the root and the layout's other filesystems.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::Digest;

use super::Image;

/// Size of the boot partition.
pub const BOOT_MIB: u64 = 64;
/// The root filesystem's label (what the boot entries and fstab name).
pub const ROOT_LABEL: &str = "cloudimg-rootfs";

/// Whether this image type is a root tarball the agent lays out itself.
pub fn is_tarball(filetype: &str) -> bool {
    matches!(filetype, "root-tgz" | "root-txz" | "root-tbz" | "root-tar")
}

/// The device node of partition `n` of `disk` (`vda` → `vda1`,
/// `nvme0n1` → `nvme0n1p1`).
pub fn part_name(disk: &str, n: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{n}")
    } else {
        format!("{disk}{n}")
    }
}

/// Unpack the tarball `src` (as downloaded) into `target`, decompressing
/// by `filetype`; checks the download's sha256 and size. Entries that
/// would land outside `target` are refused by the tar reader. Returns the
/// bytes downloaded.
pub fn unpack(src: impl Read + Send, img: &Image, target: &Path) -> Result<u64> {
    let mut tee = super::Tee {
        r: src,
        hash: sha2::Sha256::new(),
        n: 0,
    };
    {
        let reader = io::BufReader::with_capacity(1 << 20, &mut tee);
        match img.filetype.as_str() {
            "root-tgz" => untar(flate2::bufread::GzDecoder::new(reader), target)?,
            "root-tar" => untar(reader, target)?,
            "root-txz" => super::with_xz(reader, |r| untar(r, target))?,
            "root-tbz" => untar(bzip2::bufread::MultiBzDecoder::new(reader), target)?,
            other => bail!("'{other}' is not a root tarball type"),
        }
    }
    tee.finish(img)
}

fn untar(stream: impl Read, target: &Path) -> Result<()> {
    let mut a = tar::Archive::new(stream);
    a.set_preserve_permissions(true);
    a.set_preserve_ownerships(true);
    a.set_preserve_mtime(true);
    a.set_overwrite(true);
    a.unpack(target).context("unpack the root tarball")
}

/// The newest `vmlinuz-*` in the root's `/boot` and its `initrd.img-*`.
pub fn kernel_of(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let boot = root.join("boot");
    let mut kernels: Vec<String> = std::fs::read_dir(&boot)
        .with_context(|| format!("read {}", boot.display()))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_prefix("vmlinuz-").map(str::to_string))
        .filter(|v| boot.join(format!("initrd.img-{v}")).exists())
        .collect();
    kernels.sort_by(|a, b| version_cmp(a, b));
    let v = kernels
        .pop()
        .context("the root tarball has no /boot/vmlinuz-* with its initrd.img-*")?;
    Ok((
        boot.join(format!("vmlinuz-{v}")),
        boot.join(format!("initrd.img-{v}")),
    ))
}

/// Compare kernel versions by their numeric runs (6.1.0-9 < 6.1.0-10).
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    }
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// The console settings of the ephemeral boot's command line, for the
/// installed OS (the region's kernel options reach it this way).
pub fn console_args(cmdline: &str) -> String {
    cmdline
        .split_whitespace()
        .filter(|a| a.starts_with("console="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fill the mounted boot partition `boot` from the mounted root `root`:
/// kernel, initramfs, extlinux.conf, systemd-boot (`sdboot`, when given)
/// and its loader entry.
pub fn write_boot_files(
    root: &Path,
    boot: &Path,
    sdboot: Option<&Path>,
    extra_args: &str,
) -> Result<()> {
    let (kernel, initrd) = kernel_of(root)?;
    let args = format!("root=LABEL={ROOT_LABEL} ro {extra_args}")
        .trim()
        .to_string();
    let copy = |from: &Path, to: &str| {
        std::fs::copy(from, boot.join(to))
            .with_context(|| format!("copy {} to the boot partition", from.display()))
    };
    copy(&kernel, "vmlinuz")?;
    copy(&initrd, "initrd")?;
    let write = |rel: &str, text: String| -> Result<()> {
        let p = boot.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, text).with_context(|| format!("write {}", p.display()))
    };
    write(
        "syslinux/syslinux.cfg",
        format!(
            "DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd\n  APPEND {args}\n"
        ),
    )?;
    if let Some(sd) = sdboot {
        std::fs::create_dir_all(boot.join("EFI/BOOT"))?;
        std::fs::copy(sd, boot.join("EFI/BOOT/BOOTX64.EFI"))
            .with_context(|| format!("copy {}", sd.display()))?;
        write(
            "loader/loader.conf",
            "default maas.conf\ntimeout 0\neditor no\n".into(),
        )?;
        write(
            "loader/entries/maas.conf",
            format!("title Deployed by MAAS\nlinux /vmlinuz\ninitrd /initrd\noptions {args}\n"),
        )?;
    }
    Ok(())
}

/// The root's `/etc/fstab`: the root by label, then the layout's other
/// filesystems and swap (`layout::fstab_lines`); what the tarball had for
/// `/` or for a mount point the layout uses is replaced, other lines kept.
pub fn write_fstab(root: &Path, parts: &[super::layout::Part]) -> Result<()> {
    let p = root.join("etc/fstab");
    let old = std::fs::read_to_string(&p).unwrap_or_default();
    let root_type = parts
        .iter()
        .find(|p| p.is_root())
        .and_then(|p| p.fstype.as_deref())
        .unwrap_or("ext4");
    let mut out = format!("LABEL={ROOT_LABEL} / {root_type} defaults 0 1\n");
    let ours: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.mount_point.as_deref())
        .collect();
    for line in old.lines() {
        let mount = line.split_whitespace().nth(1);
        let kept = line.trim_start().starts_with('#')
            || !mount.is_some_and(|m| m == "/" || ours.contains(&m));
        if kept && !line.trim().is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    for l in super::layout::fstab_lines(parts) {
        out.push_str(&l);
        out.push('\n');
    }
    std::fs::create_dir_all(root.join("etc"))?;
    std::fs::write(&p, out).with_context(|| format!("write {}", p.display()))
}
