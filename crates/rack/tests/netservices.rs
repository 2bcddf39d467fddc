//! A rack configured only through the region's API serves real clients in
//! network namespaces — DHCP (udhcpc), DNS (dig, forward and reverse), the
//! HTTP boot server (curl) — and keeps serving from its on-disk state with
//! the region gone, across its own restart, never handing one address to
//! two clients.
//!
//! Topology: the rack runs in namespace `srv` (eth0 10.77.1.1/24), the
//! clients in `cli` on the same link; the in-process region is reached
//! through a TCP forward inside `srv` (127.0.0.1:5250 → the region's RPC).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maas_lab::{Link, Netns, require_tools};
use maas_testkit::TestRegion;
use maas_testkit::proc::Proc;

const CLIENT_SCRIPT: &str = r#"#!/bin/sh
# udhcpc hook: record what the server handed out, configure the address.
echo "$1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain" >> "$LOG"
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
"#;

fn rack_cmd(ns: &Netns, dir: &Path, secret: &str) -> Command {
    let mut c = ns.cmd(env!("CARGO_BIN_EXE_maas-rack"));
    c.args([
        "serve",
        "--region",
        "https://127.0.0.1:5250",
        "--secret",
        secret,
    ])
    .args(["--hostname", "rack-ns", "--http-listen", "127.0.0.1:5249"])
    .args(["--dns-listen", "10.77.1.1:53"])
    .arg("--data-dir")
    .arg(dir);
    c
}

/// One DHCP exchange with udhcpc from `cli`; the address it bound.
fn lease(cli: &Netns, dir: &Path, tag: &str) -> Option<String> {
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

fn dig(cli: &Netns, args: &[&str]) -> String {
    let mut a = vec!["@10.77.1.1", "+short", "+time=2", "+tries=2"];
    a.extend_from_slice(args);
    cli.output("dig", &a).unwrap_or_default().trim().to_string()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

fn in_range(ip: &str) -> bool {
    ip.strip_prefix("10.77.1.")
        .and_then(|h| h.parse::<u8>().ok())
        .is_some_and(|h| (100..=150).contains(&h))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rack_configured_through_the_api_serves_and_survives_the_region() {
    require_tools(&["udhcpc", "dig", "curl"]).unwrap();
    let mut r =
        TestRegion::start_with(|o| o.rpc_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let secret = maas_region::services::racks::enrollment_secret(r.db())
        .await
        .unwrap();
    let rpc = r.running.as_ref().unwrap().rpc_addr.unwrap();
    let l = Link::new("10.77.1").unwrap();
    let _fwd = l
        .srv
        .forward_tcp("127.0.0.1:5250".parse().unwrap(), rpc)
        .unwrap();
    let tmp = maas_testkit::tempdir::Dir::new();
    let rack_dir = tmp.0.join("rack");
    let mut rack = Proc::spawn(
        rack_cmd(&l.srv, &rack_dir, &secret),
        "rack local endpoint listening",
    );
    assert!(
        !rack.addr.is_empty(),
        "rack did not start: {}",
        rack.log_text()
    );

    // The rack enrolls and reports eth0: the region learns 10.77.1.0/24.
    let t0 = Instant::now();
    let (rack_id, subnet) = loop {
        let (_, racks) = r.admin.get("rackcontrollers/", &[]).await;
        let rack_id = racks[0]["system_id"].as_str().unwrap_or("").to_string();
        let (_, subnets) = r.admin.get("subnets/", &[]).await;
        let subnet = subnets
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["cidr"] == "10.77.1.0/24")
            .cloned();
        if let (false, Some(s)) = (rack_id.is_empty(), subnet) {
            break (rack_id, s);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the rack's subnet never reached the region: {}",
            rack.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Configure through the API only: a dynamic range, DHCP on with this
    // rack as primary, a DNS record.
    let (st, e) = r
        .admin
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.77.1.100"),
                ("end_ip", "10.77.1.150"),
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
        .put(&vlan, &[("dhcp_on", "true"), ("primary_rack", &rack_id)])
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = r
        .admin
        .post(
            "dnsresources/",
            &[("fqdn", "web.maas"), ("ip_addresses", "10.77.1.20")],
        )
        .await;
    assert_eq!(st, 200, "{e}");

    // A client gets a lease from the range, and the lease reaches the region.
    let mut first = None;
    for _ in 0..20 {
        first = lease(&l.cli, &tmp.0, "first");
        if first.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let first = first.unwrap_or_else(|| panic!("no lease; rack log:\n{}", rack.log_text()));
    assert!(in_range(&first), "{first}");
    wait_for(
        "the lease in the region",
        Duration::from_secs(10),
        || async { r.count("SELECT count(*) FROM dhcp_leases").await >= 1 },
    )
    .await;
    assert_eq!(dig(&l.cli, &["web.maas", "A"]), "10.77.1.20");
    assert_eq!(dig(&l.cli, &["-x", "10.77.1.20"]), "web.maas.");
    // The HTTP boot server answers an unknown machine with the enlistment script.
    let script = l
        .cli
        .output(
            "curl",
            &[
                "-sf",
                "--max-time",
                "5",
                "http://10.77.1.1:5248/ipxe.cfg-52:54:00:77:77:77",
            ],
        )
        .unwrap();
    assert!(script.starts_with("#!ipxe"), "{script}");
    // Its health reached the region.
    let (_, rc) = r
        .admin
        .get(&format!("rackcontrollers/{rack_id}/"), &[])
        .await;
    let services: Vec<(String, String)> = rc["service_set"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("").into(),
                s["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    for svc in ["dhcpd", "dns", "boot"] {
        assert!(
            services.iter().any(|(n, s)| n == svc && s == "running"),
            "{svc} in {services:?}"
        );
    }

    // The region goes away: a new client (new MAC) still gets a lease, and
    // names still resolve.
    let running = r.running.take().unwrap();
    running.stop().await.unwrap();
    l.cli
        .ip(&["link", "set", "eth0", "address", "52:54:00:77:00:02"])
        .unwrap();
    let second = lease(&l.cli, &tmp.0, "second").expect("a lease with the region gone");
    assert!(in_range(&second) && second != first, "{second} vs {first}");
    assert_eq!(dig(&l.cli, &["web.maas", "A"]), "10.77.1.20");

    // The rack is killed and restarted, region still gone: it serves from
    // its stored state, and the leases it gave survive.
    rack.child.kill().unwrap();
    let _ = rack.child.wait();
    let rack2 = Proc::spawn(
        rack_cmd(&l.srv, &rack_dir, &secret),
        "rack local endpoint listening",
    );
    assert!(
        !rack2.addr.is_empty(),
        "rack did not restart: {}",
        rack2.log_text()
    );
    l.cli
        .ip(&["link", "set", "eth0", "address", "52:54:00:77:00:03"])
        .unwrap();
    let mut third = None;
    for _ in 0..10 {
        third = lease(&l.cli, &tmp.0, "third");
        if third.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let third = third.unwrap_or_else(|| panic!("no lease after restart:\n{}", rack2.log_text()));
    assert!(in_range(&third), "{third}");
    assert!(
        third != first && third != second,
        "{third} was already leased"
    );
    assert_eq!(dig(&l.cli, &["web.maas", "A"]), "10.77.1.20");
}
