//! Rack interface recording builds fabrics, VLANs and subnets; concurrent
//! writers keep the model consistent.

use super::*;
use maas_model::rack::Interface as RackIface;
use maas_region::services::network::record_rack_interfaces;

fn iface(
    name: &str,
    kind: &str,
    parent: Option<&str>,
    vid: Option<i32>,
    addrs: &[&str],
) -> RackIface {
    RackIface {
        name: name.into(),
        mac: format!("52:54:00:00:{:02X}:01", name.len()),
        kind: kind.into(),
        parent: parent.map(str::to_string),
        vid,
        addresses: addrs.iter().map(|a| a.to_string()).collect(),
    }
}

async fn record(r: &TestRegion, rack_id: i64, ifaces: &[RackIface]) {
    let mut tx = r.db().begin().await.unwrap();
    record_rack_interfaces(&mut tx, rack_id, ifaces)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// (name, vlan_id, fabric_id, vid) of a rack's interfaces, by name.
async fn rack_ifaces(
    r: &TestRegion,
    rack_id: i64,
) -> Vec<(String, Option<i64>, Option<i64>, Option<i32>)> {
    sqlx::query_as(
        "SELECT ri.name, ri.vlan_id, v.fabric_id, v.vid FROM rack_interfaces ri
           LEFT JOIN vlans v ON v.id = ri.vlan_id WHERE ri.rack_id = $1 ORDER BY ri.name",
    )
    .bind(rack_id)
    .fetch_all(r.db())
    .await
    .unwrap()
}

async fn subnet_place(r: &TestRegion, cidr: &str) -> Option<(i64, i64, i32)> {
    sqlx::query_as(
        "SELECT s.vlan_id, v.fabric_id, v.vid FROM subnets s JOIN vlans v ON v.id = s.vlan_id
          WHERE s.cidr = $1::cidr",
    )
    .bind(cidr)
    .fetch_optional(r.db())
    .await
    .unwrap()
}

#[tokio::test]
async fn rack_interfaces_build_the_network_model() {
    let r = TestRegion::start().await;
    let r1 = rack(&r, "rack-one").await;
    let r2 = rack(&r, "rack-two").await;
    let one = vec![
        iface(
            "eth0",
            "physical",
            None,
            None,
            &["10.20.0.2/24", "10.20.0.3/24", "fe80::1/64", "fd20::2/64"],
        ),
        iface(
            "eth0.100",
            "vlan",
            Some("eth0"),
            Some(100),
            &["10.21.0.2/24"],
        ),
        iface("eth1", "physical", None, None, &[]),
        iface("eth2", "physical", None, None, &[]),
        iface("br0", "bridge", Some("eth2"), None, &["10.22.0.2/24"]),
        iface("eth3", "physical", None, None, &[]),
        iface("eth3.200", "vlan", Some("eth3"), Some(200), &[]),
        iface("lo", "physical", None, None, &["127.0.0.1/8", "::1/128"]),
        iface(
            "wg0",
            "physical",
            None,
            None,
            &["10.99.0.1/32", "not-an-address", "169.254.1.1/16"],
        ),
    ];
    record(&r, r1, &one).await;

    let (v20, f20, vid20) = subnet_place(&r, "10.20.0.0/24").await.unwrap();
    assert_eq!(
        vid20, 0,
        "a physical interface's network lands on an untagged VLAN"
    );
    assert_eq!(
        subnet_place(&r, "fd20::/64").await,
        Some((v20, f20, 0)),
        "same link, same VLAN"
    );
    let (_, f21, vid21) = subnet_place(&r, "10.21.0.0/24").await.unwrap();
    assert_eq!(
        (f21, vid21),
        (f20, 100),
        "the VLAN interface is tagged on its parent's fabric"
    );
    let (v22, f22, vid22) = subnet_place(&r, "10.22.0.0/24").await.unwrap();
    assert_ne!(f22, f20, "another link, another fabric");
    assert_eq!(vid22, 0);
    assert_eq!(
        r.count("SELECT count(*) FROM subnets").await,
        4,
        "no loopback, link-local or /32 subnets"
    );
    assert_eq!(
        r.count("SELECT count(*) FROM subnets WHERE name = cidr::text")
            .await,
        4,
        "named after their networks"
    );

    let ifs = rack_ifaces(&r, r1).await;
    let get = |n: &str| ifs.iter().find(|i| i.0 == n).cloned().unwrap();
    assert_eq!(ifs.len(), 9);
    assert_eq!(get("eth0").1, Some(v20));
    assert_eq!(
        (get("eth0.100").2, get("eth0.100").3),
        (Some(f20), Some(100))
    );
    assert_eq!(
        get("eth1").1,
        None,
        "nothing known about an unconnected NIC"
    );
    assert_eq!(get("br0").1, Some(v22));
    assert_eq!(
        get("eth2").1,
        Some(v22),
        "the bridge's member is on the bridge's VLAN"
    );
    let eth3 = get("eth3");
    assert_eq!(eth3.3, Some(0), "a VLAN interface's parent gets a fabric");
    assert_eq!((get("eth3.200").2, get("eth3.200").3), (eth3.2, Some(200)));
    assert_eq!(get("lo").1, None);
    let (mac, addrs): (String, Vec<String>) = sqlx::query_as(
        "SELECT mac_address, addresses FROM rack_interfaces WHERE rack_id = $1 AND name = 'eth0'",
    )
    .bind(r1)
    .fetch_one(r.db())
    .await
    .unwrap();
    assert_eq!(mac, "52:54:00:00:04:01", "normalised");
    assert_eq!(addrs.len(), 4);

    // The API sees the same model.
    let (_, subnet) = r.alice.get("subnets/10.21.0.0%2F24/", &[]).await;
    assert_eq!(subnet["vlan"]["vid"], 100);
    assert_eq!(subnet["vlan"]["fabric_id"], f20);

    // A second rack on the same network shares its fabric.
    let before = counts(&r).await;
    record(
        &r,
        r2,
        &[
            iface("ens3", "physical", None, None, &["10.20.0.9/24"]),
            iface("ens3.100", "vlan", Some("ens3"), Some(100), &[]),
        ],
    )
    .await;
    assert_eq!(
        counts(&r).await,
        before,
        "nothing new: the network is known"
    );
    let ifs2 = rack_ifaces(&r, r2).await;
    assert_eq!(ifs2[0].0, "ens3");
    assert_eq!((ifs2[0].1, ifs2[0].2), (Some(v20), Some(f20)));
    assert_eq!(
        (ifs2[1].2, ifs2[1].3),
        (Some(f20), Some(100)),
        "the known VLAN 100 is reused"
    );

    // Reporting the same again changes nothing, row ids included.
    let ids_before: Vec<i64> = sqlx::query_scalar("SELECT id FROM rack_interfaces ORDER BY id")
        .fetch_all(r.db())
        .await
        .unwrap();
    record(&r, r1, &one).await;
    record(&r, r1, &one).await;
    assert_eq!(counts(&r).await, before);
    assert_eq!(rack_ifaces(&r, r1).await, ifs);
    let ids_after: Vec<i64> = sqlx::query_scalar("SELECT id FROM rack_interfaces ORDER BY id")
        .fetch_all(r.db())
        .await
        .unwrap();
    assert_eq!(ids_before, ids_after);

    // An interface that disappears is dropped; a new address on a known
    // interface creates its subnet on that interface's VLAN.
    let mut changed: Vec<RackIface> = one.iter().filter(|i| i.name != "eth1").cloned().collect();
    changed[0].addresses.push("10.23.0.2/24".into());
    record(&r, r1, &changed).await;
    assert_eq!(rack_ifaces(&r, r1).await.len(), 8);
    assert_eq!(
        subnet_place(&r, "10.23.0.0/24").await.map(|p| p.0),
        Some(v20)
    );
    assert_eq!(counts(&r).await[0], before[0], "no new fabric");

    // A fabric with rack interfaces on it is not deleted from under them.
    sqlx::query("DELETE FROM subnets WHERE vlan_id IN (SELECT id FROM vlans WHERE fabric_id = $1)")
        .bind(eth3.2.unwrap())
        .execute(r.db())
        .await
        .unwrap();
    let (st, msg) = r
        .admin
        .delete(&format!("fabrics/{}/", eth3.2.unwrap()))
        .await;
    assert_eq!(st, 400, "{msg}");
    assert!(msg.as_str().unwrap().contains("rack-one:eth3"), "{msg}");

    // A refused write inside the caller's transaction leaves nothing behind.
    let before = counts(&r).await;
    let mut tx = r.db().begin().await.unwrap();
    record_rack_interfaces(
        &mut tx,
        r2,
        &[iface("new0", "physical", None, None, &["10.40.0.2/24"])],
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(counts(&r).await, before);
    assert_eq!(rack_ifaces(&r, r2).await.len(), 2);
}

#[tokio::test]
async fn concurrent_writes_keep_the_model_consistent() {
    let r = TestRegion::start().await;
    subnet(&r, &[("cidr", "10.50.0.0/24")]).await;
    // Overlapping ranges raced against each other: exactly one wins.
    let mut tasks = Vec::new();
    for k in 0..8u8 {
        let api = r.admin.clone();
        tasks.push(tokio::spawn(async move {
            let start = format!("10.50.0.{}", 100 + k);
            let end = format!("10.50.0.{}", 150 + k);
            api.post(
                "ipranges/",
                &[("type", "dynamic"), ("start_ip", &start), ("end_ip", &end)],
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            st => assert_eq!(st, 400),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(r.count("SELECT count(*) FROM ipranges").await, 1);

    // Racks registering at once on a new network create it once.
    let mut tasks = Vec::new();
    for k in 0..4 {
        let rack_id = rack(&r, &format!("rack-{k}")).await;
        let db = r.db().clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let ifaces = [iface(
                "eth0",
                "physical",
                None,
                None,
                &[&format!("10.60.0.{}/24", k + 2)],
            )];
            record_rack_interfaces(&mut tx, rack_id, &ifaces)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        r.count("SELECT count(*) FROM subnets WHERE cidr = '10.60.0.0/24'")
            .await,
        1
    );
    assert_eq!(
        r.count("SELECT count(DISTINCT vlan_id) FROM rack_interfaces")
            .await,
        1,
        "all four racks share one VLAN"
    );
}
