//! The topologies tests share.

use crate::Netns;

/// A server host and a client host on one L2 segment: `srv` has `eth0`
/// with `{prefix}.1/24`, `cli` has `eth0` up with no address (for DHCP
/// clients) — `cli.addr("eth0", …)` gives it one.
pub struct Link {
    pub srv: Netns,
    pub cli: Netns,
    /// e.g. "10.201.1"
    pub prefix: String,
}

impl Link {
    pub fn new(prefix: &str) -> anyhow::Result<Link> {
        let srv = Netns::new("ls")?;
        let cli = Netns::new("lc")?;
        srv.veth("eth0", &cli, "eth0")?;
        srv.addr("eth0", &format!("{prefix}.1/24"))?;
        Ok(Link {
            srv,
            cli,
            prefix: prefix.to_string(),
        })
    }

    /// The server's address.
    pub fn server_ip(&self) -> String {
        format!("{}.1", self.prefix)
    }
}

/// A server, a router that relays DHCP, and a client segment behind it:
///
/// ```text
/// srv eth0 {up}.1/29 ── relay up0 {up}.2/29 | relay down0 {down}.1/24 ── cli eth0 (no address)
/// ```
///
/// The server routes `{down}.0/24` via the relay; the relay forwards.
pub struct Relayed {
    pub srv: Netns,
    pub relay: Netns,
    pub cli: Netns,
    pub up: String,
    pub down: String,
}

impl Relayed {
    /// `up` e.g. "10.202.0", `down` e.g. "10.202.9".
    pub fn new(up: &str, down: &str) -> anyhow::Result<Relayed> {
        let srv = Netns::new("rs")?;
        let relay = Netns::new("rr")?;
        let cli = Netns::new("rc")?;
        srv.veth("eth0", &relay, "up0")?;
        relay.veth("down0", &cli, "eth0")?;
        // A /29: room for a DHCP range on the rack's own segment too (MAAS
        // turns DHCP on only for a VLAN with a dynamic range).
        srv.addr("eth0", &format!("{up}.1/29"))?;
        relay.addr("up0", &format!("{up}.2/29"))?;
        relay.addr("down0", &format!("{down}.1/24"))?;
        relay.sysctl("net.ipv4.ip_forward=1")?;
        srv.ip(&[
            "route",
            "add",
            &format!("{down}.0/24"),
            "via",
            &format!("{up}.2"),
        ])?;
        Ok(Relayed {
            srv,
            relay,
            cli,
            up: up.to_string(),
            down: down.to_string(),
        })
    }

    /// The relay's address on the client segment (the giaddr it sets).
    pub fn giaddr(&self) -> String {
        format!("{}.1", self.down)
    }

    pub fn server_ip(&self) -> String {
        format!("{}.1", self.up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_client_reaches_the_server_and_nothing_is_left_behind() {
        if !crate::can_make_namespaces() {
            panic!("these tests need root (they make network namespaces)");
        }
        let names;
        {
            let r = Relayed::new("10.250.0", "10.250.9").unwrap();
            r.cli.addr("eth0", "10.250.9.50/24").unwrap();
            r.cli
                .ip(&["route", "add", "default", "via", &r.giaddr()])
                .unwrap();
            let srv_ip = r.server_ip();
            let server = r
                .srv
                .spawn(move || {
                    let s = std::net::UdpSocket::bind(format!("{srv_ip}:4999")).unwrap();
                    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                        .unwrap();
                    let mut buf = [0u8; 16];
                    s.recv_from(&mut buf)
                        .map(|(n, from)| (buf[..n].to_vec(), from))
                })
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
            let to = format!("{}:4999", r.server_ip());
            r.cli
                .spawn(move || {
                    let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
                    s.send_to(b"hello", to).unwrap();
                })
                .unwrap()
                .join()
                .unwrap();
            let (got, from) = server
                .join()
                .unwrap()
                .expect("the datagram crossed the relay");
            assert_eq!(got, b"hello");
            assert_eq!(from.ip().to_string(), "10.250.9.50");
            names = [
                r.srv.name().to_string(),
                r.relay.name().to_string(),
                r.cli.name().to_string(),
            ];
            let all = std::fs::read_dir("/run/netns").unwrap().count();
            assert!(all >= 3);
        }
        for n in names {
            assert!(
                !std::path::Path::new(&format!("/run/netns/{n}")).exists(),
                "{n} left behind"
            );
        }
    }

    #[test]
    fn a_thread_in_a_namespace_binds_its_addresses() {
        let l = Link::new("10.251.1").unwrap();
        let ip = l.server_ip();
        let h = l
            .srv
            .spawn(move || std::net::UdpSocket::bind(format!("{ip}:0")).is_ok())
            .unwrap();
        assert!(
            h.join().unwrap(),
            "the server's address is bindable inside its namespace"
        );
        // …and not from the root namespace.
        assert!(std::net::UdpSocket::bind("10.251.1.1:0").is_err());
    }

    #[test]
    fn a_forward_reaches_the_outside_from_inside_a_namespace() {
        use std::io::{Read, Write};
        let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = outside.local_addr().unwrap();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = outside.accept().unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).unwrap();
            s.write_all(&buf).unwrap();
        });
        let ns = crate::Netns::new("fw").unwrap();
        let fwd = ns
            .forward_tcp("127.0.0.1:0".parse().unwrap(), target)
            .unwrap();
        let listen = fwd.listen;
        let got = ns
            .spawn(move || {
                let mut s = std::net::TcpStream::connect(listen).unwrap();
                s.write_all(b"hello").unwrap();
                let mut buf = [0u8; 5];
                s.read_exact(&mut buf).unwrap();
                buf
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(&got, b"hello");
        echo.join().unwrap();
    }
}
