//! A relayed subnet through isc-dhcp-relay (with option 82), perfdhcp
//! directly and as a relay, and maas-dhcpd SIGKILLed under load.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use maas_lab::{Link, Proc, Relayed, require_tools};

#[test]
fn dhcrelay_serves_a_relayed_subnet_end_to_end() {
    require_tools(&["dhcrelay", "dhclient"]).unwrap();
    let s = Scratch::new("relay");
    let r = Relayed::new("10.202.0", "10.202.9").unwrap();
    // The server's own segment is not served; only the relayed subnet.
    let cfg = serde_json::json!({"subnets": [subnet("10.202.9", None, 600)]});
    let _srv = start_server(&r.srv, &s.0, &cfg);
    let mut relay = r.relay.cmd("dhcrelay");
    relay
        .args(["-4", "-d", "-a", "-id", "down0", "-iu", "up0", "--no-pid"])
        .arg(r.server_ip())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(s.path("dhcrelay.log")).unwrap());
    let _relay = Proc::spawn(relay).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let script = client_script(&s.0);
    let mut c = r.cli.cmd("dhclient");
    c.args(["-4", "-d", "-v", "-sf"])
        .arg(&script)
        .arg("-lf")
        .arg(s.path("l"))
        .arg("-pf")
        .arg(s.path("p"))
        .arg("eth0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(s.path("dhclient.log")).unwrap());
    let _client = Proc::spawn(c).unwrap();
    let mac = mac_of(&r.cli, "eth0");
    wait_for("relayed client BOUND", Duration::from_secs(30), || {
        client_events(&s.0).contains("BOUND")
    });
    let ip = bound_ip(&s.0, &mac).expect("lease in the server's log");
    assert!(ip.starts_with("10.202.9."), "{ip} is in the relayed subnet");
    assert!(addrs(&r.cli, "eth0").contains(&format!("{ip}/24")));
    let leases = std::fs::read_to_string(s.path("l")).unwrap();
    assert!(leases.contains("option routers 10.202.9.1;"), "{leases}");
    // dhcrelay -a adds option 82 and only forwards replies that echo it.
    let relay_log = std::fs::read_to_string(s.path("dhcrelay.log")).unwrap();
    assert!(
        !relay_log.contains("missing") && !relay_log.contains("bad agent"),
        "{relay_log}"
    );
}

/// A /16 with 65k pool addresses for perfdhcp.
fn big_subnet(iface: Option<&str>) -> serde_json::Value {
    serde_json::json!({"subnets": [{
        "cidr": "10.203.0.0/16",
        "interface": iface,
        "router": "10.203.0.1",
        "lease_time": 3600,
        "ranges": [{"start": "10.203.1.0", "end": "10.203.255.254"}],
    }]})
}

/// perfdhcp's received REQUEST-ACK count and DISCOVERs sent.
fn perf_counts(out: &str) -> (u64, u64) {
    let mut sent_discover = 0;
    let mut acks = 0;
    let mut section = "";
    for line in out.lines() {
        if line.contains("Statistics for: DISCOVER-OFFER") {
            section = "do";
        } else if line.contains("Statistics for: REQUEST-ACK") {
            section = "ra";
        }
        let num = |l: &str| {
            l.split(':')
                .nth(1)
                .and_then(|v| v.trim().split(' ').next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if line.trim_start().starts_with("sent packets") && section == "do" {
            sent_discover = num(line).unwrap_or(0);
        }
        if line.trim_start().starts_with("received packets") && section == "ra" {
            acks = num(line).unwrap_or(0);
        }
    }
    (acks, sent_discover)
}

fn perfdhcp(ns: &maas_lab::Netns, args: &[&str]) -> String {
    let out = ns
        .cmd("timeout")
        .arg("60")
        .arg("perfdhcp")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("perfdhcp runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn perfdhcp_direct_broadcast_200_leases() {
    require_tools(&["perfdhcp"]).unwrap();
    let s = Scratch::new("perf-l2");
    let l = Link::new("10.203.0").unwrap();
    // Link gives the server 10.203.0.1/24; widen it to the /16.
    l.srv.ip(&["addr", "flush", "dev", "eth0"]).unwrap();
    l.srv.addr("eth0", "10.203.0.1/16").unwrap();
    // perfdhcp insists on an address on its interface even in L2 mode; its
    // packets still carry ciaddr 0 and no giaddr.
    l.cli.addr("eth0", "10.203.0.2/16").unwrap();
    let _srv = start_server(&l.srv, &s.0, &big_subnet(Some("eth0")));
    let out = perfdhcp(
        &l.cli,
        &[
            "-4", "-l", "eth0", "-B", "-r", "100", "-R", "1000", "-n", "200", "-p", "10", "-W",
            "1000000",
        ],
    );
    let (acks, sent) = perf_counts(&out);
    assert!(sent >= 190, "perfdhcp sent {sent} DISCOVERs:\n{out}");
    assert!(
        acks * 100 >= sent * 99,
        "{acks} ACKs for {sent} DISCOVERs:\n{out}"
    );
    let n = lease_log(&s.0)
        .iter()
        .filter(|l| l.starts_with("L "))
        .count() as u64;
    assert!(n >= acks, "{n} leases logged for {acks} ACKs");
}

#[test]
fn perfdhcp_as_relay_200_leases() {
    require_tools(&["perfdhcp"]).unwrap();
    let s = Scratch::new("perf-relay");
    let l = Link::new("10.204.0").unwrap();
    l.cli.addr("eth0", "10.203.0.2/16").unwrap();
    l.srv.addr("eth0", "10.203.0.1/16").unwrap();
    let _srv = start_server(&l.srv, &s.0, &big_subnet(None));
    let out = perfdhcp(
        &l.cli,
        &[
            "-4",
            "-l",
            "10.203.0.2",
            "-r",
            "100",
            "-R",
            "1000",
            "-n",
            "200",
            "-p",
            "10",
            "-W",
            "1000000",
            "10.203.0.1",
        ],
    );
    let (acks, sent) = perf_counts(&out);
    assert!(sent >= 190, "perfdhcp sent {sent} DISCOVERs:\n{out}");
    assert!(
        acks * 100 >= sent * 99,
        "{acks} ACKs for {sent} DISCOVERs:\n{out}"
    );
}

/// L lines of a log as (ip, mac) pairs, in order.
fn commits(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() == 5 && f[0] == "L").then(|| (f[1].to_string(), f[2].to_string()))
        })
        .collect()
}

#[test]
fn sigkill_under_load_never_gives_one_address_to_two_clients() {
    require_tools(&["perfdhcp"]).unwrap();
    let s = Scratch::new("kill");
    let l = Link::new("10.205.0").unwrap();
    l.cli.addr("eth0", "10.203.0.2/16").unwrap();
    l.srv.addr("eth0", "10.203.0.1/16").unwrap();
    let mut srv = start_server(&l.srv, &s.0, &big_subnet(None));
    let load = |secs: &str| {
        let mut c = l.cli.cmd("perfdhcp");
        c.args([
            "-4",
            "-l",
            "10.203.0.2",
            "-r",
            "1000",
            "-R",
            "4000",
            "-p",
            secs,
            "10.203.0.1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        Proc::spawn(c).unwrap()
    };
    let perf = load("6");
    std::thread::sleep(Duration::from_millis(2500));
    srv.signal(libc::SIGKILL);
    srv.wait_timeout(Duration::from_secs(5)).unwrap();
    let before = lease_log(&s.0);
    let pre = commits(&before);
    assert!(
        pre.len() > 100,
        "the load committed leases before the kill: {}",
        pre.len()
    );
    let mut owner: HashMap<String, String> = HashMap::new();
    for (ip, mac) in &pre {
        owner.insert(ip.clone(), mac.clone());
    }
    drop(perf);
    // Restart (the log is compacted on open) and load again with the same
    // client population.
    let _srv2 = start_server(&l.srv, &s.0, &big_subnet(None));
    let after = lease_log(&s.0);
    let reloaded = commits(&after);
    assert_eq!(
        reloaded.len(),
        owner.len(),
        "every lease before the kill survived the restart"
    );
    let perf2 = load("3");
    let mut perf2 = perf2;
    let _ = perf2.wait_timeout(Duration::from_secs(30));
    let fin = lease_log(&s.0);
    let new = commits(&fin[after.len()..]);
    assert!(new.len() > 100, "the second load got leases: {}", new.len());
    for (ip, mac) in &new {
        if let Some(o) = owner.get(ip) {
            assert_eq!(
                o, mac,
                "{ip} was leased to {o} before the kill, then to {mac}"
            );
        }
    }
}
