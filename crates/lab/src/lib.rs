//! `maas-lab`: a virtual datacenter on one machine, in network namespaces.
//!
//! Everything made here is torn down on drop: a [`Netns`] deletes its
//! namespace (and with it every veth end, bridge and tap inside), a [`Proc`]
//! kills its process. Names are unique per process and call, so tests can
//! run in parallel. Nothing here touches the root namespace's addresses or
//! routes: traffic stays inside the namespaces it makes.
//!
//! Topologies the interop tests, benchmarks and the quick start share:
//! [`Link`] (a server and a client host on one L2 segment) and [`Relayed`]
//! (a server, a DHCP relay host and a client segment behind it).

mod dc;
mod direct;
mod forward;
mod netns;
mod proc;
mod topo;
mod vm;

pub use dc::{
    Bmc, Datacenter, LabMachine, MachineSpec, REDFISH_PORT, SWITCH_NAME, Segment, Switch,
    system_uuid,
};
pub use direct::DirectSpec;
pub use forward::Forward;
pub use netns::{Netns, unique_name};
pub use proc::{Proc, require_tools};
pub use topo::{Link, Relayed};
pub use vm::{Firmware, VmSpec, console};

/// Whether this process may make namespaces (root, with `ip` present).
pub fn can_make_namespaces() -> bool {
    let root = unsafe { libc::geteuid() == 0 };
    root && std::path::Path::new("/run").exists() && which("ip").is_some()
}

/// The full path of `prog` on `PATH` (or under /usr/sbin, /sbin).
pub fn which(prog: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| std::path::Path::new(d).join(prog))
        .find(|p| p.is_file())
}
