//! Machines over the API against a real PostgreSQL: listing filters and
//! pagination, create / update / delete, bad and oversized input, large
//! lists.

use maas_testkit as common;

use common::TestRegion;
use serde_json::Value;

#[tokio::test]
async fn listing_filters_and_cursor_pages() {
    let r = TestRegion::start().await;
    r.admin.post("zones/", &[("name", "z2")]).await;
    r.admin.post("tags/", &[("name", "t1")]).await;
    let mut sids = Vec::new();
    for i in 0..7 {
        sids.push(
            r.ready_machine(&format!("node{i}"), i + 1, 1024 * (i + 1))
                .await,
        );
    }
    r.admin
        .put(&format!("machines/{}/", sids[0]), &[("zone", "z2")])
        .await;
    r.admin
        .op(
            "tags/t1/",
            "update_nodes",
            &[("add", &sids[1]), ("add", &sids[2])],
        )
        .await;
    r.alice
        .op("machines/", "allocate", &[("system_id", &sids[3])])
        .await;
    let (_, one) = r.admin.get(&format!("machines/{}/", sids[4]), &[]).await;
    let mac = one["interface_set"][0]["mac_address"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let count = |q: Vec<(&'static str, String)>| {
        let api = r.admin.clone();
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (st, v) = api.get("machines/", &q).await;
            assert_eq!(st, 200, "{v}");
            v.as_array().unwrap().len()
        }
    };
    assert_eq!(count(vec![]).await, 7);
    assert_eq!(
        count(vec![
            ("hostname", "node1".into()),
            ("hostname", "node2.maas".into())
        ])
        .await,
        2
    );
    assert_eq!(count(vec![("mac_address", mac)]).await, 1);
    assert_eq!(count(vec![("zone", "z2".into())]).await, 1);
    assert_eq!(count(vec![("tags", "t1".into())]).await, 2);
    assert_eq!(count(vec![("status", "allocated".into())]).await, 1);
    assert_eq!(count(vec![("status", "ready".into())]).await, 6);
    assert_eq!(count(vec![("not_status", "ready".into())]).await, 1);
    assert_eq!(count(vec![("simple_status", "Allocated".into())]).await, 1);
    assert_eq!(count(vec![("owner", "alice".into())]).await, 1);
    assert_eq!(
        count(vec![("id", sids[5].clone()), ("id", sids[6].clone())]).await,
        2
    );
    assert_eq!(count(vec![("cpu_count", "6".into())]).await, 2);
    assert_eq!(count(vec![("arch", "amd64".into())]).await, 7);
    assert_eq!(count(vec![("arch", "arm64".into())]).await, 0);
    assert_eq!(
        r.admin.get("machines/", &[("status", "sleeping")]).await.0,
        400
    );
    assert_eq!(
        r.admin.get("machines/", &[("mac_address", "zz")]).await.0,
        400
    );
    // Cursor pagination: pages of 3 cover every machine exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut rb = r
            .admin
            .http
            .get(r.admin.url("machines/"))
            .query(&[("limit", "3")]);
        if let Some(c) = &cursor {
            rb = rb.query(&[("cursor", c)]);
        }
        let resp = rb
            .header("Authorization", r.admin.auth_header().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let next = resp
            .headers()
            .get("x-maas-next-cursor")
            .map(|v| v.to_str().unwrap().to_string());
        let page: Value = resp.json().await.unwrap();
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= 3);
        seen.extend(
            page.iter()
                .map(|m| m["system_id"].as_str().unwrap().to_string()),
        );
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let mut want = sids.clone();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);
    assert_eq!(r.admin.get("machines/", &[("limit", "0")]).await.0, 400);
    assert_eq!(
        r.admin
            .get("machines/", &[("limit", "2"), ("cursor", "bogus")])
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn machine_create_update_delete_and_bad_input() {
    let r = TestRegion::start().await;
    let mac = common::random_mac();
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64"),
                ("mac_addresses", &mac),
                ("hostname", "web1"),
                ("power_type", "manual"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        m["status_name"], "Commissioning",
        "admin-created machines commission"
    );
    assert_eq!(m["architecture"], "amd64/generic");
    assert_eq!(m["fqdn"], "web1.maas");
    let sid = m["system_id"].as_str().unwrap().to_string();
    assert!(maas_model::ids::is_valid_system_id(&sid));
    assert_eq!(m["resource_uri"], format!("/MAAS/api/2.0/machines/{sid}/"));
    for f in [
        "status",
        "power_state",
        "cpu_count",
        "memory",
        "zone",
        "pool",
        "owner",
        "tag_names",
        "interface_set",
        "domain",
        "osystem",
        "distro_series",
    ] {
        assert!(m.get(f).is_some(), "machine JSON lacks {f}");
    }
    let before = r.count("SELECT count(*) FROM machines").await;
    for (form, field) in [
        (vec![("mac_addresses", "52:54:00:00:00:99")], "architecture"),
        (vec![("architecture", "amd64")], "mac_addresses"),
        (
            vec![("architecture", "amd64"), ("mac_addresses", "not-a-mac")],
            "mac_addresses",
        ),
        (
            vec![("architecture", "amd64"), ("mac_addresses", &mac)],
            "mac_addresses",
        ),
        (
            vec![
                ("architecture", "am d64"),
                ("mac_addresses", "52:54:00:00:00:98"),
            ],
            "architecture",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:97"),
                ("hostname", "web1"),
            ],
            "hostname",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:96"),
                ("hostname", "-bad-"),
            ],
            "hostname",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:95"),
                ("power_type", "telepathy"),
            ],
            "power_type",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:94"),
                ("power_type", "ipmi"),
                ("power_parameters_colour", "red"),
            ],
            "power_parameters_colour",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:93"),
                ("cpu_count", "lots"),
            ],
            "cpu_count",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:92"),
                ("zone", "nowhere"),
            ],
            "zone",
        ),
        (
            vec![
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:91"),
                ("commission", "maybe"),
            ],
            "commission",
        ),
    ] {
        let (st, e) = r.admin.post("machines/", &form).await;
        assert_eq!(st, 400, "{form:?}: {e}");
        assert!(e.get(field).is_some(), "{form:?}: {e}");
    }
    assert_eq!(
        r.count("SELECT count(*) FROM machines").await,
        before,
        "nothing half-written"
    );
    // Anonymous enlistment: NEW, limited view.
    let (st, m) = r
        .anon
        .post(
            "machines/",
            &[
                ("architecture", "amd64"),
                ("mac_addresses", "52:54:00:00:00:90"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["status"], 0);
    assert!(m.get("interface_set").is_none() && m.get("owner").is_none());
    let (_, reg) = r
        .anon
        .get_op(
            "machines/",
            "is_registered",
            &[("mac_address", "52-54-00-00-00-90")],
        )
        .await;
    assert_eq!(reg, true);
    // Update and delete.
    let (st, m) = r
        .admin
        .put(
            &format!("machines/{sid}/"),
            &[
                ("hostname", "web2"),
                ("cpu_count", "8"),
                ("memory", "4096"),
                ("description", "front"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        (
            m["hostname"].as_str(),
            m["cpu_count"].as_i64(),
            m["description"].as_str()
        ),
        (Some("web2"), Some(8), Some("front"))
    );
    assert_eq!(
        r.admin
            .put(&format!("machines/{sid}/"), &[("cpu_count", "-1")])
            .await
            .0,
        400
    );
    assert_eq!(
        r.admin
            .put(&format!("machines/{sid}/"), &[("memory", "1.5")])
            .await
            .0,
        400
    );
    assert_eq!(r.admin.get("machines/xxxxxx/", &[]).await.0, 404);
    assert_eq!(r.admin.op("machines/xxxxxx/", "deploy", &[]).await.0, 404);
    // Unknown ops and methods.
    assert_eq!(
        r.admin.op(&format!("machines/{sid}/"), "fly", &[]).await.0,
        400
    );
    assert_eq!(r.admin.get_op("machines/", "fly", &[]).await.0, 400);
    assert_eq!(r.admin.put("machines/", &[]).await.0, 405);
    assert_eq!(r.admin.get("no-such-thing/", &[]).await.0, 404);
    // Without the trailing slash too.
    assert_eq!(r.admin.get(&format!("machines/{sid}"), &[]).await.0, 200);
    assert_eq!(r.admin.delete(&format!("machines/{sid}/")).await.0, 204);
    assert_eq!(r.admin.get(&format!("machines/{sid}/"), &[]).await.0, 404);
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let r = TestRegion::start_with(|o| o.max_body = 64 * 1024).await;
    let before = r.count("SELECT count(*) FROM machines").await;
    let url = r.admin.url("machines/");
    let h = r.admin.auth_header().unwrap();
    let http = maas_testkit::http_client();
    let big = "a".repeat(100 * 1024);
    let resp = http
        .post(&url)
        .header("Authorization", &h)
        .form(&[("architecture", "amd64"), ("description", &big)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    for (ct, body) in [
        (
            "multipart/form-data; boundary=XYZ",
            "--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
        ),
        ("multipart/form-data", "--X--"),
        (
            "multipart/form-data; boundary=B",
            "--B\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name=\"architecture\"\r\n\r\n%%%%\r\n--B--",
        ),
        ("application/json", "{\"architecture\": "),
        ("application/json", "[1,2]"),
        ("text/xml", "<machine/>"),
    ] {
        let resp = http
            .post(&url)
            .header("Authorization", &h)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{ct}: {body}");
        assert!(!resp.text().await.unwrap().is_empty());
    }
    // JSON and base64 multipart (python-libmaas) bodies are accepted.
    let resp = http
        .post(&url)
        .header("Authorization", &h)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"architecture\": \"amd64\", \"mac_addresses\": [\"{}\"], \"commission\": false}}",
            common::random_mac()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(r.count("SELECT count(*) FROM machines").await, before + 1);
}

#[tokio::test]
async fn large_lists_are_complete_and_valid() {
    let r = TestRegion::start().await;
    sqlx::query(
        "INSERT INTO machines (system_id, hostname, status, architecture, cpu_count, memory)
         SELECT 'l' || lpad(to_hex(g), 5, '0'), 'big-' || g, 4, 'amd64/generic', 1 + g % 8, 1024
           FROM generate_series(1, 1501) g",
    )
    .execute(r.db())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO interfaces (machine_id, name, mac_address, is_boot)
         SELECT id, 'eth0', '52:54:00:' || lpad(to_hex(id >> 16 & 255), 2, '0') || ':' ||
                lpad(to_hex(id >> 8 & 255), 2, '0') || ':' || lpad(to_hex(id & 255), 2, '0'), true
           FROM machines",
    )
    .execute(r.db())
    .await
    .unwrap();
    let (st, list) = r.admin.get("machines/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1501);
    let ids: std::collections::HashSet<&str> = list
        .iter()
        .map(|m| m["system_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1501);
    for (i, m) in list.iter().enumerate() {
        assert_eq!(m["hostname"], format!("big-{}", i + 1), "id order");
        assert_eq!(m["interface_set"].as_array().unwrap().len(), 1);
        assert_eq!(m["boot_interface"]["name"], "eth0");
    }
}

/// Collection operations naming unknown machines answer 400 `Unknown
/// machine(s): …` as MAAS does (Juju reads only 400/403/409 as answers), and
/// act on none of the machines named.
#[tokio::test]
async fn collection_ops_refuse_unknown_machines() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("rel1", 2, 2048).await;
    let (st, m) = r
        .admin
        .op("machines/", "allocate", &[("system_id", &sid)])
        .await;
    assert_eq!(st, 200, "{m}");
    let (st, body) = r
        .admin
        .op(
            "machines/",
            "release",
            &[("machines", &sid), ("machines", "nosuch")],
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(body, "Unknown machine(s): nosuch.");
    assert_eq!(r.status_of(&sid).await, 10, "nothing released");
    let (st, body) = r
        .admin
        .op("machines/", "accept", &[("machines", "nosuch2")])
        .await;
    assert_eq!(st, 400);
    assert_eq!(body, "Unknown machine(s): nosuch2.");
    let (st, released) = r
        .admin
        .op("machines/", "release", &[("machines", &sid)])
        .await;
    assert_eq!(st, 200, "{released}");
    assert_eq!(r.status_of(&sid).await, 4);
}

/// The smaller MAAS ops clients call: `is_action_in_progress` (anonymous,
/// by MAC), `set_workload_annotations` (3.x name of `set_owner_data`),
/// anonymous `accept` (always 401) and `add_chassis` (refused, saying why).
#[tokio::test]
async fn action_in_progress_annotations_and_refusals() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("busy", 1, 1024).await;
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    let mac = m["boot_interface"]["mac_address"]
        .as_str()
        .unwrap()
        .to_string();
    let busy = |mac: String| {
        let anon = r.anon.clone();
        async move {
            anon.get_op(
                "machines/",
                "is_action_in_progress",
                &[("mac_address", &mac)],
            )
            .await
        }
    };
    assert_eq!(busy(mac.clone()).await, (200, Value::Bool(false)));
    r.force_status(&sid, 1).await;
    assert_eq!(busy(mac.to_uppercase()).await, (200, Value::Bool(true)));
    assert_eq!(busy(common::random_mac()).await, (200, Value::Bool(false)));
    assert_eq!(busy("nonsense".into()).await.0, 400);
    assert_eq!(
        r.anon
            .get_op("machines/", "is_action_in_progress", &[])
            .await
            .0,
        400
    );
    r.force_status(&sid, 4).await;

    let path = format!("machines/{sid}/");
    let (st, m) = r
        .admin
        .op(&path, "set_workload_annotations", &[("app", "db")])
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["workload_annotations"]["app"], "db");
    assert_eq!(m["owner_data"]["app"], "db");

    assert_eq!(
        r.anon
            .op("machines/", "accept", &[("machines", &sid)])
            .await
            .0,
        401
    );
    let (st, e) = r
        .admin
        .op("machines/", "add_chassis", &[("chassis_type", "virsh")])
        .await;
    assert_eq!(st, 400);
    assert!(e.to_string().contains("chassis"), "{e}");
    assert_eq!(r.alice.op("machines/", "add_chassis", &[]).await.0, 403);
}
