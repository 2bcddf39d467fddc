//! The region's in-memory caches (rendered machines, their related sets, API
//! keys) against a real PostgreSQL and several regions on one database:
//! whatever changes, and whoever changes it, a region with warm caches
//! answers exactly what a region with empty caches answers.

use maas_testkit as common;

use std::time::{Duration, Instant};

use common::{Api, TestRegion, random_mac};
use maas_region::region::Running;
use serde_json::Value;

/// Every machine as `api` sees it: the list, and each machine read alone.
async fn snapshot(api: &Api) -> (Value, Vec<Value>) {
    let (st, list) = api.get("machines/", &[]).await;
    assert_eq!(st, 200, "{list}");
    let mut each = vec![];
    for m in list.as_array().unwrap() {
        let (st, one) = api
            .get(
                &format!("machines/{}/", m["system_id"].as_str().unwrap()),
                &[],
            )
            .await;
        assert_eq!(st, 200, "{one}");
        each.push(one);
    }
    (list, each)
}

/// What a region with empty caches answers now (a region started for it).
async fn uncached(r: &TestRegion, key: &str) -> (Value, Vec<Value>) {
    let (fresh, _dir) = r.another_region().await;
    let api = Api::new(&fresh.url(), Some(key.to_string()));
    let s = snapshot(&api).await;
    fresh.stop().await.unwrap();
    s
}

async fn sql(r: &TestRegion, q: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(q.to_string()))
        .execute(r.db())
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

fn find<'a>(list: &'a Value, system_id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["system_id"] == system_id)
        .unwrap_or_else(|| panic!("{system_id} not listed"))
}

#[tokio::test]
async fn warm_caches_follow_every_change_made_anywhere() {
    let r = TestRegion::start().await;
    let key = r.admin.key.clone().unwrap();
    let (b, _bdir) = r.another_region().await;
    let on_b = Api::new(&b.url(), Some(key.clone()));

    let m1 = r.ready_machine("cache-1", 4, 4096).await;
    let m2 = r.ready_machine("cache-2", 8, 8192).await;
    let (st, a) = r
        .alice
        .op("machines/", "allocate", &[("system_id", &m2)])
        .await;
    assert_eq!(st, 200, "{a}");
    sql(
        &r,
        &format!(
            "INSERT INTO spaces (name) VALUES ('sp-a');
             INSERT INTO fabrics (name) VALUES ('fab-a');
             INSERT INTO vlans (fabric_id, vid, name, space_id)
                 SELECT f.id, 0, 'untagged', s.id FROM fabrics f, spaces s
                  WHERE f.name = 'fab-a' AND s.name = 'sp-a';
             INSERT INTO subnets (name, cidr, vlan_id)
                 SELECT 'net-a', '10.9.0.0/24', v.id FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
                  WHERE f.name = 'fab-a';
             UPDATE interfaces SET vlan_id = (SELECT v.id FROM vlans v JOIN fabrics f
                                               ON f.id = v.fabric_id WHERE f.name = 'fab-a')
              WHERE machine_id = (SELECT id FROM machines WHERE system_id = '{m1}');
             INSERT INTO interface_links (interface_id, subnet_id, mode, ip)
                 SELECT i.id, s.id, 'static', '10.9.0.5' FROM interfaces i, subnets s
                  WHERE s.name = 'net-a'
                    AND i.machine_id = (SELECT id FROM machines WHERE system_id = '{m1}');"
        ),
    )
    .await;

    // Each change, made through region A's API or straight in the database
    // (as another region would), with a check of what it must show on B.
    type Check = Box<dyn Fn(&Value) -> bool>;
    let m1c = m1.clone();
    let m2c = m2.clone();
    let steps: Vec<(&str, String, Check)> = vec![
        ("machine row", String::new(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["hostname"] == "renamed")
        }),
        (
            "zone",
            "UPDATE zones SET description = 'zone changed'".into(),
            Box::new(|l| l[0]["zone"]["description"] == "zone changed"),
        ),
        (
            "pool",
            "UPDATE resource_pools SET description = 'pool changed'".into(),
            Box::new(|l| l[0]["pool"]["description"] == "pool changed"),
        ),
        (
            "domain",
            "UPDATE domains SET name = 'lab' WHERE id = 0".into(),
            Box::new(|l| l[0]["fqdn"].as_str().unwrap().ends_with(".lab")),
        ),
        ("owner name", "UPDATE users SET username = 'alice2' WHERE username = 'alice'".into(), {
            let s = m2c.clone();
            Box::new(move |l| find(l, &s)["owner"] == "alice2")
        }),
        ("vlan", "UPDATE vlans SET name = 'v-renamed', mtu = 9000 WHERE name = 'untagged' AND fabric_id = (SELECT id FROM fabrics WHERE name = 'fab-a')".into(), {
            let s = m1c.clone();
            Box::new(move |l| {
                let i = &find(l, &s)["interface_set"][0];
                i["vlan"]["name"] == "v-renamed" && i["effective_mtu"] == 9000
            })
        }),
        ("fabric", "UPDATE fabrics SET name = 'fab-b' WHERE name = 'fab-a'".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["interface_set"][0]["vlan"]["fabric"] == "fab-b")
        }),
        ("space", "UPDATE spaces SET name = 'sp-b' WHERE name = 'sp-a'".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["boot_interface"]["vlan"]["space"] == "sp-b")
        }),
        ("subnet", "UPDATE subnets SET name = 'net-b', gateway_ip = '10.9.0.1' WHERE name = 'net-a'".into(), {
            let s = m1c.clone();
            Box::new(move |l| {
                let sn = &find(l, &s)["interface_set"][0]["links"][0]["subnet"];
                sn["name"] == "net-b" && sn["gateway_ip"] == "10.9.0.1"
            })
        }),
        ("subnet's dns servers", "UPDATE subnets SET dns_servers = '{10.9.0.2}', description = 'dns'".into(), {
            let s = m1c.clone();
            Box::new(move |l| {
                let sn = &find(l, &s)["interface_set"][0]["links"][0]["subnet"];
                sn["dns_servers"] == serde_json::json!(["10.9.0.2"]) && sn["description"] == "dns"
            })
        }),
        ("link's vlan", "UPDATE vlans SET description = 'described' WHERE fabric_id = (SELECT id FROM fabrics WHERE name = 'fab-b')".into(), {
            let s = m1c.clone();
            Box::new(move |l| {
                find(l, &s)["interface_set"][0]["links"][0]["subnet"]["vlan"]["description"] == "described"
            })
        }),
        ("link", "UPDATE interface_links SET ip = '10.9.0.7'".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["ip_addresses"] == serde_json::json!(["10.9.0.7"]))
        }),
        ("interface added", format!(
            "INSERT INTO interfaces (machine_id, name, mac_address)
             SELECT id, 'eth9', '{}' FROM machines WHERE system_id = '{m2c}'", random_mac()), {
            let s = m2c.clone();
            Box::new(move |l| find(l, &s)["interface_set"].as_array().unwrap().len() == 2)
        }),
        ("disk added", format!(
            "INSERT INTO block_devices (machine_id, name, size)
             SELECT id, 'sda', 1000000000000 FROM machines WHERE system_id = '{m1c}'"), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["storage"] == 1_000_000.0)
        }),
        ("disk changed", "UPDATE block_devices SET size = 2000000000000".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["blockdevice_set"][0]["size"] == 2_000_000_000_000_i64)
        }),
        ("disk formatted", "INSERT INTO filesystems (machine_id, block_device_id, fstype, uuid,
                                                   mount_point)
             SELECT machine_id, id, 'ext4', 'u1', '/' FROM block_devices".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["blockdevice_set"][0]["filesystem"]["mount_point"] == "/")
        }),
        ("disks truncated", "TRUNCATE block_devices CASCADE".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["blockdevice_set"] == serde_json::json!([]))
        }),
        ("interface removed", "DELETE FROM interfaces WHERE name = 'eth9'".into(), {
            let s = m2c.clone();
            Box::new(move |l| find(l, &s)["interface_set"].as_array().unwrap().len() == 1)
        }),
        ("link removed", "DELETE FROM interface_links".into(), {
            let s = m1c.clone();
            Box::new(move |l| find(l, &s)["ip_addresses"] == serde_json::json!([]))
        }),
        ("machine deleted", String::new(), {
            let s = m2c.clone();
            Box::new(move |l| l.as_array().unwrap().iter().all(|m| m["system_id"] != s))
        }),
    ];

    let mut before = snapshot(&on_b).await;
    assert_eq!(before, uncached(&r, &key).await, "initial state");
    for (what, change, check) in steps {
        // Warm: B has answered (twice) since the last change.
        assert_eq!(snapshot(&on_b).await, before, "{what}: repeatable");
        match what {
            "machine row" => {
                let (st, m) = r
                    .admin
                    .put(&format!("machines/{m1}/"), &[("hostname", "renamed")])
                    .await;
                assert_eq!(st, 200, "{m}");
            }
            "machine deleted" => {
                let (st, m) = r.admin.delete(&format!("machines/{m2}/")).await;
                assert_eq!(st, 204, "{m}");
            }
            _ => sql(&r, &change).await,
        }
        let after = snapshot(&on_b).await;
        assert_ne!(after, before, "{what}: the change shows");
        assert!(check(&after.0), "{what}: {}", after.0);
        assert_eq!(after, uncached(&r, &key).await, "{what}: warm == uncached");
        before = after;
    }
    let (related, rendered) = b.app.render.sizes();
    assert!(
        related >= 1 && rendered >= 1,
        "B cached ({related}, {rendered})"
    );

    // Allocation answers from the related cache too.
    let (st, got) = on_b
        .op("machines/", "allocate", &[("system_id", &m1)])
        .await;
    assert_eq!(st, 200, "{got}");
    let (_, each) = uncached(&r, &key).await;
    assert_eq!(got["interface_set"], each[0]["interface_set"]);
    assert_eq!(got["blockdevice_set"], each[0]["blockdevice_set"]);
    assert_eq!(got["owner"], "admin");
    b.stop().await.unwrap();
}

/// Poll `api` until `path` answers `want` (or `limit` passes).
async fn answers_within(api: &Api, want: u16, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    loop {
        let (st, _) = api.get_op("users/", "whoami", &[]).await;
        if st == want {
            return Some(t0.elapsed());
        }
        if t0.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Use `apis` until `region` holds each of their keys (its LISTEN
/// connection comes up shortly after it starts; until then it caches none).
async fn until_cached(region: &Running, apis: &[&Api]) {
    let t0 = Instant::now();
    loop {
        for api in apis {
            assert_eq!(api.get_op("users/", "whoami", &[]).await.0, 200);
        }
        let held = apis.iter().all(|a| {
            let key = a.key.as_deref().unwrap();
            region.app.tokens.holds(key.split(':').nth(1).unwrap())
        });
        if held {
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "region caches keys");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn on(region: &Running, key: &str) -> Api {
    Api::new(&region.url(), Some(key.to_string()))
}

#[tokio::test]
async fn revoked_keys_stop_working_on_every_region() {
    let r = TestRegion::start().await;
    let (b, _bdir) = r.another_region().await;
    let alice_key = r.alice.key.clone().unwrap();
    let (st, t) = r
        .alice
        .op("account/", "create_authorisation_token", &[])
        .await;
    assert_eq!(st, 200, "{t}");
    let second = t["token_key"].as_str().map(|_| {
        format!(
            "{}:{}:{}",
            t["consumer_key"].as_str().unwrap(),
            t["token_key"].as_str().unwrap(),
            t["token_secret"].as_str().unwrap()
        )
    });
    let second = second.expect("token fields");
    let a2 = Api::new(&r.url(), Some(second.clone()));
    let b2 = on(&b, &second);
    let alice_b = on(&b, &alice_key);
    until_cached(r.running.as_ref().unwrap(), &[&r.alice, &a2]).await;
    until_cached(&b, &[&alice_b, &b2]).await;

    // Revoked through A: A refuses at once, B as soon as it is told.
    let tk = second.split(':').nth(1).unwrap();
    let (st, _) = r
        .alice
        .op(
            "account/",
            "delete_authorisation_token",
            &[("token_key", tk)],
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(a2.get_op("users/", "whoami", &[]).await.0, 401, "A at once");
    let took = answers_within(&b2, 401, Duration::from_secs(3)).await;
    assert!(took.is_some(), "B still accepts a revoked key after 3 s");
    assert_eq!(
        b2.get_op("users/", "whoami", &[]).await.0,
        401,
        "and stays so"
    );
    // The other key is untouched.
    assert_eq!(
        on(&b, &alice_key).get_op("users/", "whoami", &[]).await.0,
        200
    );

    // Deleted in the database by anyone: every region follows.
    sqlx::query("DELETE FROM tokens WHERE token_key = $1")
        .bind(alice_key.split(':').nth(1).unwrap())
        .execute(r.db())
        .await
        .unwrap();
    for api in [&r.alice, &on(&b, &alice_key)] {
        assert!(
            answers_within(api, 401, Duration::from_secs(3))
                .await
                .is_some()
        );
    }

    // A deleted user's keys go with them.
    let bob = r.user("bob", false).await;
    let bob_key = bob.key.clone().unwrap();
    let bob_b = on(&b, &bob_key);
    until_cached(&b, &[&bob_b]).await;
    let (st, body) = r.admin.delete("users/bob/").await;
    assert_eq!(st, 204, "{body}");
    assert_eq!(
        bob.get_op("users/", "whoami", &[]).await.0,
        401,
        "A at once"
    );
    assert!(
        answers_within(&bob_b, 401, Duration::from_secs(3))
            .await
            .is_some()
    );
    b.stop().await.unwrap();
}

#[tokio::test]
async fn key_cache_is_dropped_when_its_notifications_may_be_lost() {
    let r = TestRegion::start().await;
    let region = r.running.as_ref().unwrap();
    let app = &region.app;
    until_cached(region, &[&r.alice]).await;
    // Cut the region's LISTEN connection, then revoke while it is away: the
    // notification is lost, so the region must not trust what it cached.
    let cut: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN \"maas_auth\"%'",
    )
    .fetch_one(r.db())
    .await
    .unwrap();
    assert_eq!(cut, 1, "one auth LISTEN connection");
    sqlx::query("DELETE FROM tokens WHERE token_key = $1")
        .bind(r.alice.key.as_ref().unwrap().split(':').nth(1).unwrap())
        .execute(r.db())
        .await
        .unwrap();
    assert!(
        answers_within(&r.alice, 401, Duration::from_secs(3))
            .await
            .is_some(),
        "a key revoked while LISTEN was down is still accepted"
    );
    // The region listens again and caches again.
    let t0 = Instant::now();
    loop {
        assert_eq!(r.admin.get_op("users/", "whoami", &[]).await.0, 200);
        if !app.tokens.is_empty() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "caching resumes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_starting_region_loads_its_caches_in_the_background() {
    let r = TestRegion::start().await;
    for i in 0..5 {
        r.ready_machine(&format!("pre-{i}"), 2, 2048).await;
    }
    let (b, _bdir) = r.another_region().await;
    let t0 = Instant::now();
    while b.app.render.sizes() != (5, 5) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "B loaded {:?} of 5 machines",
            b.app.render.sizes()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // What it loaded is what an uncached read gives.
    let key = r.admin.key.clone().unwrap();
    assert_eq!(
        snapshot(&on(&b, &key)).await,
        uncached(&r, &key).await,
        "preloaded == uncached"
    );
    b.stop().await.unwrap();
}
