//! The network model API (fabrics, VLANs, subnets, IP ranges, reserved IPs,
//! spaces) and rack interface recording, against a real PostgreSQL. One test
//! binary (`tests/networks/main.rs`), the tests grouped in its modules.

use maas_testkit as common;

use common::TestRegion;
use serde_json::Value;

mod access;
mod addresses;
mod fabrics_vlans;
mod lookups;
mod racks;
mod subnets;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn counts(r: &TestRegion) -> [i64; 6] {
    [
        r.count("SELECT count(*) FROM fabrics").await,
        r.count("SELECT count(*) FROM vlans").await,
        r.count("SELECT count(*) FROM subnets").await,
        r.count("SELECT count(*) FROM ipranges").await,
        r.count("SELECT count(*) FROM reserved_ips").await,
        r.count("SELECT count(*) FROM spaces").await,
    ]
}

/// Create a subnet through the API (admin), asserting success.
async fn subnet(r: &TestRegion, form: &[(&str, &str)]) -> Value {
    let (st, s) = r.admin.post("subnets/", form).await;
    assert_eq!(st, 200, "{form:?}: {s}");
    s
}

async fn fabric(r: &TestRegion, name: &str) -> Value {
    let (st, f) = r.admin.post("fabrics/", &[("name", name)]).await;
    assert_eq!(st, 200, "{f}");
    f
}

async fn rack(r: &TestRegion, system_id: &str) -> i64 {
    sqlx::query_scalar("INSERT INTO racks (system_id, hostname) VALUES ($1, $1) RETURNING id")
        .bind(system_id)
        .fetch_one(r.db())
        .await
        .unwrap()
}

/// Assert a 400 whose JSON body names `field`.
fn bad(st: u16, body: &Value, field: &str, ctx: &str) {
    assert_eq!(st, 400, "{ctx}: {body}");
    assert!(
        body.get(field)
            .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty())),
        "{ctx}: expected an error on {field}: {body}"
    );
}
