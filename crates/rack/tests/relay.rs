//! A relayed subnet served end to end by a rack configured through the API:
//! the region's `relay_vlan` (a VLAN on another fabric relays DHCP to the
//! rack's VLAN) reaches the rack, and a client behind `dhcrelay`
//! (isc-dhcp-relay) gets an address from the relayed subnet's range.
//!
//! ```text
//! srv (rack) eth0 10.79.0.1/29 ── relay up0 .2 | down0 10.79.9.1/24 ── cli
//! ```

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use maas_lab::{Proc as LabProc, Relayed, require_tools};
use maas_testkit::TestRegion;
use maas_testkit::proc::Proc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_vlan_is_served_through_dhcrelay() {
    require_tools(&["dhcrelay", "udhcpc"]).unwrap();
    let (r, secret, _) = TestRegion::with_racks(|_| {}).await;
    let rpc = r.running.as_ref().unwrap().rpc_addr.unwrap();
    let t = Relayed::new("10.79.0", "10.79.9").unwrap();
    let _fwd = t
        .srv
        .forward_tcp("127.0.0.1:5250".parse().unwrap(), rpc)
        .unwrap();
    let tmp = maas_testkit::tempdir::Dir::new();
    let rack = Proc::spawn(
        rack_cmd(&t.srv, &tmp.0.join("rack"), &secret, "10.79.0"),
        "rack local endpoint listening",
    );
    assert!(
        !rack.addr.is_empty(),
        "rack did not start: {}",
        rack.log_text()
    );

    // The region learns the rack's segment.
    let t0 = Instant::now();
    let (rack_id, up) = loop {
        let (_, racks) = r.admin.get("rackcontrollers/", &[]).await;
        let id = racks[0]["system_id"].as_str().unwrap_or("").to_string();
        let (_, subnets) = r.admin.get("subnets/", &[]).await;
        let up = subnets
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["cidr"] == "10.79.0.0/29")
            .cloned();
        if let (false, Some(up)) = (id.is_empty(), up) {
            break (id, up);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{}",
            rack.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let api = &r.admin;
    // DHCP on the rack's VLAN (it needs a dynamic range of its own).
    let (st, e) = api
        .post(
            "ipranges/",
            &[
                ("type", "dynamic"),
                ("start_ip", "10.79.0.4"),
                ("end_ip", "10.79.0.6"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let up_vlan = format!(
        "fabrics/{}/vlans/{}/",
        up["vlan"]["fabric_id"], up["vlan"]["vid"]
    );
    let (st, e) = api
        .put(&up_vlan, &[("dhcp_on", "true"), ("primary_rack", &rack_id)])
        .await;
    assert_eq!(st, 200, "{e}");
    // The relayed network: a fabric of its own, its subnet and range, and
    // its VLAN relaying to the rack's.
    relayed_subnet(&r, "10.79.9", &up["vlan"]["id"]).await;

    let mut relay = t.relay.cmd("dhcrelay");
    relay
        .args(["-4", "-d", "-a", "-id", "down0", "-iu", "up0", "--no-pid"])
        .arg(t.server_ip())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(tmp.0.join("dhcrelay.log")).unwrap());
    let _relay = LabProc::spawn(relay).unwrap();
    let mut got = None;
    for _ in 0..20 {
        got = lease(&t.cli, &tmp.0, "relayed");
        if got.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ip = got.unwrap_or_else(|| {
        panic!(
            "no lease through the relay:\nrack:\n{}\nrelay:\n{}",
            rack.log_text(),
            std::fs::read_to_string(tmp.0.join("dhcrelay.log")).unwrap_or_default()
        )
    });
    assert!(in_range(&ip, "10.79.9"), "{ip}");
    // The relayed subnet's gateway is the router handed out.
    let log = std::fs::read_to_string(tmp.0.join("udhcpc-relayed.log")).unwrap();
    assert!(log.contains("router=10.79.9.1"), "{log}");
    let leased: i64 = sqlx::query_scalar("SELECT count(*) FROM dhcp_leases WHERE ip = $1::inet")
        .bind(&ip)
        .fetch_one(r.db())
        .await
        .unwrap();
    let t0 = Instant::now();
    let mut leased = leased;
    while leased == 0 && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        leased = sqlx::query_scalar("SELECT count(*) FROM dhcp_leases WHERE ip = $1::inet")
            .bind(&ip)
            .fetch_one(r.db())
            .await
            .unwrap();
    }
    assert_eq!(leased, 1, "the relayed lease reached the region");
}
