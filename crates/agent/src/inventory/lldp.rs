//! LLDP neighbours: what the switch ports a machine is cabled to announce
//! (IEEE 802.1AB), heard on every NIC during commissioning and kept as the
//! XML document `lldpcli show neighbors -f xml` prints, which is what MAAS
//! stores as the `lldp` part of `op=details`.

use std::time::{Duration, Instant};

/// The LLDP ethertype.
pub const ETHERTYPE: u16 = 0x88cc;
/// The nearest-bridge group address LLDP frames go to.
pub const GROUP: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];

/// One neighbour as heard on `iface`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Neighbor {
    pub iface: String,
    /// (lldpd's name of the subtype, value)
    pub chassis_id: (String, String),
    pub port_id: (String, String),
    pub ttl: u16,
    pub port_descr: Option<String>,
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    /// (capability, enabled)
    pub caps: Vec<(&'static str, bool)>,
    pub mgmt_ips: Vec<String>,
}

/// Parses an Ethernet frame carrying an LLDPDU (optionally 802.1Q-tagged).
/// `None` for anything else or a malformed PDU; never panics.
pub fn parse(frame: &[u8], iface: &str) -> Option<Neighbor> {
    let mut off = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    if ethertype == 0x8100 {
        off += 4;
        ethertype = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
    }
    if ethertype != ETHERTYPE {
        return None;
    }
    let mut pdu = frame.get(off + 2..)?;
    let mut n = Neighbor {
        iface: iface.into(),
        ..Default::default()
    };
    let (mut chassis, mut port, mut ttl) = (false, false, false);
    while pdu.len() >= 2 {
        let head = u16::from_be_bytes([pdu[0], pdu[1]]);
        let (kind, len) = (head >> 9, usize::from(head & 0x1ff));
        let v = pdu.get(2..2 + len)?;
        pdu = &pdu[2 + len..];
        match kind {
            0 => break,
            1 if !v.is_empty() => {
                n.chassis_id = id(chassis_subtype(v[0]), &v[1..]);
                chassis = true;
            }
            2 if !v.is_empty() => {
                n.port_id = id(port_subtype(v[0]), &v[1..]);
                port = true;
            }
            3 if v.len() >= 2 => {
                n.ttl = u16::from_be_bytes([v[0], v[1]]);
                ttl = true;
            }
            4 => n.port_descr = Some(text(v)),
            5 => n.sys_name = Some(text(v)),
            6 => n.sys_descr = Some(text(v)),
            7 if v.len() >= 4 => {
                let have = u16::from_be_bytes([v[0], v[1]]);
                let on = u16::from_be_bytes([v[2], v[3]]);
                for (bit, name) in CAPS.iter().enumerate() {
                    if have & (1 << bit) != 0 {
                        n.caps.push((name, on & (1 << bit) != 0));
                    }
                }
            }
            8 if v.len() >= 2 => {
                let alen = usize::from(v[0]);
                if let Some(a) = v.get(2..1 + alen) {
                    match (v[1], a.len()) {
                        (1, 4) => n
                            .mgmt_ips
                            .push(format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])),
                        (2, 16) => {
                            let b: [u8; 16] = a.try_into().ok()?;
                            n.mgmt_ips.push(std::net::Ipv6Addr::from(b).to_string());
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    (chassis && port && ttl).then_some(n)
}

const CAPS: [&str; 11] = [
    "Other", "Repeater", "Bridge", "Wlan", "Router", "Tel", "Docsis", "Station", "CVLAN", "SVLAN",
    "TPMR",
];

fn chassis_subtype(s: u8) -> &'static str {
    match s {
        1 => "chassis",
        2 => "ifalias",
        3 => "port",
        4 => "mac",
        5 => "ip",
        6 => "ifname",
        _ => "local",
    }
}

fn port_subtype(s: u8) -> &'static str {
    match s {
        1 => "ifalias",
        2 => "port",
        3 => "mac",
        4 => "ip",
        5 => "ifname",
        6 => "agentcid",
        _ => "local",
    }
}

/// An id's value as lldpd shows it: MACs as colon hex, addresses dotted,
/// printable text as is, anything else as hex.
fn id(kind: &str, v: &[u8]) -> (String, String) {
    let value = match kind {
        "mac" if v.len() == 6 => hex(v, ":"),
        "ip" if v.len() == 5 && v[0] == 1 => format!("{}.{}.{}.{}", v[1], v[2], v[3], v[4]),
        _ if v.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => text(v),
        _ => hex(v, ":"),
    };
    (kind.to_string(), value)
}

fn hex(v: &[u8], sep: &str) -> String {
    v.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The neighbours as `lldpcli show neighbors -f xml` prints them.
pub fn xml(neighbors: &[Neighbor]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lldp label=\"LLDP neighbors\">\n",
    );
    for (i, n) in neighbors.iter().enumerate() {
        x += &format!(
            " <interface label=\"Interface\" name=\"{}\" via=\"LLDP\" rid=\"{}\">\n  <chassis label=\"Chassis\">\n",
            esc(&n.iface),
            i + 1
        );
        x += &format!(
            "   <id label=\"ChassisID\" type=\"{}\">{}</id>\n",
            n.chassis_id.0,
            esc(&n.chassis_id.1)
        );
        if let Some(s) = &n.sys_name {
            x += &format!("   <name label=\"SysName\">{}</name>\n", esc(s));
        }
        if let Some(s) = &n.sys_descr {
            x += &format!("   <descr label=\"SysDescr\">{}</descr>\n", esc(s));
        }
        for ip in &n.mgmt_ips {
            x += &format!("   <mgmt-ip label=\"MgmtIP\">{ip}</mgmt-ip>\n");
        }
        for (cap, on) in &n.caps {
            let on = if *on { "on" } else { "off" };
            x +=
                &format!("   <capability label=\"Capability\" type=\"{cap}\" enabled=\"{on}\"/>\n");
        }
        x += "  </chassis>\n  <port label=\"Port\">\n";
        x += &format!(
            "   <id label=\"PortID\" type=\"{}\">{}</id>\n",
            n.port_id.0,
            esc(&n.port_id.1)
        );
        if let Some(s) = &n.port_descr {
            x += &format!("   <descr label=\"PortDescr\">{}</descr>\n", esc(s));
        }
        x += &format!(
            "   <ttl label=\"TTL\">{}</ttl>\n  </port>\n </interface>\n",
            n.ttl
        );
    }
    if neighbors.is_empty() {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lldp label=\"LLDP neighbors\"/>\n"
            .into();
    }
    x + "</lldp>\n"
}

/// Listens on `ifaces` (name, index) for `window`, or until each has
/// been heard from; one neighbour per (interface, chassis, port), latest
/// kept. Errors opening the socket mean no neighbours, with the reason.
pub fn capture(ifaces: &[(String, i32)], window: Duration) -> Result<Vec<Neighbor>, String> {
    if ifaces.is_empty() {
        return Ok(Vec::new());
    }
    let sock = raw::Socket::open(ifaces)?;
    let deadline = Instant::now() + window;
    let mut out: Vec<Neighbor> = Vec::new();
    let mut buf = [0u8; 1600];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if !out.is_empty()
            && ifaces
                .iter()
                .all(|(name, _)| out.iter().any(|n| &n.iface == name))
        {
            break;
        }
        let Some((len, ifindex)) = sock.recv(&mut buf, left) else {
            continue;
        };
        let Some((name, _)) = ifaces.iter().find(|(_, i)| *i == ifindex) else {
            continue;
        };
        if let Some(n) = parse(&buf[..len], name) {
            out.retain(|o| {
                (&o.iface, &o.chassis_id, &o.port_id) != (&n.iface, &n.chassis_id, &n.port_id)
            });
            out.push(n);
        }
    }
    out.sort_by(|a, b| a.iface.cmp(&b.iface));
    Ok(out)
}

mod raw;
pub use raw::ifindex;

#[cfg(test)]
mod tests;
