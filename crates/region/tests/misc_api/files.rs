//! Files, machine details, script results and scripts.

use maas_testkit as common;

use common::TestRegion;
use common::shape::{int, obj, string};
use serde_json::Value;

use crate::{raw, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files() {
    let r = TestRegion::start_with(|o| o.max_body = 64 << 10).await;
    let joe = r.user("joe", false).await;
    let ann = r.user("ann", false).await;

    let (st, v) = upload(&joe, "provider-state", b"state: 1\n".to_vec()).await;
    assert_eq!(st, 201, "{v}");
    let (st, _) = upload(&joe, "tools/a.tgz", vec![0, 1, 2, 255]).await;
    assert_eq!(st, 201);
    // Replaced for the owner, not another user's file of that name.
    let (st, _) = upload(&joe, "provider-state", b"state: 2\n".to_vec()).await;
    assert_eq!(st, 201);
    let (st, _) = upload(&ann, "provider-state", b"ann".to_vec()).await;
    assert_eq!(st, 201);
    assert_eq!(r.count("SELECT count(*) FROM files").await, 3);

    let (st, list) = joe.get("files/", &[]).await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for f in list {
        let o = obj(f, "file");
        for k in ["filename", "anon_resource_uri", "resource_uri"] {
            string(o, k, "file");
        }
        assert!(o.get("content").is_none(), "{f}");
    }
    assert_eq!(list[0]["filename"], "provider-state");
    let (_, pre) = joe.get("files/", &[("prefix", "tools/")]).await;
    assert_eq!(pre.as_array().unwrap().len(), 1);

    let (st, _, body) = raw(
        &joe,
        "files/",
        &[("op", "get"), ("filename", "provider-state")],
    )
    .await;
    assert_eq!((st, body.as_slice()), (200, &b"state: 2\n"[..]));
    let (st, _, _) = raw(&joe, "files/", &[("op", "get"), ("filename", "nope")]).await;
    assert_eq!(st, 404);

    // Anonymous read by key.
    let anon_uri = list[0]["anon_resource_uri"].as_str().unwrap().to_string();
    let key = anon_uri.split("key=").nth(1).unwrap();
    let anon = common::Api::new(&r.url(), None);
    let (st, _, body) = raw(&anon, "files/", &[("op", "get_by_key"), ("key", key)]).await;
    assert_eq!((st, body.as_slice()), (200, &b"state: 2\n"[..]));
    let (st, _, _) = raw(&anon, "files/", &[("op", "get_by_key"), ("key", "nope")]).await;
    assert_eq!(st, 404);
    let (st, _, _) = raw(&anon, "files/", &[]).await;
    assert_eq!(st, 401);

    let (st, one) = joe.get("files/provider-state/", &[]).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!(one["content"], "c3RhdGU6IDIK");
    assert_eq!(one["resource_uri"], "/MAAS/api/2.0/files/provider-state/");
    let (st, one) = joe.get("files/tools%2Fa.tgz/", &[]).await;
    assert_eq!((st, one["content"].clone()), (200, Value::from("AAEC/w==")));

    // Bad input and oversize: 400 / 413, nothing written.
    let (st, _) = joe.post("files/", &[("filename", "x")]).await;
    assert_eq!(st, 400);
    let (st, _) = upload(&joe, "", b"x".to_vec()).await;
    assert_eq!(st, 400);
    let (st, _) = upload(&joe, "big", vec![7u8; 100 << 10]).await;
    assert_eq!(st, 413);
    assert_eq!(r.count("SELECT count(*) FROM files").await, 3);

    let (st, _) = joe.delete("files/provider-state/").await;
    assert_eq!(st, 204);
    let (st, _) = joe.delete("files/provider-state/").await;
    assert_eq!(st, 404);
    let (st, _) = joe.op("files/?filename=tools/a.tgz", "delete", &[]).await;
    assert_eq!(st, 204);
    let (st, _) = joe.get("files/provider-state/", &[]).await;
    assert_eq!(st, 404);
    // ann's file stays.
    assert_eq!(r.count("SELECT count(*) FROM files").await, 1);
}

/// A minimal BSON reader for the test: name → Some(bytes) or None (null).
fn read_bson(d: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let len = i32::from_le_bytes(d[..4].try_into().unwrap()) as usize;
    assert_eq!(len, d.len());
    assert_eq!(d[len - 1], 0);
    let mut i = 4;
    let mut out = vec![];
    while d[i] != 0 {
        let t = d[i];
        let end = i + 1 + d[i + 1..].iter().position(|b| *b == 0).unwrap();
        let name = String::from_utf8(d[i + 1..end].to_vec()).unwrap();
        i = end + 1;
        match t {
            0x0a => out.push((name, None)),
            0x05 => {
                let n = i32::from_le_bytes(d[i..i + 4].try_into().unwrap()) as usize;
                assert_eq!(d[i + 4], 0);
                out.push((name, Some(d[i + 5..i + 5 + n].to_vec())));
                i += 5 + n;
            }
            other => panic!("unexpected BSON type {other}"),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_and_results() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("m1", 2, 2048).await;
    let (st, ct, body) = raw(&r.admin, &format!("machines/{sid}/"), &[("op", "details")]).await;
    assert_eq!((st, ct.as_str()), (200, "application/bson"));
    assert_eq!(
        read_bson(&body),
        vec![("lshw".to_string(), None), ("lldp".to_string(), None)]
    );
    let mid: i64 = sqlx::query_scalar("SELECT id FROM machines WHERE system_id = $1")
        .bind(&sid)
        .fetch_one(r.db())
        .await
        .unwrap();
    for (name, status, out) in [
        ("maas-lshw", 2i16, &b"<list><node/></list>"[..]),
        ("maas-capture-lldpd", 3, b"<lldp/>"),
        ("hardware.json", 2, b"{}"),
    ] {
        sqlx::query(
            "INSERT INTO script_results (machine_id, result_type, name, status, exit_status, output)
             VALUES ($1, 0, $2, $3, 0, $4)",
        )
        .bind(mid)
        .bind(name)
        .bind(status)
        .bind(out)
        .execute(r.db())
        .await
        .unwrap();
    }
    let (_, _, body) = raw(&r.admin, &format!("nodes/{sid}/"), &[("op", "details")]).await;
    assert_eq!(
        read_bson(&body),
        vec![
            ("lshw".to_string(), Some(b"<list><node/></list>".to_vec())),
            // A failed capture is not a detail.
            ("lldp".to_string(), None)
        ]
    );
    let (st, _, _) = raw(&r.admin, "machines/nope/", &[("op", "details")]).await;
    assert_eq!(st, 404);

    let (st, sets) = r.admin.get(&format!("nodes/{sid}/results/"), &[]).await;
    assert_eq!(st, 200, "{sets}");
    let sets = sets.as_array().unwrap();
    assert_eq!(sets.len(), 1);
    let s = obj(&sets[0], "script set");
    int(s, "id", "script set");
    int(s, "status", "script set");
    string(s, "type_name", "script set");
    assert_eq!(s["type_name"], "Commissioning");
    assert_eq!(s["status_name"], "Failed");
    assert_eq!(s["system_id"], Value::from(sid.clone()));
    let results = s["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["name"], "hardware.json");
    assert!(results[0].get("output").is_none());
    let (_, with) = r
        .admin
        .get(
            &format!("nodes/{sid}/results/"),
            &[("include_output", "true")],
        )
        .await;
    assert_eq!(with[0]["results"][1]["output"], "PGxsZHAvPg==");
    let (_, testing) = r
        .admin
        .get(&format!("nodes/{sid}/results/"), &[("type", "testing")])
        .await;
    assert_eq!(testing, serde_json::json!([]));
    let (st, _) = r
        .admin
        .get(&format!("nodes/{sid}/results/"), &[("type", "bogus")])
        .await;
    assert_eq!(st, 400);
    let set_id = sets[0]["id"].as_i64().unwrap();
    let (st, one) = r
        .admin
        .get(&format!("nodes/{sid}/results/{set_id}/"), &[])
        .await;
    assert_eq!((st, one["id"].as_i64()), (200, Some(set_id)), "{one}");
    let (st, cur) = r
        .admin
        .get(&format!("nodes/{sid}/results/current-commissioning/"), &[])
        .await;
    assert_eq!((st, cur["id"].as_i64()), (200, Some(set_id)), "{cur}");
    let (st, _) = r
        .admin
        .get(&format!("nodes/{sid}/results/current-testing/"), &[])
        .await;
    assert_eq!(st, 404);
    let (st, _) = r.admin.get("nodes/nope/results/", &[]).await;
    assert_eq!(st, 404);

    let (st, scripts) = r.admin.get("scripts/", &[]).await;
    assert_eq!(st, 200);
    let names: Vec<&str> = scripts
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"maas-lshw"), "{names:?}");
    let (st, one) = r.admin.get("scripts/maas-lshw", &[]).await;
    assert_eq!(
        (st, one["name"].as_str()),
        (200, Some("maas-lshw")),
        "{one}"
    );
    assert!(one["id"].is_i64(), "{one}");
    let (st, _) = r.admin.get("scripts/nope", &[]).await;
    assert_eq!(st, 404);
    let (_, testing) = r.admin.get("scripts/", &[("type", "testing")]).await;
    assert_eq!(testing, serde_json::json!([]));
}
