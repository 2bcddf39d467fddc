//! qemu machines for the lab: TCG only (the hosts' /dev/kvm is a nested
//! hypervisor where guests crawl or crash), no default devices (no SLIRP
//! NIC that could reach the host's network), one NIC on a tap in a lab
//! namespace, its serial console in a file, and a hard time limit.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::{Netns, Proc};

/// How the machine's firmware boots from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS running the NIC's iPXE option ROM.
    Bios,
    /// OVMF (UEFI x64) with its own PXE client (no iPXE ROM): it fetches
    /// the EFI loader over TFTP, as real UEFI firmware does.
    UefiPxe,
    /// OVMF with its PXE options switched off, so it goes straight to UEFI
    /// HTTP boot: DHCP as an `HTTPClient`, the EFI loader by the URL the
    /// answer names.
    UefiHttp,
}

impl Firmware {
    /// OVMF's fw_cfg switches for this firmware's network boot options.
    /// No IPv6 network boot (PXEv6, HTTPv6): after a local-boot `exit 1`,
    /// OVMF does not wait out DHCPv6 before the disk. HTTP boot also drops
    /// PXEv4 (`IPv4Support=no` would drop HTTPv4 too).
    pub(crate) fn ovmf_switches(self) -> Vec<String> {
        let mut v = vec![
            "opt/org.tianocore/IPv6PXESupport,string=no".to_string(),
            "opt/org.tianocore/IPv6Support,string=no".to_string(),
        ];
        if self == Firmware::UefiHttp {
            v.push("opt/org.tianocore/IPv4PXESupport,string=no".to_string());
        }
        v
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct VmSpec {
    pub mac: String,
    pub firmware: Firmware,
    pub memory_mb: u32,
    /// The tap (already made, in the namespace the VM runs in).
    pub tap: String,
    /// Scratch directory: console log, UEFI variables.
    pub dir: PathBuf,
    /// qemu is killed after this long.
    pub time_limit: Duration,
}

/// The OVMF code and variables templates (Debian's `ovmf`).
pub(crate) fn ovmf() -> anyhow::Result<(PathBuf, PathBuf)> {
    for (code, vars) in [
        ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"),
        ("OVMF_CODE.fd", "OVMF_VARS.fd"),
    ] {
        let c = Path::new("/usr/share/OVMF").join(code);
        let v = Path::new("/usr/share/OVMF").join(vars);
        if c.exists() && v.exists() {
            return Ok((c, v));
        }
    }
    bail!("OVMF firmware not found in /usr/share/OVMF: install Debian's `ovmf`")
}

impl Netns {
    /// A tap `name` on `bridge` (both here), up.
    pub fn tap(&self, name: &str, bridge: &str) -> anyhow::Result<()> {
        self.ip(&["tuntap", "add", "dev", name, "mode", "tap"])?;
        self.ip(&["link", "set", name, "master", bridge, "up"])
    }

    /// Start a qemu machine in this namespace; it powers off (exits) when
    /// the guest does, and is killed on drop or after its time limit.
    pub fn start_vm(&self, spec: &VmSpec) -> anyhow::Result<Proc> {
        crate::require_tools(&["qemu-system-x86_64", "timeout"])?;
        std::fs::create_dir_all(&spec.dir)
            .with_context(|| format!("creating {}", spec.dir.display()))?;
        let console = spec.dir.join("console.log");
        let mut c = self.cmd("timeout");
        c.arg(spec.time_limit.as_secs().max(1).to_string())
            .args([
                "qemu-system-x86_64",
                "-accel",
                "tcg",
                "-nodefaults",
                "-display",
                "none",
            ])
            .args(["-m", &spec.memory_mb.to_string(), "-smp", "1", "-no-reboot"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-netdev")
            .arg(format!(
                "tap,id=n0,ifname={},script=no,downscript=no",
                spec.tap
            ));
        match spec.firmware {
            Firmware::Bios => {
                c.args(["-M", "pc,graphics=off"])
                    .arg("-device")
                    .arg(format!(
                        "virtio-net-pci,netdev=n0,mac={},bootindex=1",
                        spec.mac
                    ));
            }
            Firmware::UefiPxe | Firmware::UefiHttp => {
                let (code, vars) = ovmf()?;
                let my_vars = spec.dir.join("vars.fd");
                std::fs::copy(&vars, &my_vars)
                    .with_context(|| format!("copying {}", vars.display()))?;
                c.args(["-M", "q35,graphics=off"])
                    .arg("-drive")
                    .arg(format!(
                        "if=pflash,format=raw,readonly=on,file={}",
                        code.display()
                    ))
                    .arg("-drive")
                    .arg(format!("if=pflash,format=raw,file={}", my_vars.display()))
                    .args(
                        spec.firmware
                            .ovmf_switches()
                            .iter()
                            .flat_map(|s| ["-fw_cfg".to_string(), format!("name={s}")]),
                    )
                    .arg("-device")
                    .arg(format!(
                        "virtio-net-pci,netdev=n0,mac={},bootindex=1,romfile=",
                        spec.mac
                    ));
            }
        }
        c.stdout(Stdio::null())
            .stderr(std::fs::File::create(spec.dir.join("qemu.log")).context("qemu log file")?);
        Proc::spawn(c)
    }
}

/// The console log so far.
pub fn console(spec: &VmSpec) -> String {
    std::fs::read(spec.dir.join("console.log"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
