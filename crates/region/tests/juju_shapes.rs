//! Our responses parsed the way Juju's gomaasapi parses them: every key its
//! schema requires, with the type it requires (a `null` where a string is
//! wanted fails the whole response). Rules from gomaasapi's link.go,
//! subnet.go, vlan.go and domain.go (the 2.0 readers).

use maas_testkit as common;

use common::TestRegion;
use common::shape::{check_domain, check_link, obj};
use serde_json::Value;

fn check_machine_links(m: &Value) -> Vec<Value> {
    let mut links = vec![];
    for i in m["interface_set"].as_array().expect("interface_set") {
        for l in i["links"].as_array().expect("links") {
            check_link(l);
            links.push(l.clone());
        }
    }
    for l in m["boot_interface"]["links"].as_array().expect("boot links") {
        check_link(l);
    }
    links
}

async fn sql(r: &TestRegion, q: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_string()))
        .execute(r.db())
        .await
        .unwrap();
}

#[tokio::test]
async fn machine_links_parse_as_gomaasapi_reads_them() {
    let r = TestRegion::start().await;
    let (st, f) = r.admin.post("fabrics/", &[("name", "juju")]).await;
    assert_eq!(st, 200, "{f}");
    let fid = f["id"].to_string();
    let (st, v) = r
        .admin
        .post(
            &format!("fabrics/{fid}/vlans/"),
            &[("vid", "20"), ("name", "twenty")],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let vid = v["id"].to_string();
    let (st, sp) = r.admin.post("spaces/", &[("name", "db")]).await;
    assert_eq!(st, 200, "{sp}");
    let (st, v) = r
        .admin
        .put(&format!("vlans/{vid}/"), &[("space", "db")])
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, s) = r
        .admin
        .post(
            "subnets/",
            &[
                ("cidr", "10.20.0.0/24"),
                ("vlan", &vid),
                ("gateway_ip", "10.20.0.1"),
                ("dns_servers", "10.20.0.2"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{s}");
    let sid = s["id"].as_i64().unwrap();

    let m = r.ready_machine("juju-1", 4, 4096).await;
    // No link API yet: one link with an address, one without.
    sql(
        &r,
        &format!(
            "INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
             SELECT i.id, {sid}, 'static', '10.20.0.5' FROM interfaces i
               JOIN machines m ON m.id = i.machine_id WHERE m.system_id = '{m}';
             INSERT INTO interface_links (interface_id, subnet_id, mode)
             SELECT i.id, {sid}, 'link_up' FROM interfaces i
               JOIN machines m ON m.id = i.machine_id WHERE m.system_id = '{m}';"
        ),
    )
    .await;

    let (st, subnet) = r.alice.get(&format!("subnets/{sid}/"), &[]).await;
    assert_eq!(st, 200, "{subnet}");
    let (st, one) = r.alice.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(st, 200, "{one}");
    let links = check_machine_links(&one);
    assert_eq!(links.len(), 2, "{one}");
    assert_eq!(links[0]["ip_address"], "10.20.0.5");
    assert!(
        links[1].get("ip_address").is_none(),
        "left out: {}",
        links[1]
    );
    for l in &links {
        // The same object `subnets/{id}/` answers.
        assert_eq!(l["subnet"], subnet);
        assert!(l["subnet"]["vlan"].is_object());
        assert_eq!(l["subnet"]["vlan"]["name"], "twenty");
        assert_eq!(l["subnet"]["space"], "db");
        assert_eq!(l["subnet"]["dns_servers"], serde_json::json!(["10.20.0.2"]));
    }
    assert_eq!(one["ip_addresses"], serde_json::json!(["10.20.0.5"]));

    // The listing (cached or not) and allocate's answer parse the same way.
    for _ in 0..2 {
        let (st, list) = r.alice.get("machines/", &[]).await;
        assert_eq!(st, 200, "{list}");
        let listed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["system_id"] == m.as_str())
            .unwrap();
        assert_eq!(check_machine_links(listed), links);
    }
    let (st, a) = r
        .alice
        .op("machines/", "allocate", &[("system_id", &m)])
        .await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(check_machine_links(&a), links);
    check_domain(&a["domain"]);
}

#[tokio::test]
async fn domains_list_and_read_as_maas_renders_them() {
    let r = TestRegion::start().await;
    sql(
        &r,
        "INSERT INTO domains (name, ttl, authoritative) VALUES ('juju.example', 300, false)",
    )
    .await;
    let (st, list) = r.alice.get("domains/", &[]).await;
    assert_eq!(st, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    for d in &list {
        check_domain(d);
        let keys: Vec<&str> = obj(d, "domain").keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "authoritative",
                "id",
                "is_default",
                "name",
                "resource_record_count",
                "resource_uri",
                "ttl"
            ]
        );
        let (st, one) = r.alice.get(&format!("domains/{}/", d["id"]), &[]).await;
        assert_eq!(st, 200, "{one}");
        assert_eq!(&one, d);
        assert_eq!(
            one["resource_uri"],
            format!("/MAAS/api/2.0/domains/{}/", d["id"])
        );
    }
    assert_eq!(list[0]["name"], "maas");
    assert_eq!(list[0]["is_default"], true);
    assert_eq!(list[0]["ttl"], Value::Null);
    assert_eq!(list[1]["name"], "juju.example");
    assert_eq!(list[1]["ttl"], 300);
    assert_eq!(list[1]["authoritative"], false);
    assert_eq!(list[1]["is_default"], false);
    assert_eq!(list[1]["resource_record_count"], 0);

    for bad in ["domains/999/", "domains/abc/"] {
        let (st, body) = r.alice.get(bad, &[]).await;
        assert_eq!(st, 404, "{bad}: {body}");
    }
    let (st, body) = common::Api::new(&r.url(), None).get("domains/", &[]).await;
    assert_eq!(st, 401, "anonymous: {body}");
}
