//! A rack configured only through the region's API serves real clients in
//! network namespaces — DHCP (udhcpc), DNS (dig, forward and reverse), the
//! HTTP boot server (curl) — and keeps serving from its on-disk state with
//! the region gone, across its own restart, never handing one address to
//! two clients.

mod common;

use std::time::Duration;

use common::*;
use maas_lab::require_tools;
use maas_testkit::proc::Proc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rack_configured_through_the_api_serves_and_survives_the_region() {
    require_tools(&["udhcpc", "dig", "curl"]).unwrap();
    let p = "10.77.1";
    let mut lab = RackLab::start(p).await;
    lab.configure().await;
    let (r, l, tmp) = (&lab.r, &lab.l, &lab.tmp);

    // A client gets a lease from the range, and the lease reaches the region.
    let mut first = None;
    for _ in 0..20 {
        first = lease(&l.cli, &tmp.0, "first");
        if first.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let first = first.unwrap_or_else(|| panic!("no lease; rack log:\n{}", lab.rack.log_text()));
    assert!(in_range(&first, p), "{first}");
    wait_for(
        "the lease in the region",
        Duration::from_secs(10),
        || async { r.count("SELECT count(*) FROM dhcp_leases").await >= 1 },
    )
    .await;
    assert_eq!(dig(&l.cli, p, &["web.maas", "A"]), format!("{p}.20"));
    assert_eq!(dig(&l.cli, p, &["-x", &format!("{p}.20")]), "web.maas.");
    // The HTTP boot server answers an unknown machine with the enlistment script.
    let script = l
        .cli
        .output(
            "curl",
            &[
                "-sf",
                "--max-time",
                "5",
                &format!("http://{p}.1:5248/ipxe.cfg-52:54:00:77:77:77"),
            ],
        )
        .unwrap();
    assert!(script.starts_with("#!ipxe"), "{script}");
    // Its health reached the region.
    let (_, rc) = r
        .admin
        .get(&format!("rackcontrollers/{}/", lab.rack_id), &[])
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
    let running = lab.r.running.take().unwrap();
    running.stop().await.unwrap();
    let (l, tmp) = (&lab.l, &lab.tmp);
    l.cli
        .ip(&["link", "set", "eth0", "address", "52:54:00:77:00:02"])
        .unwrap();
    let second = lease(&l.cli, &tmp.0, "second").expect("a lease with the region gone");
    assert!(
        in_range(&second, p) && second != first,
        "{second} vs {first}"
    );
    assert_eq!(dig(&l.cli, p, &["web.maas", "A"]), format!("{p}.20"));

    // The rack is killed and restarted, region still gone: it serves from
    // its stored state, and the leases it gave survive.
    lab.rack.child.kill().unwrap();
    let _ = lab.rack.child.wait();
    let rack2 = Proc::spawn(
        rack_cmd(&l.srv, &tmp.0.join("rack"), &lab.secret, p),
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
    assert!(in_range(&third, p), "{third}");
    assert!(
        third != first && third != second,
        "{third} was already leased"
    );
    assert_eq!(dig(&l.cli, p, &["web.maas", "A"]), format!("{p}.20"));
}
