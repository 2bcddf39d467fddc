//! qemu machines booted directly from a kernel and initrd (no firmware
//! network boot): how the ephemeral environment and deployed test images
//! are tried quickly. The uncompressed `vmlinux` boots through qemu's PVH
//! entry 2-3x faster than a bzImage under TCG.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;

use crate::{Netns, Proc};

/// What to start.
#[derive(Debug, Clone)]
pub struct DirectSpec {
    /// `None`: boot the disk through SeaBIOS (a deployed image).
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: String,
    pub mac: String,
    /// The tap (already made, in the namespace the VM runs in).
    pub tap: String,
    pub memory_mb: u32,
    pub cpus: u32,
    /// A raw disk image attached as virtio-blk (with this serial).
    pub disk: Option<(PathBuf, String)>,
    /// More qemu `-device` arguments (a USB controller and its devices).
    pub devices: Vec<String>,
    /// Scratch directory: `console.log`, `qemu.log`.
    pub dir: PathBuf,
    /// qemu is killed after this long.
    pub time_limit: Duration,
}

impl DirectSpec {
    /// The console log so far.
    pub fn console(&self) -> String {
        std::fs::read(self.dir.join("console.log"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Netns {
    /// Start a directly booted qemu machine (TCG) in this namespace; it
    /// exits when the guest powers off or reboots.
    pub fn start_direct(&self, spec: &DirectSpec) -> anyhow::Result<Proc> {
        crate::require_tools(&["qemu-system-x86_64", "timeout"])?;
        std::fs::create_dir_all(&spec.dir)
            .with_context(|| format!("creating {}", spec.dir.display()))?;
        let mut c = self.cmd("timeout");
        c.arg(spec.time_limit.as_secs().max(1).to_string())
            .args(["qemu-system-x86_64", "-accel", "tcg", "-nodefaults"])
            .args(["-display", "none", "-M", "pc,graphics=off", "-no-reboot"])
            .args(["-m", &spec.memory_mb.to_string()])
            .args(["-smp", &spec.cpus.to_string()])
            .arg("-serial")
            .arg(format!("file:{}", spec.dir.join("console.log").display()))
            .arg("-netdev")
            .arg(format!(
                "tap,id=n0,ifname={},script=no,downscript=no",
                spec.tap
            ))
            .arg("-device")
            .arg(format!("virtio-net-pci,netdev=n0,mac={}", spec.mac));
        if let Some(k) = &spec.kernel {
            c.arg("-kernel").arg(k).arg("-append").arg(&spec.append);
            if let Some(i) = &spec.initrd {
                c.arg("-initrd").arg(i);
            }
        }
        if let Some((disk, serial)) = &spec.disk {
            c.arg("-drive")
                .arg(format!("file={},if=none,format=raw,id=d0", disk.display()))
                .arg("-device")
                .arg(format!("virtio-blk-pci,drive=d0,serial={serial}"));
        }
        for d in &spec.devices {
            c.arg("-device").arg(d);
        }
        c.stdout(Stdio::null())
            .stderr(std::fs::File::create(spec.dir.join("qemu.log")).context("qemu log file")?);
        Proc::spawn(c)
    }
}
