//! `machines/?op=allocate`: every constraint, cheapest first, bad syntax,
//! and that a refused or empty allocation writes nothing.

use maas_testkit as common;

use common::TestRegion;
use serde_json::Value;

async fn alloc(r: &TestRegion, form: &[(&str, &str)]) -> (u16, Value) {
    r.admin.op("machines/", "allocate", form).await
}

async fn allocated_count(r: &TestRegion) -> i64 {
    r.count("SELECT count(*) FROM machines WHERE status = 10")
        .await
}

#[tokio::test]
async fn cheapest_match_first_and_409_when_none() {
    let r = TestRegion::start().await;
    let big = r.ready_machine("big", 32, 131072).await;
    let small = r.ready_machine("small", 2, 4096).await;
    let mid = r.ready_machine("mid", 8, 16384).await;
    let (st, m) = alloc(&r, &[]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], small.as_str(), "cheapest first");
    assert_eq!(m["status_name"], "Allocated");
    assert_eq!(m["owner"], "admin");
    assert!(m["constraints_by_type"].is_object());
    let (_, m) = alloc(&r, &[("cpu_count", "4")]).await;
    assert_eq!(m["system_id"], mid.as_str());
    let (_, m) = alloc(&r, &[("mem", "20000")]).await;
    assert_eq!(m["system_id"], big.as_str());
    let (st, e) = alloc(&r, &[]).await;
    assert_eq!(st, 409, "{e}");
    assert!(e.as_str().unwrap().contains("No available machine"), "{e}");
}

/// A match whose row another write holds for a moment (a power-state
/// update) is waited for, not refused with 409; one a concurrent claim took
/// is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_briefly_locked_machine_is_waited_for_not_refused() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("locked1", 2, 2048).await;
    let mut tx = r.db().begin().await.unwrap();
    sqlx::query("UPDATE machines SET power_state = 'on' WHERE system_id = $1")
        .bind(&sid)
        .execute(&mut *tx)
        .await
        .unwrap();
    let claim = |api: common::Api, sid: String| async move {
        api.op("machines/", "allocate", &[("system_id", &sid)])
            .await
    };
    let first = tokio::spawn(claim(r.admin.clone(), sid.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(!first.is_finished(), "answered while the row was locked");
    tx.commit().await.unwrap();
    let (st, m) = first.await.unwrap();
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], sid.as_str());
    // Taken: the next claim for it is refused.
    let (st, m) = claim(r.admin.clone(), sid.clone()).await;
    assert_eq!(st, 409, "{m}");
    assert_eq!(allocated_count(&r).await, 1);
}

#[tokio::test]
async fn each_constraint_selects_and_excludes() {
    let r = TestRegion::start().await;
    r.admin.post("zones/", &[("name", "z1")]).await;
    let (_, pool) = r.admin.post("resourcepools/", &[("name", "p1")]).await;
    let pool_id = pool["id"].as_i64().unwrap().to_string();
    for t in ["gpu", "ssd"] {
        assert_eq!(r.admin.post("tags/", &[("name", t)]).await.0, 200);
    }
    let a = r.ready_machine("alpha", 4, 8192).await;
    let b = r.ready_machine("beta", 4, 8192).await;
    let c = r.ready_machine("gamma", 4, 8192).await;
    r.admin
        .put(
            &format!("machines/{b}/"),
            &[("zone", "z1"), ("pool", &pool_id)],
        )
        .await;
    r.admin
        .put(
            &format!("machines/{c}/"),
            &[("architecture", "arm64/generic")],
        )
        .await;
    r.admin
        .op("tags/gpu/", "update_nodes", &[("add", &a), ("add", &c)])
        .await;
    r.admin
        .op("tags/ssd/", "update_nodes", &[("add", &a)])
        .await;

    // (constraint form, expected machine) — dry_run so nothing is consumed.
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("system_id", &b)], &b),
        (vec![("name", "gamma")], &c),
        (vec![("name", "gamma.maas")], &c),
        (vec![("arch", "arm64")], &c),
        (vec![("arch", "arm64/generic")], &c),
        (vec![("not_arch", "amd64")], &c),
        (vec![("tags", "gpu"), ("tags", "ssd")], &a),
        (vec![("tags", "gpu,ssd")], &a),
        (vec![("tags", "gpu"), ("not_tags", "ssd")], &c),
        (vec![("zone", "z1")], &b),
        (vec![("not_in_zone", "default")], &b),
        (vec![("pool", "p1")], &b),
        (vec![("not_in_pool", "default")], &b),
        (vec![("power_state", "unknown"), ("system_id", &c)], &c),
    ];
    for (form, want) in &cases {
        let mut f = form.clone();
        f.push(("dry_run", "true"));
        let (st, m) = alloc(&r, &f).await;
        assert_eq!(st, 200, "{form:?}: {m}");
        assert_eq!(m["system_id"], *want, "{form:?}");
        assert_eq!(m["status_name"], "Ready", "dry run allocates nothing");
    }
    assert_eq!(allocated_count(&r).await, 0);
    for form in [
        vec![("cpu_count", "5")],
        vec![("mem", "9000")],
        vec![("tags", "gpu"), ("zone", "z1")],
        vec![("name", "delta")],
        vec![("power_state", "on")],
        vec![("arch", "ppc64el")],
    ] {
        let (st, e) = alloc(&r, &form).await;
        assert_eq!(st, 409, "{form:?}: {e}");
    }
    // agent_name and comment are recorded.
    let (st, m) = alloc(
        &r,
        &[
            ("system_id", &a),
            ("agent_name", "juju-42"),
            ("comment", "for ci"),
        ],
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(m["agent_name"], "juju-42");
    let (_, ev) = r
        .admin
        .get_op("events/", "query", &[("id", &a), ("limit", "1")])
        .await;
    assert_eq!(ev["events"][0]["description"], "Allocated (for ci)");
    let (_, list) = r.admin.get("machines/", &[("agent_name", "juju-42")]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn storage_and_interfaces_constraints() {
    let r = TestRegion::start().await;
    let a = r.ready_machine("disky", 2, 2048).await;
    let b = r.ready_machine("nicky", 4, 4096).await;
    for (sid, name, size, tags) in [
        (&a, "sda", "100000000000", "ssd"),
        (&a, "sdb", "2000000000000", "hdd"),
        (&b, "sda", "50000000000", ""),
    ] {
        let mut form = vec![("name", name), ("size", size)];
        if !tags.is_empty() {
            form.push(("tags", tags));
        }
        let (st, d) = r
            .admin
            .post(&format!("nodes/{sid}/blockdevices/"), &form)
            .await;
        assert_eq!(st, 200, "{d}");
    }
    let (st, i) = r
        .admin
        .op(
            &format!("nodes/{b}/interfaces/"),
            "create_physical",
            &[
                ("mac_address", &common::random_mac()),
                ("name", "eth9"),
                ("tags", "sriov"),
                ("link_speed", "25000"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    let (st, m) = alloc(
        &r,
        &[("storage", "root:80(ssd),data:1500"), ("dry_run", "1")],
    )
    .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], a.as_str());
    let sda = m["blockdevice_set"][0]["id"].clone();
    assert_eq!(m["constraints_by_type"]["storage"]["root"][0], sda);
    assert_eq!(
        alloc(&r, &[("storage", "root:80(hdd)")]).await.0,
        409,
        "root must be the first disk"
    );
    assert_eq!(alloc(&r, &[("storage", "root:10,a:10,b:10")]).await.0, 409);
    let (st, m) = alloc(&r, &[("interfaces", "net:tag=sriov,link_speed=10000")]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["system_id"], b.as_str());
    assert_eq!(m["status_name"], "Allocated");
    assert_eq!(m["constraints_by_type"]["interfaces"]["net"][0], i["id"]);
    assert_eq!(alloc(&r, &[("interfaces", "net:tag=sriov")]).await.0, 409);
}

#[tokio::test]
async fn bad_constraints_are_400_and_write_nothing() {
    let r = TestRegion::start().await;
    r.ready_machine("only", 2, 2048).await;
    let events = r.count("SELECT count(*) FROM events").await;
    for (form, field) in [
        (vec![("cpu_count", "many")], "cpu_count"),
        (vec![("mem", "-5")], "mem"),
        (vec![("storage", "root:lots")], "storage"),
        (vec![("storage", "root:10(ssd")], "storage"),
        (vec![("interfaces", "eth0")], "interfaces"),
        (vec![("interfaces", "eth0:colour=red")], "interfaces"),
        (vec![("zone", "nowhere")], "zone"),
        (vec![("not_in_zone", "nowhere")], "not_in_zone"),
        (vec![("pool", "nopool")], "pool"),
        (vec![("tags", "nosuchtag")], "tags"),
        (vec![("frobnicate", "1")], "frobnicate"),
        (vec![("dry_run", "perhaps")], "dry_run"),
    ] {
        let (st, e) = alloc(&r, &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e.get(field).is_some(), "{form:?} error names {field}: {e}");
    }
    assert_eq!(allocated_count(&r).await, 0);
    assert_eq!(r.count("SELECT count(*) FROM events").await, events);
    // Anonymous allocation is refused.
    assert_eq!(r.anon.op("machines/", "allocate", &[]).await.0, 401);
}

/// Juju names spaces by id in interface constraints
/// (`interfaces=<label>:space=<id>`); names still work.
#[tokio::test]
async fn interface_constraints_name_spaces_by_id_or_name() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("spacey", 2, 2048).await;
    let (st, sp) = r.admin.post("spaces/", &[("name", "db-net")]).await;
    assert_eq!(st, 200, "{sp}");
    let space_id = sp["id"].as_i64().unwrap().to_string();
    let (st, f) = r.admin.post("fabrics/", &[("name", "fab-s")]).await;
    assert_eq!(st, 200, "{f}");
    let vlan_id = f["vlans"][0]["id"].as_i64().unwrap().to_string();
    let (st, v) = r
        .admin
        .put(&format!("vlans/{vlan_id}/"), &[("space", "db-net")])
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, i) = r
        .admin
        .op(
            &format!("nodes/{sid}/interfaces/"),
            "create_physical",
            &[("mac_address", &common::random_mac()), ("vlan", &vlan_id)],
        )
        .await;
    assert_eq!(st, 200, "{i}");
    let dry = |space: String| {
        let api = r.admin.clone();
        async move {
            let c = format!("net:space={space}");
            api.op(
                "machines/",
                "allocate",
                &[("interfaces", c.as_str()), ("dry_run", "true")],
            )
            .await
            .0
        }
    };
    assert_eq!(dry(space_id.clone()).await, 200);
    assert_eq!(dry("db-net".into()).await, 200);
    assert_eq!(dry("999999".into()).await, 409);
    assert_eq!(dry("other".into()).await, 409);
}

/// Network placement constraints: Juju sends `not_subnets=space:<id>` for
/// spaces a unit must stay out of; subnets, VLANs and fabrics are named by
/// MAAS's specifiers.
#[tokio::test]
async fn subnet_vlan_and_fabric_placement() {
    let r = TestRegion::start().await;
    let linked = r.ready_machine("linked", 1, 1024).await;
    let plain = r.ready_machine("plain", 4, 4096).await;
    let (_, sp) = r.admin.post("spaces/", &[("name", "dmz")]).await;
    let space_id = sp["id"].as_i64().unwrap().to_string();
    let (_, f) = r.admin.post("fabrics/", &[("name", "fab-p")]).await;
    let vlan_id = f["vlans"][0]["id"].as_i64().unwrap().to_string();
    let (st, v) = r
        .admin
        .put(&format!("vlans/{vlan_id}/"), &[("space", "dmz")])
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, s) = r
        .admin
        .post("subnets/", &[("cidr", "10.50.0.0/24"), ("vlan", &vlan_id)])
        .await;
    assert_eq!(st, 200, "{s}");
    let subnet_id = s["id"].as_i64().unwrap();
    let (st, _) = r
        .admin
        .op(
            &format!("nodes/{linked}/interfaces/"),
            "create_physical",
            &[("mac_address", &common::random_mac()), ("vlan", &vlan_id)],
        )
        .await;
    assert_eq!(st, 200);
    sqlx::query(
        "INSERT INTO interface_links (interface_id, subnet_id, mode)
         SELECT i.id, $1, 'auto' FROM interfaces i JOIN machines m ON m.id = i.machine_id
          WHERE m.system_id = $2",
    )
    .bind(subnet_id)
    .bind(&linked)
    .execute(r.db())
    .await
    .unwrap();

    let pick = |k: &'static str, v: String| {
        let api = r.admin.clone();
        async move {
            let (st, m) = api
                .op(
                    "machines/",
                    "allocate",
                    &[(k, v.as_str()), ("dry_run", "true")],
                )
                .await;
            (st, m["system_id"].as_str().unwrap_or_default().to_string())
        }
    };
    let ok = |sid: &str| (200, sid.to_string());
    // Without placement the cheaper, linked machine comes first.
    assert_eq!(
        pick("not_subnets", "space:999999".into()).await,
        ok(&linked)
    );
    assert_eq!(
        pick("not_subnets", format!("space:{space_id}")).await,
        ok(&plain)
    );
    assert_eq!(pick("not_subnets", "space:dmz".into()).await, ok(&plain));
    assert_eq!(
        pick("subnets", format!("space:{space_id}")).await,
        ok(&linked)
    );
    assert_eq!(pick("subnets", "10.50.0.0/24".into()).await, ok(&linked));
    assert_eq!(pick("subnets", subnet_id.to_string()).await, ok(&linked));
    assert_eq!(pick("subnets", "ip:10.50.0.77".into()).await, ok(&linked));
    assert_eq!(pick("subnets", "cidr:10.99.0.0/24".into()).await.0, 409);
    assert_eq!(pick("fabrics", "fab-p".into()).await, ok(&linked));
    assert_eq!(pick("not_fabrics", "fab-p".into()).await, ok(&plain));
    assert_eq!(pick("vlans", vlan_id.clone()).await, ok(&linked));
    assert_eq!(pick("not_vlans", format!("id:{vlan_id}")).await, ok(&plain));
    assert_eq!(pick("subnets", "ip:nope".into()).await.0, 400);
    assert_eq!(pick("fabrics", "cidr:10.0.0.0/8".into()).await.0, 400);
    // A real allocation honours it too.
    let (st, m) = r
        .admin
        .op(
            "machines/",
            "allocate",
            &[("not_subnets", &format!("space:{space_id}"))],
        )
        .await;
    assert_eq!((st, m["system_id"].as_str()), (200, Some(plain.as_str())));
}
