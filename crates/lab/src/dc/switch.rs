//! The segment's switch as LLDP shows it: every second each machine's port
//! (its tap) announces the switch's chassis, the port's name and the
//! switch's management address, as a real top-of-rack switch does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Netns;

/// The switch's name in its announcements.
pub const SYSTEM_NAME: &str = "maas-lab-switch";

pub struct Switch {
    ports: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    chassis: [u8; 6],
}

impl Switch {
    /// Starts announcing in `ns`; `mgmt` is the switch's IPv4 address.
    pub fn start(ns: &Netns, mgmt: std::net::Ipv4Addr) -> anyhow::Result<Switch> {
        let o = mgmt.octets();
        let chassis = [0x02, 0x00, 0x5e, o[1], o[2], o[3]];
        let ports: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop: Arc<AtomicBool> = Arc::default();
        let (p, s) = (ports.clone(), stop.clone());
        ns.spawn(move || announce(&p, &s, chassis, mgmt))?;
        Ok(Switch {
            ports,
            stop,
            chassis,
        })
    }

    /// A machine's tap becomes a port that announces.
    pub fn add_port(&self, tap: &str) {
        self.ports.lock().unwrap().push(tap.to_string());
    }

    /// The chassis id its frames carry (a MAC).
    pub fn chassis_mac(&self) -> String {
        self.chassis
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn announce(
    ports: &Mutex<Vec<String>>,
    stop: &AtomicBool,
    chassis: [u8; 6],
    mgmt: std::net::Ipv4Addr,
) {
    // SAFETY: plain socket(2), closed below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    if fd < 0 {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        let names = ports.lock().unwrap().clone();
        for name in names {
            let Ok(c) = std::ffi::CString::new(name.as_str()) else {
                continue;
            };
            // SAFETY: c is a valid C string.
            let index = unsafe { libc::if_nametoindex(c.as_ptr()) } as i32;
            if index == 0 {
                continue;
            }
            let frame = lldpdu(chassis, &name, mgmt);
            // SAFETY: an all-zero sockaddr_ll is valid; fields set below.
            let mut to: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            to.sll_family = libc::AF_PACKET as u16;
            to.sll_ifindex = index;
            to.sll_halen = 6;
            to.sll_addr[..6].copy_from_slice(&frame[..6]);
            // SAFETY: frame and to are valid for the lengths given. A port
            // whose machine is off just fails (nothing reads the tap).
            unsafe {
                libc::sendto(
                    fd,
                    frame.as_ptr().cast(),
                    frame.len(),
                    0,
                    (&to as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                );
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
}

fn tlv(kind: u16, v: &[u8]) -> Vec<u8> {
    let head = (kind << 9) | v.len() as u16;
    [&head.to_be_bytes()[..], v].concat()
}

/// An IEEE 802.1AB frame: chassis (MAC), port (interface name), TTL 120,
/// port and system descriptions, capabilities (bridge), management address.
pub fn lldpdu(chassis: [u8; 6], port: &str, mgmt: std::net::Ipv4Addr) -> Vec<u8> {
    let mut f = vec![0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
    f.extend(chassis);
    f.extend(0x88ccu16.to_be_bytes());
    f.extend(tlv(1, &[&[4][..], &chassis].concat()));
    f.extend(tlv(2, &[&[5][..], port.as_bytes()].concat()));
    f.extend(tlv(3, &120u16.to_be_bytes()));
    f.extend(tlv(4, format!("lab port {port}").as_bytes()));
    f.extend(tlv(5, SYSTEM_NAME.as_bytes()));
    f.extend(tlv(6, b"maas-lab switch (network namespace bridge)"));
    f.extend(tlv(7, &[0x00, 0x04, 0x00, 0x04]));
    let mut m = vec![5, 1];
    m.extend(mgmt.octets());
    m.extend([2, 0, 0, 0, 0, 0]);
    f.extend(tlv(8, &m));
    f.extend(tlv(0, &[]));
    f
}
