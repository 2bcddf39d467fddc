//! Odd bytes and loose values an outside probe found (issue 8): NUL bytes are
//! refused at the edge with a 400 (401 in credentials) naming what carried
//! them, never a 500; integers, hostnames and hardware inventories are
//! checked as strictly as MAAS does; nothing is written on a refusal.

use maas_testkit as common;

use common::{TestRegion, node_api, signal};
use serde_json::Value;

#[tokio::test]
async fn nul_bytes_are_refused_at_the_edge() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("nul1", 2, 2048).await;
    let events = r.count("SELECT count(*) FROM events").await;
    // Query filters, form fields, op parameters: 400 naming the field.
    for (k, v) in [
        ("hostname", "a\0"),
        ("zone", "z\0"),
        ("tags", "t\0"),
        ("owner", "o\0"),
        ("pool", "p\0"),
    ] {
        let (st, body) = r.admin.get("machines/", &[(k, v)]).await;
        assert_eq!(st, 400, "{k}: {body}");
        assert!(body.get(k).is_some(), "{k}: {body}");
    }
    let (st, body) = r
        .admin
        .put(&format!("machines/{sid}/"), &[("description", "x\0y")])
        .await;
    assert_eq!(st, 400, "{body}");
    assert!(body.get("description").is_some(), "{body}");
    let (st, body) = r
        .admin
        .op(
            &format!("machines/{sid}/"),
            "set_owner_data",
            &[("k", "v\0")],
        )
        .await;
    assert_eq!(st, 400, "{body}");
    for (k, v) in [("name", "n\0"), ("zone", "z\0"), ("agent_name", "a\0")] {
        let (st, body) = r.admin.op("machines/", "allocate", &[(k, v)]).await;
        assert_eq!(st, 400, "{k}: {body}");
    }
    // In the path: 400, not a database error.
    let (st, _) = r.admin.get("machines/abc%00/", &[]).await;
    assert_eq!(st, 400);
    let (st, _) = r.admin.get("zones/a%00/", &[]).await;
    assert_eq!(st, 400);
    // In credentials: 401 before any lookup.
    let resp = r
        .admin
        .http
        .get(r.admin.url("machines/"))
        .header(
            "Authorization",
            "OAuth oauth_consumer_key=\"a\", oauth_token=\"a%00\", oauth_signature=\"%26b\", oauth_signature_method=\"PLAINTEXT\", oauth_timestamp=\"1\", oauth_nonce=\"1\"",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // Nothing was written, and the description is unchanged.
    assert_eq!(r.count("SELECT count(*) FROM events").await, events);
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["description"], "");
}

#[tokio::test]
async fn integers_are_integers() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("int1", 2, 2048).await;
    let path = format!("machines/{sid}/");
    for v in ["1e3", "1.5", "0x10", "12abc"] {
        let (st, body) = r.admin.put(&path, &[("cpu_count", v)]).await;
        assert_eq!(st, 400, "{v}: {body}");
        assert!(body.get("cpu_count").is_some(), "{body}");
    }
    // What clients send for integral numbers still works.
    let (st, m) = r.admin.put(&path, &[("cpu_count", "8.0")]).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["cpu_count"], 8);
}

#[tokio::test]
async fn hostnames_name_their_domain() {
    let r = TestRegion::start().await;
    let create = |host: &'static str| {
        let api = r.admin.clone();
        async move {
            api.post(
                "machines/",
                &[
                    ("architecture", "amd64"),
                    ("mac_addresses", &common::random_mac()),
                    ("hostname", host),
                    ("power_type", "manual"),
                    ("commission", "false"),
                ],
            )
            .await
        }
    };
    let machines = r.count("SELECT count(*) FROM machines").await;
    for bad in ["a..b", "w.", ".x", "x.nodomain"] {
        let (st, body) = create(bad).await;
        assert_eq!(st, 400, "{bad}: {body}");
    }
    assert_eq!(r.count("SELECT count(*) FROM machines").await, machines);
    // The default domain by name: accepted, the host part is the hostname.
    let (st, m) = create("web9.maas").await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["hostname"], "web9");
    assert_eq!(m["fqdn"], "web9.maas");
    // An update may not move it to a domain that does not exist.
    let sid = m["system_id"].as_str().unwrap();
    let (st, body) = r
        .admin
        .put(
            &format!("machines/{sid}/"),
            &[("hostname", "web9.elsewhere")],
        )
        .await;
    assert_eq!(st, 400, "{body}");
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["hostname"], "web9");
}

#[tokio::test]
async fn inventories_are_checked_like_the_rest_api() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("inv1", 2, 2048).await;
    let path = format!("machines/{sid}/");
    let node = node_api(&r, &sid).await;
    let (st, _) = r.admin.op(&path, "commission", &[]).await;
    assert_eq!(st, 200);
    let results = r.count("SELECT count(*) FROM script_results").await;
    for inv in [
        r#"{"cpu_count": -4}"#,
        r#"{"memory": -1}"#,
        r#"{"cpu_count": 1000000}"#,
        r#"{"disks": [{"name": "sda", "size": -5}]}"#,
        r#"{"disks": [{"name": "../../x", "size": 5}]}"#,
        r#"{"disks": [{"name": "a\u0000b", "size": 5}]}"#,
        r#"{"disks": [{"name": "sda", "size": 5, "model": "m\u0000"}]}"#,
        r#"{"disks": [{"name": "sda", "size": 5, "tags": ["t\u0000"]}]}"#,
    ] {
        let (st, body) = signal(
            &node,
            &[("status", "OK")],
            Some(("hardware.json", inv.as_bytes().to_vec())),
        )
        .await;
        assert_eq!(st, 400, "{inv}: {body}");
    }
    // Nothing stored, still commissioning, hardware as it was.
    assert_eq!(
        r.count("SELECT count(*) FROM script_results").await,
        results
    );
    let (_, m) = r.admin.get(&path, &[]).await;
    assert_eq!(m["status_name"], "Commissioning");
    assert_eq!(m["cpu_count"], 2);
    assert_eq!(m["blockdevice_set"], Value::Array(vec![]));
}

async fn sign_in(r: &TestRegion, user: &str, password: &str) -> (u16, std::time::Duration) {
    let t0 = std::time::Instant::now();
    let resp = r
        .anon
        .http
        .post(r.anon.url("/MAAS/accounts/authenticate/"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), t0.elapsed())
}

#[tokio::test]
async fn sign_in_is_throttled_and_does_not_tell_who_exists() {
    let r = TestRegion::start().await;
    common::make_user(r.db(), "bob", false).await; // password "pw"
    let (st, _) = sign_in(&r, "bob", "pw").await;
    assert_eq!(st, 200);
    // Wrong passwords: refused, then held back; even the right one waits.
    for _ in 0..maas_region::services::signin::USER_FREE_FAILURES {
        assert_eq!(sign_in(&r, "bob", "wrong").await.0, 401);
    }
    assert_eq!(sign_in(&r, "bob", "pw").await.0, 429);
    // Another user from the same address is not held back by bob's count.
    assert_eq!(sign_in(&r, "alice", "pw").await.0, 200);
    // Unknown users cost the same check as known ones (a few samples each,
    // each name fresh so none is held back).
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for n in 0..3 {
        let name = format!("known{n}");
        common::make_user(r.db(), &name, false).await;
        let (st, t) = sign_in(&r, &name, "wrong").await;
        assert_eq!(st, 401);
        known.push(t);
        let (st, t) = sign_in(&r, &format!("nobody{n}"), "wrong").await;
        assert_eq!(st, 401);
        unknown.push(t);
    }
    known.sort();
    unknown.sort();
    assert!(
        unknown[1] * 2 >= known[1],
        "unknown users answer much faster: {unknown:?} vs {known:?}"
    );
}
