//! One server, two served interfaces (one subnet each, as a rack serving
//! two VLANs). Each client gets an address in its own interface's subnet:
//! the receiving interface picks the subnet and replies leave through it.
//! (A tagged VLAN device is just another interface to the server; this
//! machine's kernel has no 802.1q support, so the second segment is a
//! second veth pair.)

mod common;

use std::process::Stdio;

use common::*;
use maas_lab::{Link, require_tools};

fn udhcpc(l: &Link, s: &Scratch, dev: &str) -> String {
    let (prog, pre): (&str, &[&str]) = if maas_lab::which("udhcpc").is_some() {
        ("udhcpc", &[])
    } else {
        ("busybox", &["udhcpc"])
    };
    let out = l
        .cli
        .cmd(prog)
        .args(pre)
        .args(["-i", dev, "-n", "-q", "-f", "-t", "5", "-T", "1", "-s"])
        .arg(client_script(&s.0))
        .stdin(Stdio::null())
        .output()
        .expect("udhcpc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn two_interfaces_are_served_their_own_subnets() {
    require_tools(&["busybox"]).unwrap();
    let s = Scratch::new("multi");
    let l = Link::new("10.207.1").unwrap();
    l.srv.veth("eth1", &l.cli, "eth1").unwrap();
    l.srv.addr("eth1", "10.207.10.1/24").unwrap();
    let cfg = serde_json::json!({"subnets": [
        subnet("10.207.1", Some("eth0"), 600),
        subnet("10.207.10", Some("eth1"), 600),
    ]});
    let _srv = start_server(&l.srv, &s.0, &cfg);
    let second = udhcpc(&l, &s, "eth1");
    assert!(second.contains("lease of 10.207.10.1"), "{second}");
    assert!(second.contains("obtained from 10.207.10.1"), "{second}");
    let first = udhcpc(&l, &s, "eth0");
    assert!(first.contains("lease of 10.207.1.1"), "{first}");
    assert!(first.contains("obtained from 10.207.1.1,"), "{first}");
}
