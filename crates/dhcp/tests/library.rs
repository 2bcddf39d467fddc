//! The API the rack uses: `DhcpServer::start` with a config `watch`
//! channel and a lease-event channel; a new config applies at run time
//! without dropping leases.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use maas_dhcp::{Config, DhcpServer, ServerOptions};
use maas_lab::{Link, require_tools};

fn udhcpc_once(l: &Link, s: &Scratch) -> String {
    let (prog, pre): (&str, &[&str]) = if maas_lab::which("udhcpc").is_some() {
        ("udhcpc", &[])
    } else {
        ("busybox", &["udhcpc"])
    };
    let out = l
        .cli
        .cmd(prog)
        .args(pre)
        .args(["-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1", "-s"])
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
fn events_flow_and_a_new_config_applies_without_dropping_leases() {
    require_tools(&["busybox"]).unwrap();
    let s = Scratch::new("lib");
    let l = Link::new("10.206.1").unwrap();
    let cfg1: Config = serde_json::from_value(serde_json::json!({
        "subnets": [subnet("10.206.1", Some("eth0"), 600)]
    }))
    .unwrap();
    let (cfg_tx, cfg_rx) = tokio::sync::watch::channel(cfg1.clone());
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::channel(64);
    let data = s.path("data");
    let server = l
        .srv
        .spawn(move || {
            DhcpServer::start(
                ServerOptions {
                    data_dir: data,
                    ..ServerOptions::default()
                },
                cfg_rx,
                Some(ev_tx),
            )
        })
        .unwrap()
        .join()
        .unwrap()
        .expect("server starts");

    let out = udhcpc_once(&l, &s);
    assert!(out.contains("lease of 10.206.1.1"), "{out}");
    let ev = ev_rx.try_recv().expect("a commit event");
    assert_eq!(ev.action, "commit");
    assert_eq!(ev.mac, mac_of(&l.cli, "eth0"));
    assert_eq!(ev.lease_time, 600);
    let first = server.leases();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].ip.to_string(), ev.ip);

    // Move the pool: the lease is kept, the next client is served from the
    // new pool.
    let mut cfg2 = cfg1.clone();
    cfg2.subnets[0].ranges = vec![maas_dhcp::IpRange {
        start: "10.206.1.200".parse().unwrap(),
        end: "10.206.1.210".parse().unwrap(),
    }];
    cfg2.subnets[0].excluded.clear();
    cfg_tx.send(cfg2).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    l.cli
        .ip(&["link", "set", "eth0", "address", "52:54:00:aa:bb:01"])
        .unwrap();
    let out = udhcpc_once(&l, &s);
    assert!(out.contains("lease of 10.206.1.20"), "{out}");
    let leases = server.leases();
    assert_eq!(leases.len(), 2, "{leases:?}");
    assert!(leases.iter().any(|x| x.ip == first[0].ip));
    let mut prom = String::new();
    server.metrics().render_prometheus(&mut prom);
    assert!(
        prom.contains("maas_dhcp_leases_committed_total 2"),
        "{prom}"
    );
    server.stop();
}
