//! dhclient and busybox udhcpc against maas-dhcpd in network namespaces:
//! lease, renew, rebind (unicast to the server blackholed; dhclient), release.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use maas_lab::{Link, Proc, require_tools};

fn in_pool(ip: &str, prefix: &str) -> bool {
    ip.strip_prefix(&format!("{prefix}."))
        .and_then(|h| h.parse::<u8>().ok())
        .is_some_and(|h| (110..=199).contains(&h))
}

#[test]
fn dhclient_lease_renew_rebind_release() {
    require_tools(&["dhclient"]).unwrap();
    let s = Scratch::new("dhclient");
    let l = Link::new("10.201.1").unwrap();
    let mut sub = subnet("10.201.1", Some("eth0"), 30);
    // T1 4 s, T2 8 s: dhclient retransmits at random intervals and only
    // rebinds if one falls between T2 and expiry, so leave it 22 s (a
    // loaded machine stretches those intervals).
    sub["renew_time"] = 4.into();
    sub["rebind_time"] = 8.into();
    let cfg = serde_json::json!({ "subnets": [sub] });
    let _srv = start_server(&l.srv, &s.0, &cfg);
    let script = client_script(&s.0);
    let lf = s.path("dhclient.leases");
    let pf = s.path("dhclient.pid");
    let mut c = l.cli.cmd("dhclient");
    c.args(["-4", "-d", "-v", "-sf"])
        .arg(&script)
        .arg("-lf")
        .arg(&lf)
        .arg("-pf")
        .arg(&pf)
        .arg("eth0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(s.path("dhclient.log")).unwrap());
    let client = Proc::spawn(c).unwrap();
    let mac = mac_of(&l.cli, "eth0");

    wait_for("dhclient BOUND", Duration::from_secs(20), || {
        client_events(&s.0).contains("BOUND")
    });
    let ip = bound_ip(&s.0, &mac).expect("the server's log holds the lease");
    assert!(
        in_pool(&ip, "10.201.1"),
        "{ip} is in the pool, outside the excluded range"
    );
    assert!(addrs(&l.cli, "eth0").contains(&format!("{ip}/24")));
    let leases = std::fs::read_to_string(&lf).unwrap();
    assert!(leases.contains(&format!("fixed-address {ip};")), "{leases}");
    assert!(
        leases.contains("option domain-search \"maas.test.\", \"example.test.\""),
        "{leases}"
    );
    assert!(leases.contains("option routers 10.201.1.1;"), "{leases}");

    // Renew at T1 (4 s): unicast, same address, another commit.
    wait_for("dhclient RENEW", Duration::from_secs(20), || {
        client_events(&s.0).contains("RENEW")
    });
    let commits = |s: &Scratch| {
        lease_log(&s.0)
            .iter()
            .filter(|l| l.starts_with(&format!("L {ip} {mac}")))
            .count()
    };
    assert!(
        commits(&s) >= 2,
        "renewal was committed: {:?}",
        lease_log(&s.0)
    );

    // Rebind: unicast to the server is blackholed, so at T2 the client
    // broadcasts.
    let renewals = || {
        let e = client_events(&s.0);
        e.matches("RENEW").count() + e.matches("REBIND").count()
    };
    let before = renewals();
    let log_at = std::fs::read_to_string(s.path("dhclient.log"))
        .unwrap()
        .len();
    l.cli
        .ip(&["route", "add", "blackhole", "10.201.1.1/32"])
        .unwrap();
    // dhclient reports a rebind as RENEW: what proves it is the broadcast
    // REQUEST in its log after the unicast ones failed.
    wait_for(
        "dhclient rebound by broadcast",
        Duration::from_secs(40),
        || {
            let log = std::fs::read_to_string(s.path("dhclient.log")).unwrap_or_default();
            let after = log.get(log_at..).unwrap_or("");
            // A broadcast REQUEST that no OFFER preceded (REBINDING, not
            // a fresh DISCOVER cycle after an expiry), answered with an ACK.
            let lines: Vec<&str> = after.lines().collect();
            let rebound = lines.iter().enumerate().any(|(i, l)| {
                l.starts_with(&format!("DHCPREQUEST for {ip} on eth0 to 255.255.255.255"))
                    && i > 0
                    && !lines[i - 1].starts_with("DHCPOFFER")
                    && lines
                        .get(i + 1)
                        .is_some_and(|n| n.starts_with(&format!("DHCPACK of {ip}")))
            });
            renewals() > before && rebound
        },
    );
    assert_eq!(bound_ip(&s.0, &mac).as_deref(), Some(ip.as_str()));
    l.cli
        .ip(&["route", "del", "blackhole", "10.201.1.1/32"])
        .unwrap();

    // Release: dhclient -r stops the daemon and sends a RELEASE.
    let out = l
        .cli
        .cmd("dhclient")
        .args(["-4", "-r", "-sf"])
        .arg(&script)
        .arg("-lf")
        .arg(&lf)
        .arg("-pf")
        .arg(&pf)
        .arg("eth0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(client);
    wait_for("server freed the lease", Duration::from_secs(10), || {
        bound_ip(&s.0, &mac).is_none()
    });
    assert!(
        lease_log(&s.0)
            .iter()
            .any(|l| l.starts_with(&format!("F {ip} {mac}")))
    );
    assert!(!addrs(&l.cli, "eth0").contains(&ip));
}

#[test]
fn udhcpc_lease_renew_release() {
    let udhcpc = if maas_lab::which("udhcpc").is_some() {
        vec!["udhcpc"]
    } else {
        require_tools(&["busybox"]).unwrap();
        vec!["busybox", "udhcpc"]
    };
    require_tools(&[udhcpc[0]]).unwrap();
    let s = Scratch::new("udhcpc");
    let l = Link::new("10.201.2").unwrap();
    let cfg = serde_json::json!({"subnets": [subnet("10.201.2", Some("eth0"), 300)]});
    let _srv = start_server(&l.srv, &s.0, &cfg);
    let script = client_script(&s.0);
    let mut c = l.cli.cmd(udhcpc[0]);
    c.args(&udhcpc[1..])
        .args([
            "-i",
            "eth0",
            "-f",
            "-R",
            "-t",
            "5",
            "-T",
            "1",
            "-x",
            "hostname:node7",
            "-s",
        ])
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(s.path("udhcpc.log")).unwrap());
    let client = Proc::spawn(c).unwrap();
    let mac = mac_of(&l.cli, "eth0");
    wait_for("udhcpc bound", Duration::from_secs(20), || {
        client_events(&s.0).contains("bound")
    });
    let ip = bound_ip(&s.0, &mac).expect("lease in the server's log");
    assert!(in_pool(&ip, "10.201.2"));
    assert!(addrs(&l.cli, "eth0").contains(&format!("{ip}/24")));
    assert!(
        lease_log(&s.0).iter().any(|l| l.ends_with(" node7")),
        "hostname recorded: {:?}",
        lease_log(&s.0)
    );
    // udhcpc clamps leases to at least 122 s, so T1 is a minute away:
    // SIGUSR1 asks it to renew now (unicast to the server).
    let commits = || {
        lease_log(&s.0)
            .iter()
            .filter(|l| l.starts_with(&format!("L {ip} {mac}")))
            .count()
    };
    let before = commits();
    client.signal(libc::SIGUSR1);
    wait_for("udhcpc renew committed", Duration::from_secs(15), || {
        commits() > before && client_events(&s.0).contains("renew")
    });
    assert_eq!(bound_ip(&s.0, &mac).as_deref(), Some(ip.as_str()));
    // -R: release on exit.
    client.signal(libc::SIGTERM);
    wait_for("server freed the lease", Duration::from_secs(10), || {
        bound_ip(&s.0, &mac).is_none()
    });
    drop(client);
}
