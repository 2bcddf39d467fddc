//! One lab machine: a qemu process started and killed by its BMC (OpenIPMI's
//! `ipmi_sim`, or sushy-emulator speaking Redfish), both through the same
//! chassis program.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;

use crate::{Firmware, Netns, Proc};

const CHASSIS: &str = include_str!("chassis.sh");
const REDFISH_BMC: &str = include_str!("redfish_bmc.py");
/// bcrypt of "secret" (user admin), for sushy-emulator's htpasswd file.
const HTPASSWD: &str = "admin:$2b$05$haXH6a1NLFcG0iC1SInaZOoUjVbgBWA5b5VHJ9mPdqyKQLq6DuajS\n";
/// The Redfish BMC's port on its address.
pub const REDFISH_PORT: u16 = 8000;

/// Which BMC powers a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bmc {
    /// `ipmi_sim` on `bmc_ip:623` (lanplus, admin/secret).
    #[default]
    Ipmi,
    /// sushy-emulator on `http://bmc_ip:8000` (basic auth admin/secret),
    /// one ComputerSystem whose power is the qemu process. Needs
    /// sushy-tools in the venv `MAAS_LAB_VENV` (default /var/tmp/maas-venv).
    Redfish,
}

/// The Python of the venv holding sushy-tools.
fn venv_python() -> anyhow::Result<PathBuf> {
    let venv = std::env::var("MAAS_LAB_VENV").unwrap_or_else(|_| "/var/tmp/maas-venv".into());
    let py = Path::new(&venv).join("bin/python");
    anyhow::ensure!(
        Path::new(&venv).join("bin/sushy-emulator").exists(),
        "sushy-tools is not installed in {venv} (.ci/requirements.txt; or set MAAS_LAB_VENV)"
    );
    Ok(py)
}

/// What the machine is made of.
#[derive(Debug, Clone)]
pub struct MachineSpec {
    pub name: String,
    pub mac: String,
    pub cpus: u32,
    pub memory_mb: u32,
    /// Size of its boot disk, a virtio disk (a sparse file).
    pub disk_mb: u64,
    /// Sizes of more virtio disks after it (`disk2.img`, … serials
    /// `lab-<name>-2`, …).
    pub data_disks_mb: Vec<u64>,
    /// MACs of more virtio NICs after the boot NIC, on the same segment
    /// (taps `<tap>n2`, …; no boot ROM).
    pub extra_nics: Vec<String>,
    pub firmware: Firmware,
}

/// A machine and its BMC (`ipmi_sim` at `bmc_ip:623`, user admin/secret).
pub struct LabMachine {
    pub spec: MachineSpec,
    pub dir: PathBuf,
    pub bmc_ip: String,
    /// The kind of BMC at `bmc_ip`.
    pub bmc_kind: Bmc,
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
        bmc_kind: Bmc,
    ) -> anyhow::Result<LabMachine> {
        crate::require_tools(&["qemu-system-x86_64"])?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let disk = std::fs::File::create(dir.join("disk.img"))?;
        disk.set_len(spec.disk_mb << 20)?;
        for (i, mb) in spec.data_disks_mb.iter().enumerate() {
            let f = std::fs::File::create(dir.join(format!("disk{}.img", i + 2)))?;
            f.set_len(mb << 20)?;
        }
        let kcs = (bmc_kind == Bmc::Ipmi).then(|| kcs_port(&spec.mac));
        write_exec(&dir.join("start.sh"), &start_script(&spec, &dir, tap, kcs)?)?;
        write_exec(&dir.join("chassis.sh"), CHASSIS)?;
        let bmc = match bmc_kind {
            Bmc::Ipmi => start_ipmi_sim(ns, &spec, &dir, bmc_ip)?,
            Bmc::Redfish => start_redfish(ns, &spec, &dir, bmc_ip)?,
        };
        Ok(LabMachine {
            spec,
            dir,
            bmc_ip: bmc_ip.to_string(),
            bmc_kind,
            ns: ns.name().to_string(),
            bmc: Some(bmc),
        })
    }
    /// The power parameters MAAS takes for this machine's BMC.
    pub fn power_parameters(&self) -> Vec<(String, String)> {
        if self.bmc_kind == Bmc::Redfish {
            return [
                ("power_type", "redfish".to_string()),
                (
                    "power_parameters_power_address",
                    format!("http://{}:{REDFISH_PORT}", self.bmc_ip),
                ),
                ("power_parameters_power_user", "admin".into()),
                ("power_parameters_power_pass", "secret".into()),
                ("power_parameters_node_id", system_uuid(&self.spec.mac)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        }
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

    /// The MAC its BMC reports on its LAN channel (IPMI BMCs).
    pub fn bmc_mac(&self) -> String {
        bmc_mac(&self.spec.mac)
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

    /// Its data disk `n` (2, 3, …), as `data_disks_mb` made them.
    pub fn data_disk(&self, n: usize) -> PathBuf {
        self.dir.join(format!("disk{n}.img"))
    }

    /// From its next power-on, reads of the disk's 512-byte `sector` fail
    /// with EIO (qemu's blkdebug; writes still work); `None` mends it.
    pub fn fail_disk_reads_at(&self, sector: Option<u64>) -> std::io::Result<()> {
        let conf = self.dir.join("blkdebug.conf");
        match sector {
            Some(s) => std::fs::write(
                conf,
                format!(
                    "[inject-error]\nevent = \"none\"\niotype = \"read\"\nerrno = \"5\"\nsector = \"{s}\"\n"
                ),
            ),
            None => match std::fs::remove_file(conf) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
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

/// The BMC's MAC: the machine's, with `b1` as its fourth byte.
fn bmc_mac(mac: &str) -> String {
    let mut parts: Vec<&str> = mac.split(':').collect();
    if parts.len() == 6 {
        parts[3] = "b1";
    }
    parts.join(":")
}

/// The loopback port where `ipmi_sim` waits for its qemu's KCS interface.
fn kcs_port(mac: &str) -> u16 {
    let n = u16::from_str_radix(&mac.replace(':', "")[8..], 16).unwrap_or(0);
    20_000 + n % 20_000
}

/// `ipmi_sim` at `bmc_ip:623` whose chassis_control is the chassis program.
/// The machine reaches it in-band too (KCS, `/dev/ipmi0` in the guest),
/// where the LAN channel reports `bmc_ip` and [`bmc_mac`] as a real BMC's
/// configuration would.
fn start_ipmi_sim(
    ns: &Netns,
    spec: &MachineSpec,
    dir: &Path,
    bmc_ip: &str,
) -> anyhow::Result<Proc> {
    crate::require_tools(&["ipmi_sim"])?;
    let lan = format!(
        "name \"{name}\"\nset_working_mc 0x20\n  startlan 1\n    addr {bmc_ip} 623\n    priv_limit admin\n\
             allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n\
             allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n\
             guid a123456789abcdefa123456789ab{n:04x}\n    lan_config_program \"{dir}/lan-config.sh\"\n\
             endlan\n  chassis_control \"{chassis} {dir}\"\n  serial 15 127.0.0.1 {kcs} codec VM\n\
             user 2 true  \"admin\" \"secret\" admin 10 none md2 md5 straight\n",
        name = spec.name,
        n = u16::from_str_radix(&spec.mac.replace(':', "")[8..], 16).unwrap_or(0),
        chassis = dir.join("chassis.sh").display(),
        dir = dir.display(),
        kcs = kcs_port(&spec.mac),
    );
    std::fs::write(dir.join("lan.conf"), lan)?;
    // ipmi_sim asks it for each parameter it names ("get ip_addr ...").
    write_exec(
        &dir.join("lan-config.sh"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 0\nshift\nfor p; do case $p in\n\
             ip_addr_src) echo \"$p: static\";;\n  ip_addr) echo \"$p: {bmc_ip}\";;\n\
             mac_addr) echo \"$p: {mac}\";;\n  subnet_mask) echo \"$p: 255.255.255.0\";;\n\
             *_mac_addr) echo \"$p: 00:00:00:00:00:00\";;\n  *) echo \"$p: 0.0.0.0\";;\nesac; done\n",
            mac = bmc_mac(&spec.mac)
        ),
    )?;
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
        .current_dir(dir)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    die_with_parent(&mut c);
    Proc::spawn(c)
}

/// sushy-emulator at `http://bmc_ip:8000` with the lab's driver
/// (`redfish_bmc.py`): power actions run the chassis program.
fn start_redfish(ns: &Netns, spec: &MachineSpec, dir: &Path, bmc_ip: &str) -> anyhow::Result<Proc> {
    let py = venv_python()?;
    std::fs::write(dir.join("redfish_bmc.py"), REDFISH_BMC)?;
    std::fs::write(dir.join("htpasswd"), HTPASSWD)?;
    let conf = format!(
        "SUSHY_EMULATOR_LISTEN_IP = '{bmc_ip}'\nSUSHY_EMULATOR_LISTEN_PORT = {REDFISH_PORT}\n\
         SUSHY_EMULATOR_FAKE_DRIVER = True\nSUSHY_EMULATOR_AUTH_FILE = '{auth}'\n\
         SUSHY_EMULATOR_STATE_DIR = '{state}'\n\
         SUSHY_EMULATOR_FAKE_SYSTEMS = [{{'uuid': '{uuid}', 'name': '{name}', 'power_state': 'Off', \
         'external_notifier': False, 'nics': [{{'mac': '{mac}', 'ip': '0.0.0.0'}}]}}]\n",
        auth = dir.join("htpasswd").display(),
        state = dir.join("redfish-state").display(),
        uuid = system_uuid(&spec.mac),
        name = spec.name,
        mac = spec.mac,
    );
    std::fs::write(dir.join("sushy.conf"), conf)?;
    let log = std::fs::File::create(dir.join("redfish.log"))?;
    let mut c = ns.cmd(&py.to_string_lossy());
    c.arg(dir.join("redfish_bmc.py"))
        .arg(dir)
        .arg(dir.join("sushy.conf"))
        .current_dir(dir)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    die_with_parent(&mut c);
    let p = Proc::spawn(c)?;
    // Listening (within 30 s: Flask starts slowly on a busy host).
    let t0 = std::time::Instant::now();
    let port = format!(":{REDFISH_PORT}");
    while !ns
        .output("ss", &["-Hltn"])
        .is_ok_and(|o| o.lines().any(|l| l.contains(&format!("{bmc_ip}{port}"))))
    {
        anyhow::ensure!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "the Redfish BMC of {} did not listen in 30 s: {}",
            spec.name,
            std::fs::read_to_string(dir.join("redfish.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(p)
}

/// The Redfish system id of a machine: a UUID ending in its MAC.
pub fn system_uuid(mac: &str) -> String {
    format!(
        "5e6c0c2a-0000-4000-8000-{}",
        mac.replace(':', "").to_lowercase()
    )
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
/// its iPXE ROM on BIOS; UEFI's own PXE or HTTP boot otherwise), then the
/// disk.
fn start_script(
    spec: &MachineSpec,
    dir: &Path,
    tap: &str,
    kcs: Option<u16>,
) -> anyhow::Result<String> {
    let d = dir.display();
    let (machine, firmware, rom) = match spec.firmware {
        Firmware::Bios => ("pc", String::new(), ""),
        Firmware::UefiPxe | Firmware::UefiHttp => {
            let (code, vars) = crate::vm::ovmf()?;
            std::fs::copy(&vars, dir.join("vars.fd"))?;
            let switches: String = spec
                .firmware
                .ovmf_switches()
                .iter()
                .map(|s| format!("-fw_cfg name={s} "))
                .collect();
            (
                "q35",
                format!(
                    "-drive if=pflash,format=raw,readonly=on,file={} -drive if=pflash,format=raw,file={d}/vars.fd \
                     {switches}",
                    code.display()
                ),
                ",romfile=",
            )
        }
    };
    // An IPMI machine's KCS interface talks to its ipmi_sim.
    let kcs = kcs.map_or(String::new(), |port| {
        format!(
            "-chardev socket,id=ipmi0,host=127.0.0.1,port={port},reconnect=10 \
             -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0,irq=5 "
        )
    });
    let nics: String = spec
        .extra_nics
        .iter()
        .enumerate()
        .map(|(i, mac)| {
            let i = i + 2;
            format!(
                " -netdev tap,id=n{i},ifname={tap}n{i},script=no,downscript=no \
                 -device virtio-net-pci,netdev=n{i},mac={mac},romfile="
            )
        })
        .collect();
    let data: String = (2..spec.data_disks_mb.len() + 2)
        .map(|i| {
            format!(
                " -drive file={d}/disk{i}.img,if=none,id=d{i},format=raw \
                 -device virtio-blk-pci,drive=d{i},serial=lab-{name}-{i}",
                name = spec.name
            )
        })
        .collect();
    // The machine dies with the process that made the lab, even if that one
    // is killed outright (the BMC started it detached).
    let owner = std::process::id();
    Ok(format!(
        "#!/bin/sh\n\
         echo $$ > \"{d}/pid\"\n\
         ( while kill -0 {owner} 2>/dev/null; do sleep 1; done; kill $$ ) </dev/null >/dev/null 2>&1 &\n\
         disk={d}/disk.img\n\
         [ -f \"{d}/blkdebug.conf\" ] && disk=\"blkdebug:{d}/blkdebug.conf:{d}/disk.img\"\n\
         exec qemu-system-x86_64 -accel tcg -M {machine},graphics=off -m {mem} -smp {cpus} \
         -nodefaults -display none {firmware}\
         -chardev file,id=con,path={d}/console.log,append=on -serial chardev:con \
         -netdev tap,id=n0,ifname={tap},script=no,downscript=no \
         -device virtio-net-pci,netdev=n0,mac={mac},bootindex=1{rom} \
         -drive file=\"$disk\",if=none,id=d0,format=raw \
         -device virtio-blk-pci,drive=d0,bootindex=2,serial=lab-{name}{data}{nics} {kcs}\n",
        mem = spec.memory_mb,
        cpus = spec.cpus,
        mac = spec.mac,
        name = spec.name,
    ))
}
