//! A rack in a lab namespace, enrolled with an in-process region through a
//! TCP forward, configured only through the region's API.
//!
//! Topology: the rack runs in namespace `srv` (eth0 {prefix}.1/24), clients
//! in `cli` on the same link; the region's RPC is reached at
//! 127.0.0.1:5250 inside `srv`.

#![allow(dead_code)]

pub mod lab;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maas_lab::{Forward, Link, Netns};
use maas_testkit::TestRegion;
use maas_testkit::proc::Proc;
#[allow(unused_imports)]
pub use maas_testkit::wait_for;
use serde_json::Value;

const CLIENT_SCRIPT: &str = r#"#!/bin/sh
# udhcpc hook: record what the server handed out, configure the address.
echo "$1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain" >> "$LOG"
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
"#;

pub fn rack_cmd(ns: &Netns, dir: &Path, secret: &str, prefix: &str) -> Command {
    let mut c = ns.cmd(env!("CARGO_BIN_EXE_maas-rack"));
    c.args([
        "serve",
        "--region",
        "https://127.0.0.1:5250",
        "--secret",
        secret,
    ])
    .args(["--hostname", "rack-ns", "--http-listen", "127.0.0.1:5249"])
    .args(["--dns-listen", &format!("{prefix}.1:53")])
    .arg("--data-dir")
    .arg(dir);
    c
}

/// One DHCP exchange with udhcpc from `cli`; the address it bound.
pub fn lease(cli: &Netns, dir: &Path, tag: &str) -> Option<String> {
    let script = dir.join("udhcpc.sh");
    std::fs::write(&script, CLIENT_SCRIPT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.join(format!("udhcpc-{tag}.log"));
    let out = cli
        .cmd("udhcpc")
        .args(["-i", "eth0", "-q", "-n", "-t", "6", "-T", "1", "-s"])
        .arg(&script)
        .env("LOG", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if !out.success() {
        eprintln!("udhcpc ({tag}) failed: {text}");
        return None;
    }
    text.lines()
        .find(|l| l.starts_with("bound "))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix("ip=")))
        .map(String::from)
}

pub fn dig(cli: &Netns, prefix: &str, args: &[&str]) -> String {
    let server = format!("@{prefix}.1");
    let mut a = vec![server.as_str(), "+short", "+time=2", "+tries=2"];
    a.extend_from_slice(args);
    cli.output("dig", &a).unwrap_or_default().trim().to_string()
}

pub fn in_range(ip: &str, prefix: &str) -> bool {
    ip.strip_prefix(&format!("{prefix}."))
        .and_then(|h| h.parse::<u8>().ok())
        .is_some_and(|h| (100..=150).contains(&h))
}

/// Wait until the region knows a rack and its subnet `{prefix}.0/24`:
/// (rack system id, subnet). `log` names what to show on a timeout.
pub async fn rack_and_subnet(
    r: &TestRegion,
    prefix: &str,
    log: impl Fn() -> String,
) -> (String, Value) {
    let cidr = format!("{prefix}.0/24");
    let t0 = Instant::now();
    loop {
        let (_, racks) = r.admin.get("rackcontrollers/", &[]).await;
        let rack_id = racks[0]["system_id"].as_str().unwrap_or("").to_string();
        let (_, subnets) = r.admin.get("subnets/", &[]).await;
        let subnet = subnets
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["cidr"] == cidr.as_str())
            .cloned();
        if let (false, Some(s)) = (rack_id.is_empty(), subnet) {
            return (rack_id, s);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the rack's subnet never reached the region: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Through the API only: a dynamic range .100–.150 on `subnet` and DHCP on
/// its VLAN with `rack_id` as primary.
pub async fn serve_dhcp(r: &TestRegion, prefix: &str, subnet: &Value, rack_id: &str) {
    let (st, e) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", &format!("{prefix}.100")),
                ("end_ip", &format!("{prefix}.150")),
            ],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let vlan = format!(
        "fabrics/{}/vlans/{}/",
        subnet["vlan"]["fabric_id"], subnet["vlan"]["vid"]
    );
    let (st, e) = r
        .admin
        .put(&vlan, &[("dhcp_on", "true"), ("primary_rack", rack_id)])
        .await;
    assert_eq!(st, 200, "{e}");
}

/// The region, the link, the rack and what the API says about them.
pub struct RackLab {
    pub r: TestRegion,
    pub l: Link,
    pub rack: Proc,
    pub rack_id: String,
    pub subnet: Value,
    pub secret: String,
    pub tmp: maas_testkit::tempdir::Dir,
    pub prefix: String,
    _fwd: Forward,
}

impl RackLab {
    /// Start the region and the rack (all its services) on `{prefix}.0/24`,
    /// and wait until the region knows the rack's subnet.
    pub async fn start(prefix: &str) -> RackLab {
        let (r, secret, _) = TestRegion::with_racks(|_| {}).await;
        let rpc = r.running.as_ref().unwrap().rpc_addr.unwrap();
        let l = Link::new(prefix).unwrap();
        let fwd = l
            .srv
            .forward_tcp("127.0.0.1:5250".parse().unwrap(), rpc)
            .unwrap();
        let tmp = maas_testkit::tempdir::Dir::new();
        let rack = Proc::spawn(
            rack_cmd(&l.srv, &tmp.0.join("rack"), &secret, prefix),
            "rack local endpoint listening",
        );
        assert!(
            !rack.addr.is_empty(),
            "rack did not start: {}",
            rack.log_text()
        );
        let (rack_id, subnet) = rack_and_subnet(&r, prefix, || rack.log_text()).await;
        RackLab {
            r,
            l,
            rack,
            rack_id,
            subnet,
            secret,
            tmp,
            prefix: prefix.to_string(),
            _fwd: fwd,
        }
    }

    /// Through the API only: a dynamic range .100–.150, DHCP on the VLAN
    /// with this rack as primary, `web.maas` → .20.
    pub async fn configure(&self) {
        let p = &self.prefix;
        serve_dhcp(&self.r, p, &self.subnet, &self.rack_id).await;
        let (st, e) = self
            .r
            .admin
            .post(
                "dnsresources/",
                &[("fqdn", "web.maas"), ("ip_addresses", &format!("{p}.20"))],
            )
            .await;
        assert_eq!(st, 200, "{e}");
    }
}

/// Through the API only: a relayed subnet `{down}.0/24` on a fabric of its
/// own (gateway .1, dynamic range .100–.150) whose VLAN relays to
/// `up_vlan_id` (the rack's VLAN).
pub async fn relayed_subnet(r: &TestRegion, down: &str, up_vlan_id: &Value) {
    let api = &r.admin;
    let (st, f) = api.post("fabrics/", &[("name", "far")]).await;
    assert_eq!(st, 200, "{f}");
    let fid = f["id"].to_string();
    let (st, e) = api
        .post(
            "subnets/",
            &[
                ("cidr", &format!("{down}.0/24")),
                ("fabric", &fid),
                ("vid", "0"),
                ("gateway_ip", &format!("{down}.1")),
            ],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = api
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", &format!("{down}.100")),
                ("end_ip", &format!("{down}.150")),
            ],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = api
        .put(
            &format!("fabrics/{fid}/vlans/0/"),
            &[("relay_vlan", &up_vlan_id.to_string())],
        )
        .await;
    assert_eq!(st, 200, "{e}");
}
