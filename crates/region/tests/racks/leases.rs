//! What a rack's services report and need, end to end through the region:
//! a lease shows on the node's DHCP link and in the DNS zone racks get; a
//! release takes it away; machines' boot facts (status, MACs) reach racks
//! when they change.

use std::time::Duration;

use serde_json::{Value, json};

use super::harness::*;

fn zone_has(state: &Value, host: &str, ip: &str) -> bool {
    state["zones"].as_array().into_iter().flatten().any(|z| {
        z["records"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["name"] == host && r["type"] == "A" && r["data"] == ip)
    })
}

fn boot_status(state: &Value, host: &str) -> Option<String> {
    state["machines"]
        .as_array()?
        .iter()
        .find(|m| m["hostname"] == host)
        .and_then(|m| m["status"].as_str().map(String::from))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_reach_the_api_and_dns_and_boot_facts_reach_the_rack() {
    let (r, secret, url) = rpc_region().await;
    let dir = maas_testkit::tempdir::Dir::new();
    let rack = Rack::start(
        std::slice::from_ref(&url),
        &secret,
        &dir.0.join("rack"),
        "rack-l",
    );
    wait_for("connected", Duration::from_secs(20), || async {
        rack.status().await["generation"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("hostname", "leasy"),
                ("architecture", "amd64/generic"),
                ("mac_addresses", "52:54:00:AA:00:01"),
                ("power_type", "manual"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sid = m["system_id"].as_str().unwrap().to_string();
    // The rack learns the machine's MAC and status (what its boot server
    // answers with).
    wait_for("machine on the rack", Duration::from_secs(5), || async {
        let s = rack.get("/state").await.1;
        boot_status(&s, "leasy").is_some()
            && s["machines"][0]["macs"] == json!(["52:54:00:aa:00:01"])
    })
    .await;
    // A DHCP link on the rack's subnet, as commissioning leaves it.
    sqlx::query(
        "INSERT INTO interface_links (interface_id, subnet_id, mode)
         SELECT i.id, s.id, 'dhcp' FROM interfaces i, subnets s
          WHERE lower(i.mac_address) = '52:54:00:aa:00:01' AND s.cidr = '10.201.1.0/24'",
    )
    .execute(r.db())
    .await
    .unwrap();
    let lease = |action: &str| {
        json!([{"kind": "lease", "action": action, "mac": "52:54:00:aa:00:01",
                "ip": "10.201.1.77", "hostname": "leasy", "lease_time": 600}])
    };
    let post = |body: Value| {
        let http = rack.http.clone();
        let addr = rack.proc.addr.clone();
        async move {
            let resp = http
                .post(format!("http://{addr}/events"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        }
    };
    post(lease("commit")).await;
    let link_ip = |r: &maas_testkit::TestRegion, sid: String| {
        let admin = r.admin.clone();
        async move {
            let (_, m) = admin.get(&format!("machines/{sid}/"), &[]).await;
            m["interface_set"][0]["links"][0]["ip_address"]
                .as_str()
                .map(String::from)
        }
    };
    wait_for(
        "lease on the DHCP link",
        Duration::from_secs(10),
        || async { link_ip(&r, sid.clone()).await.as_deref() == Some("10.201.1.77") },
    )
    .await;
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["ip_addresses"], json!(["10.201.1.77"]), "{m}");
    assert_eq!(
        scalar(
            r.db(),
            "SELECT count(*) FROM dhcp_leases WHERE mac = '52:54:00:aa:00:01'"
        )
        .await,
        1
    );
    wait_for(
        "the name in the rack's zone",
        Duration::from_secs(5),
        || async { zone_has(&rack.get("/state").await.1, "leasy", "10.201.1.77") },
    )
    .await;
    // Released: gone from the link, the lease table and the zone.
    post(lease("release")).await;
    wait_for("lease released", Duration::from_secs(10), || async {
        link_ip(&r, sid.clone()).await.is_none()
    })
    .await;
    assert_eq!(scalar(r.db(), "SELECT count(*) FROM dhcp_leases").await, 0);
    wait_for(
        "the name leaves the zone",
        Duration::from_secs(5),
        || async { !zone_has(&rack.get("/state").await.1, "leasy", "10.201.1.77") },
    )
    .await;
    // A lease with a bad address is kept as an event and changes nothing.
    post(json!([{"kind": "lease", "action": "commit", "mac": "52:54:00:aa:00:01", "ip": "nope"}]))
        .await;
    // A status change reaches the rack at once.
    let (st, e) = r
        .admin
        .op(&format!("machines/{sid}/"), "mark_broken", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    let took = wait_for("status on the rack", Duration::from_secs(5), || async {
        boot_status(&rack.get("/state").await.1, "leasy").as_deref() == Some("broken")
    })
    .await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(link_ip(&r, sid.clone()).await.is_none());
}
