//! Deploying a root tarball on the machine (see `deploy::tarball` for the
//! layout): partition, make filesystems, unpack, boot files, fstab, then
//! the same cloud-init files a disk image gets.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::Env;
use crate::deploy::{self, Image, data_disks, layout, tarball};

/// Where the ephemeral environment keeps syslinux's MBR boot code and
/// systemd-boot (`deploy/build-ephemeral`).
const MBR_BIN: &str = "usr/lib/syslinux/mbr.bin";
/// syslinux's boot code for GPT disks: boots the legacy-BIOS-bootable
/// partition.
const GPTMBR_BIN: &str = "usr/lib/syslinux/gptmbr.bin";
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

/// A disk laid out for a root tarball: the plan and each partition's
/// device node, in order.
pub struct Laid {
    pub parts: Vec<layout::Part>,
    pub devs: Vec<PathBuf>,
}

impl Laid {
    pub fn boot(&self) -> &Path {
        &self.devs[0]
    }

    pub fn root(&self) -> &Path {
        let i = self
            .parts
            .iter()
            .position(layout::Part::is_root)
            .unwrap_or(1);
        &self.devs[i]
    }
}

/// A disk's size in 512-byte sectors (from /sys/block).
fn sectors_of(env: &Env, disk: &str) -> Result<u64> {
    crate::inventory::read_trim(&env.root.join("sys/block").join(disk).join("size"))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("the size of {disk}"))
}

/// One disk's plan, ready to write.
struct Planned {
    disk: String,
    dev: PathBuf,
    sectors: u64,
    table: data_disks::Table,
    boot: bool,
    ids: layout::DiskIds,
    parts: Vec<layout::Part>,
}

/// Lay out `disk` (the boot disk) and the layout's other disks as the
/// task's `deploy.storage` asks (`layout::plan`, `data_disks::plan`) and
/// make their filesystems. Every disk is planned before any is written.
pub fn prepare(env: &Env, disk: &str, dev: &Path, storage: &Value) -> Result<Laid> {
    let sectors = sectors_of(env, disk)?;
    let ids = layout::DiskIds::random(&env.root)?;
    let parts = layout::plan(sectors, storage, &ids)?;
    let table = if layout::wants_gpt(storage, parts.len(), sectors) {
        data_disks::Table::Gpt
    } else {
        data_disks::Table::Mbr
    };
    let mut plans = vec![Planned {
        disk: disk.to_string(),
        dev: dev.to_path_buf(),
        sectors,
        table,
        boot: true,
        ids,
        parts,
    }];
    let present = crate::inventory::disks(&env.root);
    for spec in storage["disks"].as_array().into_iter().flatten() {
        let name = data_disks::name_of(spec);
        let Some(d) = deploy::find_disk(&present, spec) else {
            bail!("disk {name} of the storage layout is not on this machine");
        };
        if plans.iter().any(|p| p.disk == d) {
            bail!("disk {name} of the storage layout is {d}, which is laid out already");
        }
        let sectors = sectors_of(env, &d)?;
        let ids = layout::DiskIds::random(&env.root)?;
        let plan = data_disks::plan(sectors, spec, &ids)?;
        plans.push(Planned {
            dev: env.disk_path(&d),
            disk: d,
            sectors,
            table: plan.table,
            boot: false,
            ids,
            parts: plan.parts,
        });
    }
    data_disks::check_mount_points(plans.iter().flat_map(|p| &p.parts))?;
    let mut laid = Laid {
        parts: Vec::new(),
        devs: Vec::new(),
    };
    for p in plans {
        let devs = write_table(env, &p)?;
        for (part, d) in p.parts.iter().zip(&devs) {
            mkfs(part, &d.to_string_lossy())?;
        }
        laid.parts.extend(p.parts);
        laid.devs.extend(devs);
    }
    Ok(laid)
}

/// Write the disk's partition table (or clear it for a whole-disk
/// filesystem) and wait for the kernel's partition nodes: each
/// partition's device node, in order.
fn write_table(env: &Env, p: &Planned) -> Result<Vec<PathBuf>> {
    use data_disks::Table;
    use std::io::{Seek, Write};
    let sectors = p.sectors;
    let (head, tail) = match p.table {
        Table::Gpt => {
            let code = if p.boot {
                std::fs::read(env.root.join(GPTMBR_BIN)).unwrap_or_default()
            } else {
                Vec::new()
            };
            let (head, tail) = layout::gpt(&code, &p.parts, sectors, &p.ids)?;
            (head, Some(tail))
        }
        Table::Mbr => {
            let code = if p.boot {
                std::fs::read(env.root.join(MBR_BIN)).unwrap_or_default()
            } else {
                Vec::new()
            };
            (layout::mbr(&code, &p.parts, &p.ids)?.to_vec(), None)
        }
        // No table: what an old one said goes with the first MiB below.
        Table::Whole => (Vec::new(), None),
    };
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&p.dev)
            .with_context(|| format!("open {}", p.dev.display()))?;
        // No stale filesystem signatures where the partitions start.
        let zero = vec![0u8; 1 << 20];
        for part in &p.parts {
            f.seek(std::io::SeekFrom::Start(part.start * 512))?;
            let n = (part.len * 512).min(zero.len() as u64) as usize;
            f.write_all(&zero[..n])?;
        }
        f.seek(std::io::SeekFrom::Start(0))?;
        f.write_all(&head)?;
        // The backup GPT at the end; an old one there would contradict it.
        if let Some(tail) = &tail {
            f.seek(std::io::SeekFrom::Start(sectors * 512 - tail.len() as u64))?;
            f.write_all(tail)?;
        } else {
            f.seek(std::io::SeekFrom::Start((sectors - layout::GPT_TAIL) * 512))?;
            f.write_all(&[0u8; layout::GPT_TAIL as usize * 512])?;
        }
        f.sync_all()?;
    }
    deploy::reread_partitions(&p.dev)?;
    if p.table == Table::Whole {
        return Ok(vec![p.dev.clone()]);
    }
    let devs: Vec<PathBuf> = (1..=p.parts.len() as u32)
        .map(|n| env.disk_path(&tarball::part_name(&p.disk, n)))
        .collect();
    for _ in 0..50 {
        if devs.iter().all(|d| d.exists()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(devs)
}

/// Make partition `p`'s filesystem on `dev` (none when it has no fstype).
pub(crate) fn mkfs(p: &layout::Part, dev: &str) -> Result<()> {
    let label = p.label.as_deref();
    match p.fstype.as_deref() {
        None => Ok(()),
        Some(f @ ("fat16" | "fat32" | "vfat")) => {
            let bits = if f == "fat16" { "16" } else { "32" };
            let mut args = vec!["-F", bits];
            if p.boot {
                args.extend(["-s", "1"]);
            }
            let l: String;
            if let Some(x) = label {
                l = x.to_uppercase().chars().take(11).collect();
                args.extend(["-n", &l]);
            }
            // A volume id XXXX-XXXX is given as its 8 hex digits.
            let id: String;
            if let Some(u) = &p.fs_uuid {
                id = u.replace('-', "");
                args.extend(["-i", &id]);
            }
            args.push(dev);
            run("mkfs.fat", &args)
        }
        Some("swap") => {
            let mut args = Vec::new();
            if let Some(x) = label {
                args.extend(["-L", x]);
            }
            args.push(dev);
            run("mkswap", &args)?;
            match &p.fs_uuid {
                Some(u) => set_swap_uuid(Path::new(dev), u),
                None => Ok(()),
            }
        }
        Some(f) => {
            let l: String;
            let mut args = vec!["-q", "-F", "-t", f];
            if let Some(x) = label {
                l = x.chars().take(16).collect();
                args.extend(["-L", &l]);
            }
            if let Some(u) = &p.fs_uuid {
                args.extend(["-U", u]);
            }
            args.push(dev);
            run("mke2fs", &args)
        }
    }
}

/// Where a swap area's header keeps its UUID (after 1024 bytes of boot
/// bits and three 32-bit fields), as `swaplabel -U` writes it.
pub const SWAP_UUID_AT: u64 = 1036;

/// Give the swap area on `dev` the UUID `u` (busybox's mkswap takes none).
pub fn set_swap_uuid(dev: &Path, u: &str) -> Result<()> {
    use std::io::{Seek, Write};
    let hex: String = u.chars().filter(|c| *c != '-').collect();
    let bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(dev)
        .with_context(|| format!("open {}", dev.display()))?;
    f.seek(std::io::SeekFrom::Start(SWAP_UUID_AT))?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Mount the layout's other filesystems under the mounted root `target`
/// (parents first); what was mounted, to unmount in reverse.
pub fn mount_others(laid: &Laid, target: &Path) -> Result<Vec<PathBuf>> {
    let mut done = Vec::new();
    for (n, mp) in layout::mounts(&laid.parts) {
        let dir = target.join(mp.trim_start_matches('/'));
        match deploy::mount_any(&laid.devs[n as usize - 1], &dir) {
            Ok(_) => done.push(dir),
            Err(e) => {
                unmount_all(&done);
                return Err(e.context(format!("mount {mp}")));
            }
        }
    }
    Ok(done)
}

/// Unmount what `mount_others` mounted, children first.
pub fn unmount_all(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let _ = deploy::unmount(d);
    }
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
pub fn finish(env: &Env, laid: &Laid, target: &Path, task: &Value) -> Result<()> {
    let boot_dev = laid.boot();
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
    tarball::write_fstab(target, &laid.parts)?;
    deploy::write_target_files(target, task)?;
    Ok(())
}
