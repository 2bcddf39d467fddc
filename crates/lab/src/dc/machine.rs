//! One lab machine: a qemu process started and killed by its BMC.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;

use crate::{Firmware, Netns, Proc};

const CHASSIS: &str = include_str!("chassis.sh");

/// What the machine is made of.
#[derive(Debug, Clone)]
pub struct MachineSpec {
    pub name: String,
    pub mac: String,
    pub cpus: u32,
    pub memory_mb: u32,
    /// Size of its one virtio disk (a sparse file).
    pub disk_mb: u64,
    pub firmware: Firmware,
}

/// A machine and its BMC (`ipmi_sim` at `bmc_ip:623`, user admin/secret).
pub struct LabMachine {
    pub spec: MachineSpec,
    pub dir: PathBuf,
    pub bmc_ip: String,
    /// The namespace it runs in (its tap is there).
    ns: String,
    bmc: Option<Proc>,
}

impl LabMachine {
    pub(super) fn create(
        ns: &Netns,
        spec: MachineSpec,
        dir: PathBuf,
        tap: &str,
        bmc_ip: &str,
    ) -> anyhow::Result<LabMachine> {
        crate::require_tools(&["qemu-system-x86_64", "ipmi_sim"])?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let disk = std::fs::File::create(dir.join("disk.img"))?;
        disk.set_len(spec.disk_mb << 20)?;
        write_exec(&dir.join("start.sh"), &start_script(&spec, &dir, tap)?)?;
        write_exec(&dir.join("chassis.sh"), CHASSIS)?;
        let lan = format!(
            "name \"{name}\"\nset_working_mc 0x20\n  startlan 1\n    addr {bmc_ip} 623\n    priv_limit admin\n\
             allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n\
             allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n\
             guid a123456789abcdefa123456789ab{n:04x}\n  endlan\n  chassis_control \"{chassis} {dir}\"\n\
             user 2 true  \"admin\" \"secret\" admin 10 none md2 md5 straight\n",
            name = spec.name,
            n = u16::from_str_radix(&spec.mac.replace(':', "")[8..], 16).unwrap_or(0),
            chassis = dir.join("chassis.sh").display(),
            dir = dir.display(),
        );
        std::fs::write(dir.join("lan.conf"), lan)?;
        std::fs::write(
            dir.join("bmc.emu"),
            "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
        )?;
        let log = std::fs::File::create(dir.join("ipmi_sim.log"))?;
        let mut c = ns.cmd("ipmi_sim");
        c.args(["-n", "-c"])
            .arg(dir.join("lan.conf"))
            .arg("-f")
            .arg(dir.join("bmc.emu"))
            .arg("-s")
            .arg(dir.join("bmc-state"))
            .current_dir(&dir)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        die_with_parent(&mut c);
        let bmc = Proc::spawn(c)?;
        Ok(LabMachine {
            spec,
            dir,
            bmc_ip: bmc_ip.to_string(),
            ns: ns.name().to_string(),
            bmc: Some(bmc),
        })
    }

    /// The power parameters MAAS takes for this machine's BMC.
    pub fn power_parameters(&self) -> Vec<(String, String)> {
        [
            ("power_type", "ipmi".to_string()),
            ("power_parameters_power_address", self.bmc_ip.clone()),
            ("power_parameters_power_user", "admin".into()),
            ("power_parameters_power_pass", "secret".into()),
            ("power_parameters_power_driver", "LAN_2_0".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Whether its qemu process runs.
    pub fn running(&self) -> bool {
        std::fs::read_to_string(self.dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            // SAFETY: kill(2) with signal 0 only checks the pid.
            .is_some_and(|pid| unsafe { libc::kill(pid, 0) } == 0)
    }

    /// Everything its serial console printed, across power cycles.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.join("console.log")).unwrap_or_default())
            .into_owned()
    }

    pub fn disk(&self) -> PathBuf {
        self.dir.join("disk.img")
    }

    /// Power it off as its BMC would (kill the process).
    pub fn kill(&self) {
        self.chassis("0");
    }

    /// Press its power button (what its BMC does on `power on`).
    pub fn power_on_by_hand(&self) {
        self.chassis("1");
    }

    /// Its chassis program, in its namespace (qemu opens its tap there).
    fn chassis(&self, power: &str) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(self.dir.join("chassis.sh"))
            .arg(&self.dir)
            .args(["set", "power", power])
            .stdout(Stdio::null())
            .status();
    }
}

impl Drop for LabMachine {
    fn drop(&mut self) {
        self.bmc.take();
        self.kill();
    }
}

/// SIGKILL the child when this process dies, however it dies.
pub(crate) fn die_with_parent(c: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork
    // and exec.
    unsafe {
        c.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

fn write_exec(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// The machine's qemu command: TCG, no default devices, NIC first (with
/// its iPXE ROM on BIOS; UEFI's own PXE otherwise), then the disk.
fn start_script(spec: &MachineSpec, dir: &Path, tap: &str) -> anyhow::Result<String> {
    let d = dir.display();
    let (machine, firmware, rom) = match spec.firmware {
        Firmware::Bios => ("pc", String::new(), ""),
        Firmware::UefiPxe => {
            let (code, vars) = crate::vm::ovmf()?;
            std::fs::copy(&vars, dir.join("vars.fd"))?;
            (
                "q35",
                format!(
                    "-drive if=pflash,format=raw,readonly=on,file={} -drive if=pflash,format=raw,file={d}/vars.fd ",
                    code.display()
                ),
                ",romfile=",
            )
        }
    };
    // The machine dies with the process that made the lab, even if that one
    // is killed outright (the BMC started it detached).
    let owner = std::process::id();
    Ok(format!(
        "#!/bin/sh\n\
         echo $$ > \"{d}/pid\"\n\
         ( while kill -0 {owner} 2>/dev/null; do sleep 1; done; kill $$ ) </dev/null >/dev/null 2>&1 &\n\
         exec qemu-system-x86_64 -accel tcg -M {machine},graphics=off -m {mem} -smp {cpus} \
         -nodefaults -display none {firmware}\
         -chardev file,id=con,path={d}/console.log,append=on -serial chardev:con \
         -netdev tap,id=n0,ifname={tap},script=no,downscript=no \
         -device virtio-net-pci,netdev=n0,mac={mac},bootindex=1{rom} \
         -drive file={d}/disk.img,if=none,id=d0,format=raw \
         -device virtio-blk-pci,drive=d0,bootindex=2,serial=lab-{name}\n",
        mem = spec.memory_mb,
        cpus = spec.cpus,
        mac = spec.mac,
        name = spec.name,
    ))
}
