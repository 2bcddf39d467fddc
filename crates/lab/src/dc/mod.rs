//! A virtual datacenter: a rack host whose bridge carries qemu machines,
//! each with its own BMC (OpenIPMI's `ipmi_sim`, or sushy-emulator for
//! Redfish) that really powers the machine — its chassis program starts
//! and kills the qemu process.
//!
//! ```text
//! ns "dc…": br0 {prefix}.1/24 (the rack's address)
//!            ├─ tap per machine (qemu, TCG, NIC first then disk)
//!            └─ BMC addresses {prefix}.2xx/24 (ipmi_sim on :623 or Redfish on :8000)
//! ```
//!
//! The rack runs in [`Datacenter::ns`]; the region is reached from there
//! through TCP forwards ([`Netns::forward_tcp`]). Everything stops and
//! goes away on drop: qemu processes, simulators, the namespace.

mod machine;
mod relay;
mod switch;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

pub use machine::{Bmc, LabMachine, MachineSpec, REDFISH_PORT, system_uuid};
pub use relay::Segment;
pub use switch::{SYSTEM_NAME as SWITCH_NAME, Switch};

use crate::{Netns, Proc};

pub struct Datacenter {
    /// The rack host's namespace (bridge, taps, BMCs).
    pub ns: Netns,
    /// e.g. "10.210.1": the rack is `.1`.
    pub prefix: String,
    pub dir: PathBuf,
    /// Stopped before the namespace goes ([`Drop`] below).
    pub machines: Vec<LabMachine>,
    /// Relayed segments ([`Datacenter::add_relayed_segment`]).
    pub segments: Vec<Segment>,
    router_adverts: bool,
    _ra: Option<Proc>,
    /// Announces itself over LLDP on the rack segment's machine ports.
    pub switch: Switch,
}

impl Datacenter {
    /// The namespace and its bridge; `dir` holds machines' disks, consoles
    /// and BMC state. With `router_adverts`, a router advertisement on the
    /// bridge (dnsmasq, RA only): iPXE otherwise waits ~13 s per boot for
    /// IPv6 autoconfiguration, as on a real network without a router.
    pub fn new(prefix: &str, dir: &Path, router_adverts: bool) -> anyhow::Result<Datacenter> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let ns = Netns::new("dc")?;
        ns.bridge("br0")?;
        ns.addr("br0", &format!("{prefix}.1/24"))?;
        let ra = if router_adverts {
            Some(start_ra(&ns, dir)?)
        } else {
            None
        };
        let mgmt = format!("{prefix}.1").parse()?;
        let switch = Switch::start(&ns, mgmt)?;
        Ok(Datacenter {
            switch,
            ns,
            prefix: prefix.to_string(),
            dir: dir.to_path_buf(),
            machines: Vec::new(),
            segments: Vec::new(),
            router_adverts,
            _ra: ra,
        })
    }

    /// The rack's address on the machines' segment.
    pub fn rack_ip(&self) -> String {
        format!("{}.1", self.prefix)
    }

    /// Add a machine (powered off) with its IPMI BMC; its index.
    pub fn add_machine(&mut self, spec: MachineSpec) -> anyhow::Result<usize> {
        self.add_machine_with(spec, Bmc::Ipmi)
    }

    /// Add a machine (powered off) with a BMC of the given kind; its index.
    pub fn add_machine_with(&mut self, spec: MachineSpec, bmc: Bmc) -> anyhow::Result<usize> {
        self.add_machine_on(None, spec, bmc)
    }

    /// A relayed segment `{down}.0/24` behind a router whose `dhcrelay`
    /// forwards DHCP to the rack (see [`Segment`]); its index.
    pub fn add_relayed_segment(&mut self, down: &str) -> anyhow::Result<usize> {
        let i = self.segments.len();
        let seg = Segment::new(self, i, down, self.router_adverts)?;
        self.segments.push(seg);
        Ok(i)
    }

    /// Add a machine on the rack's segment (`None`) or on a relayed one;
    /// its BMC sits on the same segment. Its index.
    pub fn add_machine_on(
        &mut self,
        segment: Option<usize>,
        spec: MachineSpec,
        bmc: Bmc,
    ) -> anyhow::Result<usize> {
        let n = self.machines.len();
        let (ns, prefix) = match segment {
            None => (&self.ns, &self.prefix),
            Some(i) => {
                let s = self
                    .segments
                    .get(i)
                    .ok_or_else(|| anyhow::anyhow!("no relayed segment {i}"))?;
                (&s.ns, &s.prefix)
            }
        };
        let bmc_ip = format!("{prefix}.{}", 200 + n);
        let tap = format!("tap{n}");
        ns.tap(&tap, "br0")?;
        if segment.is_none() {
            self.switch.add_port(&tap);
        }
        for i in 2..spec.extra_nics.len() + 2 {
            let t = format!("{tap}n{i}");
            ns.tap(&t, "br0")?;
            if segment.is_none() {
                self.switch.add_port(&t);
            }
        }
        ns.ip(&["addr", "add", &format!("{bmc_ip}/24"), "dev", "br0"])?;
        let dir = self.dir.join(&spec.name);
        let m = LabMachine::create(ns, spec, dir, &tap, &bmc_ip, bmc)?;
        self.machines.push(m);
        Ok(n)
    }
}

impl Drop for Datacenter {
    fn drop(&mut self) {
        // Machines (qemu + BMC) before the namespaces they live in.
        self.machines.clear();
        self.segments.clear();
    }
}

/// dnsmasq answering router solicitations only (no DHCP, no DNS).
pub(crate) fn start_ra(ns: &Netns, dir: &Path) -> anyhow::Result<Proc> {
    crate::require_tools(&["dnsmasq"])?;
    ns.ip(&["addr", "add", "fd00:210::1/64", "dev", "br0", "nodad"])?;
    let conf = dir.join("ra.conf");
    std::fs::write(
        &conf,
        "port=0\ninterface=br0\nbind-interfaces\nenable-ra\ndhcp-range=fd00:210::,ra-only,64,10m\n",
    )?;
    let mut c: Command = ns.cmd("dnsmasq");
    c.args(["-k", "--user=root", "-C"])
        .arg(&conf)
        .arg(format!("--pid-file={}", dir.join("ra.pid").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    machine::die_with_parent(&mut c);
    Proc::spawn(c)
}
