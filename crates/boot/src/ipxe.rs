//! iPXE scripts: the generic `ipxe.cfg` that chains to the per-machine one,
//! and the per-machine script chosen from the machine's status.

use std::fmt::Write;

use maas_model::status::NodeStatus;

use crate::config::{BootConfig, Machine};

/// What a machine's next boot does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Unknown MAC: ephemeral environment, anonymous enlistment.
    Enlist,
    Commissioning,
    Testing,
    Deploying,
    Erasing,
    Rescue,
    /// Boot from the local disk.
    Local,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Enlist => "enlist",
            Purpose::Commissioning => "commissioning",
            Purpose::Testing => "testing",
            Purpose::Deploying => "deploying",
            Purpose::Erasing => "erasing",
            Purpose::Rescue => "rescue",
            Purpose::Local => "local",
        }
    }

    /// The purpose for a known machine's status; unparseable statuses boot locally.
    pub fn for_status(status: &str) -> Purpose {
        match NodeStatus::parse(status) {
            Some(NodeStatus::New | NodeStatus::Commissioning) => Purpose::Commissioning,
            Some(NodeStatus::Testing) => Purpose::Testing,
            Some(NodeStatus::Deploying) => Purpose::Deploying,
            Some(NodeStatus::DiskErasing) => Purpose::Erasing,
            Some(NodeStatus::EnteringRescueMode | NodeStatus::RescueMode) => Purpose::Rescue,
            _ => Purpose::Local,
        }
    }

    pub fn for_machine(m: Option<&Machine>) -> Purpose {
        match m {
            None => Purpose::Enlist,
            // The deploying environment wrote the OS and turned netboot off:
            // the next boot is the installed OS. Other in-progress statuses
            // (commissioning, erasing, …) always need the environment.
            Some(m) if m.local_boot && Purpose::for_status(&m.status) == Purpose::Deploying => {
                Purpose::Local
            }
            Some(m) => Purpose::for_status(&m.status),
        }
    }
}

/// The architecture directory for a MAAS architecture name (`amd64/generic` → `amd64`).
pub fn arch_dir(arch: &str) -> Option<&str> {
    let a = arch.split('/').next().unwrap_or("").trim();
    let ok = !a.is_empty()
        && a.len() <= 32
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(a)
}

/// The generic script: chain to the per-machine script by the boot NIC's
/// MAC. `--replace` hands control to it for good, so its `exit` (local
/// boot) leaves iPXE for the firmware's next boot device instead of coming
/// back here as a failure; only a script that cannot be fetched retries.
pub fn chain_script(base: &str) -> String {
    format!(
        "#!ipxe\n\
         # MAAS rack: chain to this machine's script\n\
         chain --replace {base}/ipxe.cfg-${{mac:hexhyp}} || goto failed\n\
         :failed\n\
         echo MAAS: could not fetch the per-machine script; retrying in 5 s\n\
         sleep 5\n\
         chain {base}/ipxe.cfg\n"
    )
}

/// The per-machine script for `purpose`. `base` is the rack's HTTP base URL
/// (no trailing slash).
pub fn machine_script(
    base: &str,
    cfg: &BootConfig,
    machine: Option<&Machine>,
    purpose: Purpose,
) -> String {
    let mut s = String::from("#!ipxe\n");
    let who = machine.map_or("unknown machine".to_string(), |m| {
        format!("{} ({})", m.hostname, m.system_id)
    });
    if purpose == Purpose::Local {
        // iPXE's `exit` hands back to the firmware, which tries its next boot
        // device (the local disk) on both BIOS and UEFI. On UEFI it must
        // exit with an error: a boot option that returns EFI_SUCCESS makes
        // EDK2's boot manager stop and show its menu instead.
        let _ = writeln!(s, "echo MAAS: {} boots from local disk", clean(&who));
        s.push_str("iseq ${platform} efi && exit 1 ||\nexit\n");
        return s;
    }
    let default_arch = cfg.default_arch.as_deref().unwrap_or("amd64");
    let arch = machine
        .and_then(|m| arch_dir(&m.arch))
        .or_else(|| arch_dir(default_arch))
        .unwrap_or("amd64");
    let img = format!("{base}/images/ephemeral/{arch}");
    let mut cmdline = format!(
        "initrd=initrd maas_url={base}/MAAS/metadata/ maas_purpose={}",
        purpose.name()
    );
    if let Some(m) = machine {
        let _ = write!(cmdline, " maas_system_id={}", clean(&m.system_id));
        if !m.hostname.is_empty() {
            let _ = write!(cmdline, " maas_hostname={}", clean(&m.hostname));
        }
    }
    for opts in [
        cfg.kernel_opts.as_str(),
        machine.map_or("", |m| m.kernel_opts.as_str()),
    ] {
        let o = clean(opts);
        if !o.trim().is_empty() {
            let _ = write!(cmdline, " {}", o.trim());
        }
    }
    let _ = writeln!(s, "echo MAAS: {} {}", clean(&who), purpose.name());
    let _ = writeln!(s, "kernel {img}/kernel {cmdline}");
    let _ = writeln!(s, "initrd {img}/initrd");
    s.push_str("boot\n");
    s
}

/// Strip what could break out of one iPXE script line.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(status: &str) -> Machine {
        Machine {
            system_id: "abc123".into(),
            hostname: "node1".into(),
            status: status.into(),
            arch: "amd64/generic".into(),
            kernel_opts: "nomodeset".into(),
            ..Default::default()
        }
    }

    #[test]
    fn purposes() {
        assert_eq!(Purpose::for_machine(None), Purpose::Enlist);
        let mut m = machine("deploying");
        assert_eq!(Purpose::for_machine(Some(&m)), Purpose::Deploying);
        m.local_boot = true;
        assert_eq!(Purpose::for_machine(Some(&m)), Purpose::Local);
        m.status = "commissioning".into();
        assert_eq!(
            Purpose::for_machine(Some(&m)),
            Purpose::Commissioning,
            "netboot off does not skip commissioning"
        );
        for (st, p) in [
            ("commissioning", Purpose::Commissioning),
            ("Testing", Purpose::Testing),
            ("DEPLOYING", Purpose::Deploying),
            ("9", Purpose::Deploying),
            ("disk_erasing", Purpose::Erasing),
            ("entering_rescue_mode", Purpose::Rescue),
            ("deployed", Purpose::Local),
            ("ready", Purpose::Local),
            ("allocated", Purpose::Local),
            ("garbage", Purpose::Local),
        ] {
            assert_eq!(Purpose::for_status(st), p, "{st}");
        }
    }

    #[test]
    fn scripts() {
        let cfg = BootConfig {
            kernel_opts: "console=ttyS0".into(),
            ..Default::default()
        };
        let m = machine("commissioning");
        let s = machine_script(
            "http://10.0.0.1:5248",
            &cfg,
            Some(&m),
            Purpose::Commissioning,
        );
        assert!(s.starts_with("#!ipxe\n"));
        assert!(s.contains("kernel http://10.0.0.1:5248/images/ephemeral/amd64/kernel initrd=initrd maas_url=http://10.0.0.1:5248/MAAS/metadata/ maas_purpose=commissioning maas_system_id=abc123 maas_hostname=node1 console=ttyS0 nomodeset\n"), "{s}");
        assert!(
            s.contains("initrd http://10.0.0.1:5248/images/ephemeral/amd64/initrd\nboot\n"),
            "{s}"
        );
        let e = machine_script("http://r", &cfg, None, Purpose::Enlist);
        assert!(
            e.contains("maas_purpose=enlist") && !e.contains("maas_system_id"),
            "{e}"
        );
        let l = machine_script("http://r", &cfg, Some(&machine("deployed")), Purpose::Local);
        assert!(l.ends_with("exit\n") && !l.contains("kernel"), "{l}");
        // UEFI exits with an error, so EDK2 boots the next option (not its menu).
        assert!(l.contains("iseq ${platform} efi && exit 1 ||\n"), "{l}");
        let bad = Machine {
            hostname: "x\nkernel evil".into(),
            ..machine("testing")
        };
        let t = machine_script("http://r", &cfg, Some(&bad), Purpose::Testing);
        assert!(!t.contains("\nkernel evil"), "{t}");
        assert!(
            chain_script("http://r:5248")
                .contains("chain --replace http://r:5248/ipxe.cfg-${mac:hexhyp} || goto failed")
        );
    }

    #[test]
    fn arch_dirs() {
        assert_eq!(arch_dir("arm64/generic"), Some("arm64"));
        assert_eq!(arch_dir("../x"), None);
        assert_eq!(arch_dir(""), None);
    }
}
