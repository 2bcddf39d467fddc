//! Deploying a root tarball on the machine (see `deploy::tarball` for the
//! layout): partition, make filesystems, unpack, boot files, fstab, then
//! the same cloud-init files a disk image gets.

use std::io::BufReader;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::Env;
use crate::deploy::{self, Image, tarball};

/// Where the ephemeral environment keeps syslinux's MBR boot code and
/// systemd-boot (`deploy/build-ephemeral`).
const MBR_BIN: &str = "usr/lib/syslinux/mbr.bin";
const SDBOOT: &str = "usr/lib/maas/systemd-bootx64.efi";

/// Debian's tools in `/usr/sbin` and `/usr/bin` come before busybox's
/// applets of the same name (busybox's mke2fs makes no ext4).
fn run(prog: &str, args: &[&str]) -> Result<()> {
    let path = ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.exists())
        .unwrap_or_else(|| prog.into());
    let out = Command::new(&path)
        .args(args)
        .output()
        .with_context(|| format!("run {prog}"))?;
    if !out.status.success() {
        bail!(
            "{prog} {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Lay out `disk` and make its filesystems: (boot, root) device paths.
pub fn prepare(
    env: &Env,
    disk: &str,
    dev: &Path,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let sectors: u64 =
        crate::inventory::read_trim(&env.root.join("sys/block").join(disk).join("size"))
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("the size of {disk}"))?;
    let code = std::fs::read(env.root.join(MBR_BIN)).unwrap_or_default();
    let sig = u32::from_le_bytes(*b"MAAS");
    let table = tarball::mbr(&code, sig, sectors)?;
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(dev)
            .with_context(|| format!("open {}", dev.display()))?;
        f.write_all(&table)?;
        // No stale filesystem signatures where the partitions start.
        let zero = vec![0u8; 1 << 20];
        for mib in [1, 1 + tarball::BOOT_MIB] {
            f.seek(std::io::SeekFrom::Start(mib << 20))?;
            f.write_all(&zero)?;
        }
        f.sync_all()?;
    }
    deploy::reread_partitions(dev)?;
    let boot = env.disk_path(&tarball::part_name(disk, 1));
    let root = env.disk_path(&tarball::part_name(disk, 2));
    for _ in 0..50 {
        if boot.exists() && root.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (b, r) = (boot.to_string_lossy(), root.to_string_lossy());
    run("mkfs.fat", &["-F", "32", "-s", "1", "-n", "MAASBOOT", &b])?;
    run(
        "mke2fs",
        &["-q", "-F", "-t", "ext4", "-L", tarball::ROOT_LABEL, &r],
    )?;
    Ok((boot, root))
}

/// Download and unpack the tarball into the mounted root `target`.
pub fn unpack(env: &Env, url: &str, img: &Image, target: &Path) -> Result<u64> {
    let resp = crate::http::Request::new("GET", url)
        .send_retrying(std::time::Duration::from_secs(60), env.patience)
        .with_context(|| format!("download {url}"))?;
    if resp.status != 200 {
        bail!("download {url}: HTTP {}", resp.status);
    }
    tarball::unpack(BufReader::new(resp.body), img, target)
}

/// Everything after the unpack: boot partition, fstab, cloud-init files.
pub fn finish(env: &Env, boot_dev: &Path, target: &Path, task: &Value) -> Result<()> {
    let boot = env.root.join("tmp/maas-boot");
    deploy::mount_any(boot_dev, &boot)?;
    let cmdline = std::fs::read_to_string(env.root.join("proc/cmdline")).unwrap_or_default();
    let sd = env.root.join(SDBOOT);
    let r = tarball::write_boot_files(
        target,
        &boot,
        sd.exists().then_some(sd.as_path()),
        &tarball::console_args(&cmdline),
    )
    .and_then(|_| {
        if env.tools {
            run(
                "extlinux",
                &["--install", &boot.join("syslinux").to_string_lossy()],
            )
        } else {
            Ok(())
        }
    });
    unsafe { libc::sync() };
    deploy::unmount(&boot)?;
    r?;
    tarball::write_fstab(target)?;
    deploy::write_target_files(target, task)?;
    Ok(())
}
