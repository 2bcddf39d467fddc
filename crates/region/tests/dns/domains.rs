//! `domains/`: create, update, set_default, set_serial, delete.

use serde_json::Value;

use crate::common::TestRegion;
use crate::common::shape::check_domain;
use crate::{bad, counts, id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_create_update_default_serial_delete() {
    let r = TestRegion::start().await;
    let (st, list) = r.alice.get("domains/", &[]).await;
    assert_eq!(st, 200);
    list.as_array().unwrap().iter().for_each(check_domain);

    // Create: name, ttl, authoritative (the trailing dot dropped).
    let (st, d) = r
        .admin
        .post(
            "domains/",
            &[
                ("name", "example.com."),
                ("ttl", "300"),
                ("authoritative", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    check_domain(&d);
    assert_eq!(d["name"], "example.com");
    assert_eq!(d["ttl"], 300);
    assert_eq!(d["authoritative"], false);
    assert_eq!(d["is_default"], false);
    assert_eq!(d["resource_record_count"], 0);
    let did = id(&d);
    let (st, got) = r.alice.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!((st, &got), (200, &d));

    // Refusals write nothing.
    let before = counts(&r).await;
    let (st, e) = r.alice.post("domains/", &[("name", "x.org")]).await;
    assert_eq!(st, 403, "{e}");
    let (st, e) = r.admin.post("domains/", &[("name", "example.com")]).await;
    let m = bad(st, &e, "name", "duplicate");
    assert_eq!(m, "Domain with this Name already exists.");
    let (st, e) = r.admin.post("domains/", &[("name", "bad_name")]).await;
    assert_eq!(
        bad(st, &e, "name", "bad chars"),
        "Domain name contains invalid characters."
    );
    let (st, e) = r.admin.post("domains/", &[("name", "-x.com")]).await;
    assert_eq!(
        bad(st, &e, "name", "bad label"),
        "Invalid domain name: -x.com."
    );
    let (st, e) = r.admin.post("domains/", &[]).await;
    assert_eq!(bad(st, &e, "name", "missing"), "This field is required.");
    let (st, e) = r
        .admin
        .post("domains/", &[("name", "ok.com"), ("ttl", "abc")])
        .await;
    bad(st, &e, "ttl", "ttl type");
    let (st, e) = r
        .admin
        .post("domains/", &[("name", "ok.com"), ("ttl", "0")])
        .await;
    bad(st, &e, "ttl", "ttl range");
    let (st, e) = r
        .admin
        .post(
            "domains/",
            &[("name", "ok.com"), ("authoritative", "maybe")],
        )
        .await;
    bad(st, &e, "authoritative", "bool");
    let (st, e) = r.admin.post("domains/", &[("name", "maas-internal")]).await;
    bad(st, &e, "name", "internal domain");
    let (st, e) = r
        .alice
        .put(&format!("domains/{did}/"), &[("name", "y.com")])
        .await;
    assert_eq!(st, 403, "{e}");
    let (st, _) = r.alice.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 403);
    let (st, _) = r
        .alice
        .op(&format!("domains/{did}/"), "set_default", &[])
        .await;
    assert_eq!(st, 403);
    let (st, _) = r
        .alice
        .op("domains/", "set_serial", &[("serial", "5")])
        .await;
    assert_eq!(st, 403);
    let (st, e) = r
        .admin
        .put(
            &format!("domains/{did}/"),
            &[("ttl", "x"), ("name", "bad name")],
        )
        .await;
    bad(st, &e, "ttl", "update ttl type");
    bad(st, &e, "name", "update name");
    let (st, e) = r
        .admin
        .put(&format!("domains/{did}/"), &[("ttl", "604801")])
        .await;
    bad(st, &e, "ttl", "update ttl range");
    let (st, _) = r.admin.op("domains/9999/", "set_default", &[]).await;
    assert_eq!(st, 404);
    let (_, same) = r.admin.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!(same, d);
    assert_eq!(counts(&r).await, before);

    // Update.
    let (st, u) = r
        .admin
        .put(
            &format!("domains/{did}/"),
            &[
                ("name", "example.net"),
                ("ttl", "60"),
                ("authoritative", "true"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{u}");
    check_domain(&u);
    assert_eq!(
        (&u["name"], &u["ttl"], &u["authoritative"]),
        (
            &Value::from("example.net"),
            &Value::from(60),
            &Value::from(true)
        )
    );
    let (st, u) = r
        .admin
        .put(&format!("domains/{did}/"), &[("ttl", "")])
        .await;
    assert_eq!(st, 200, "{u}");
    assert!(u["ttl"].is_null(), "{u}");
    assert_eq!(u["name"], "example.net");
    let (st, e) = r
        .admin
        .put(&format!("domains/{did}/"), &[("name", "maas")])
        .await;
    bad(st, &e, "name", "rename onto maas");
    let (st, e) = r.admin.put("domains/9999/", &[("name", "z.com")]).await;
    assert_eq!(
        (st, e.as_str()),
        (404, Some("No Domain matches the given query."))
    );

    // set_default: exactly one default; machines of the old default move
    // unless in use (deployed stays); new machines enlist there.
    let mover = r.ready_machine("mover", 1, 1024).await;
    let stayer = r.ready_machine("stayer", 1, 1024).await;
    r.force_status(&stayer, 6).await;
    let (st, dd) = r
        .admin
        .op(&format!("domains/{did}/"), "set_default", &[])
        .await;
    assert_eq!(st, 200, "{dd}");
    check_domain(&dd);
    assert_eq!(dd["is_default"], true);
    assert_eq!(
        r.count("SELECT count(*) FROM domains WHERE is_default")
            .await,
        1
    );
    let (_, maas) = r.admin.get("domains/0/", &[]).await;
    assert_eq!(maas["is_default"], false);
    assert_eq!(fqdn(&r, &mover).await, "mover.example.net");
    assert_eq!(fqdn(&r, &stayer).await, "stayer.maas");
    let sid = r.ready_machine("in-default", 1, 1024).await;
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["domain"]["name"], "example.net", "{m}");
    assert_eq!(m["fqdn"], "in-default.example.net");
    // A machine row written without a domain lands there too.
    let raw: i64 = sqlx::query_scalar(
        "INSERT INTO machines (system_id, hostname, status, architecture)
         VALUES ('rawdom', 'raw-node', 0, 'amd64/generic') RETURNING domain_id",
    )
    .fetch_one(r.db())
    .await
    .unwrap();
    assert_eq!(raw, did);
    sqlx::query("DELETE FROM machines WHERE system_id = 'rawdom'")
        .execute(r.db())
        .await
        .unwrap();

    // Delete: not the default, not one with machines.
    let (st, e) = r.admin.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        e.as_str(),
        Some("This domain is the default domain, it cannot be deleted.")
    );
    r.force_status(&sid, 6).await;
    let (st, _) = r.admin.op("domains/0/", "set_default", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(fqdn(&r, &mover).await, "mover.maas");
    assert_eq!(fqdn(&r, &sid).await, "in-default.example.net");
    let (st, e) = r.admin.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 400, "{e}");
    assert!(e.as_str().unwrap().contains("'Node.domain'"), "{e}");
    r.force_status(&sid, 4).await;
    let (st, _) = r.admin.delete(&format!("machines/{sid}/")).await;
    assert_eq!(st, 204);
    // A device in the domain holds it too.
    let (st, dev) = r
        .admin
        .post(
            "devices/",
            &[
                ("hostname", "phone"),
                ("domain", "example.net"),
                ("mac_addresses", &maas_testkit::random_mac()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{dev}");
    let (st, e) = r.admin.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 400, "{e}");
    assert!(e.as_str().unwrap().contains("'Node.domain'"), "{e}");
    let dev_id = dev["system_id"].as_str().unwrap();
    assert_eq!(r.admin.delete(&format!("devices/{dev_id}/")).await.0, 204);
    let (st, _) = r.admin.delete(&format!("domains/{did}/")).await;
    assert_eq!(st, 204);
    let (st, _) = r.admin.get(&format!("domains/{did}/"), &[]).await;
    assert_eq!(st, 404);
    let (st, _) = r.admin.delete("domains/9999/").await;
    assert_eq!(st, 404);

    // set_serial: 1 … 4294967295.
    for (v, ok) in [
        ("1", true),
        ("4294967295", true),
        ("0", false),
        ("4294967296", false),
        ("-3", false),
        ("abc", false),
    ] {
        let (st, e) = r.admin.op("domains/", "set_serial", &[("serial", v)]).await;
        if ok {
            assert_eq!(st, 200, "{v}: {e}");
            let last: i64 = sqlx::query_scalar("SELECT last_value FROM dns_zone_serial")
                .fetch_one(r.db())
                .await
                .unwrap();
            assert_eq!(last.to_string(), v);
        } else {
            bad(st, &e, "serial", v);
        }
    }
    let (st, e) = r.admin.op("domains/", "set_serial", &[]).await;
    assert_eq!(bad(st, &e, "serial", "missing"), "Missing parameter");
    let (st, _) = r.admin.op("domains/", "bogus", &[]).await;
    assert_eq!(st, 400);
}

/// A machine's FQDN as the API shows it.
async fn fqdn(r: &TestRegion, sid: &str) -> String {
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    m["fqdn"].as_str().unwrap().to_string()
}
