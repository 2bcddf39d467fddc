//! Helpers the interop tests share: a scratch dir, maas-dhcpd started in a
//! namespace, the lease log read back, polling.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use maas_lab::{Netns, Proc};

pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(maas_lab::unique_name(&format!("dhcp-{tag}-")));
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("scratch kept for inspection: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Starts maas-dhcpd in `ns` with `config` (JSON), data in `dir/data`.
pub fn start_server(ns: &Netns, dir: &Path, config: &serde_json::Value) -> Proc {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, config.to_string()).expect("write config");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("log");
    let mut cmd = ns.cmd(env!("CARGO_BIN_EXE_maas-dhcpd"));
    cmd.arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--metrics-file")
        .arg(dir.join("metrics.prom"))
        .env("RUST_LOG", "maas_dhcp=debug")
        .stdout(Stdio::null())
        .stderr(log);
    let p = Proc::spawn(cmd).expect("start maas-dhcpd");
    wait_for("maas-dhcpd listening", Duration::from_secs(10), || {
        std::fs::read_to_string(dir.join("server.log"))
            .map(|s| s.matches("DHCPv4 server listening").count() >= 1)
            .unwrap_or(false)
    });
    p
}

/// The lease log's lines.
pub fn lease_log(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("data/leases.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The current bound lease (ip) of `mac` per the log (last word wins).
pub fn bound_ip(dir: &Path, mac: &str) -> Option<String> {
    let mut cur = None;
    for l in lease_log(dir) {
        let f: Vec<&str> = l.split(' ').collect();
        if f.len() == 5 && f[2] == mac {
            cur = match f[0] {
                "L" => Some(f[1].to_string()),
                _ => None,
            };
        }
    }
    cur
}

pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for: {what}");
}

pub fn mac_of(ns: &Netns, dev: &str) -> String {
    let out = ns
        .output("cat", &[&format!("/sys/class/net/{dev}/address")])
        .expect("mac");
    out.trim().to_string()
}

pub fn addrs(ns: &Netns, dev: &str) -> String {
    ns.output("ip", &["-4", "-o", "addr", "show", "dev", dev])
        .unwrap_or_default()
}

pub fn metric(dir: &Path, line_prefix: &str) -> u64 {
    std::fs::read_to_string(dir.join("metrics.prom"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A subnet config for `prefix`.0/24 on `iface` with pool .100-.199.
pub fn subnet(prefix: &str, iface: Option<&str>, lease_time: u32) -> serde_json::Value {
    serde_json::json!({
        "cidr": format!("{prefix}.0/24"),
        "interface": iface,
        "router": format!("{prefix}.1"),
        "dns_servers": [format!("{prefix}.1")],
        "domain": "maas.test",
        "search": ["maas.test", "example.test"],
        "ntp_servers": [format!("{prefix}.1")],
        "mtu": 1500,
        "lease_time": lease_time,
        "ranges": [{"start": format!("{prefix}.100"), "end": format!("{prefix}.199")}],
        "excluded": [{"start": format!("{prefix}.100"), "end": format!("{prefix}.109")}],
    })
}

/// A DHCP client script that configures the address and logs each reason.
pub fn client_script(dir: &Path) -> PathBuf {
    let p = dir.join("client-script.sh");
    let log = dir.join("client-events.log");
    let s = format!(
        r#"#!/bin/sh
# dhclient passes $reason; udhcpc passes $1.
R="${{reason:-$1}}"
IP="${{new_ip_address:-$ip}}"
echo "$R $IP" >> {log}
case "$R" in
  BOUND|RENEW|REBIND|REBOOT|bound|renew)
    ip addr replace "$IP/24" dev "$interface" ;;
  RELEASE|EXPIRE|STOP|deconfig)
    ip addr flush dev "$interface" ;;
esac
exit 0
"#,
        log = log.display()
    );
    std::fs::write(&p, s).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

pub fn client_events(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("client-events.log")).unwrap_or_default()
}
