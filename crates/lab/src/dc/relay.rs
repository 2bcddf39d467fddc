//! A relayed segment of the datacenter: a router host whose own bridge
//! carries machines, and whose DHCP relay (isc-dhcp-relay's `dhcrelay`)
//! forwards their DHCP to the rack.
//!
//! ```text
//! ns "dc…" br0 {prefix}.1 ── veth ── {prefix}.25x up0 | ns "dr…" (router, ip_forward)
//!                                                     br0 {down}.1/24 ── taps, BMCs {down}.2xx
//! ```
//!
//! The rack's namespace routes `{down}.0/24` via the router; machines get
//! `{down}.1` as their gateway from the relayed subnet's DHCP answer.

use std::process::Stdio;

use crate::{Netns, Proc};

/// A relayed segment (its router's namespace holds its machines).
pub struct Segment {
    /// The router host: `up0` on the rack's bridge, `br0` for machines.
    pub ns: Netns,
    /// e.g. "10.72.9": the router is `.1` there.
    pub prefix: String,
    /// The router's address on the rack's segment (the relay's upstream).
    pub up_ip: String,
    _relay: Proc,
    _ra: Option<Proc>,
}

impl Segment {
    pub(super) fn new(
        dc: &super::Datacenter,
        index: usize,
        down: &str,
        router_adverts: bool,
    ) -> anyhow::Result<Segment> {
        crate::require_tools(&["dhcrelay"])?;
        let ns = Netns::new("dr")?;
        let up_if = format!("rl{index}");
        dc.ns.veth(&up_if, &ns, "up0")?;
        dc.ns.ip(&["link", "set", &up_if, "master", "br0"])?;
        let up_ip = format!("{}.{}", dc.prefix, 250 - index.min(40));
        ns.addr("up0", &format!("{up_ip}/24"))?;
        ns.bridge("br0")?;
        ns.addr("br0", &format!("{down}.1/24"))?;
        ns.sysctl("net.ipv4.ip_forward=1")?;
        dc.ns
            .ip(&["route", "add", &format!("{down}.0/24"), "via", &up_ip])?;
        let dir = dc.dir.join(format!("relay{index}"));
        std::fs::create_dir_all(&dir)?;
        let mut c = ns.cmd("dhcrelay");
        c.args(["-4", "-d", "-a", "-id", "br0", "-iu", "up0", "--no-pid"])
            .arg(dc.rack_ip())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("dhcrelay.log"))?);
        super::machine::die_with_parent(&mut c);
        let relay = Proc::spawn(c)?;
        let ra = if router_adverts {
            Some(super::start_ra(&ns, &dir)?)
        } else {
            None
        };
        Ok(Segment {
            ns,
            prefix: down.to_string(),
            up_ip,
            _relay: relay,
            _ra: ra,
        })
    }
}
