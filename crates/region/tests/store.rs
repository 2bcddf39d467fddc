//! Store and service tests against PostgreSQL, without HTTP: the rules that
//! are written once in `maas-model` and translated to SQL must agree with
//! the same rules evaluated in Rust.

use maas_testkit as common;

use maas_model::NodeStatus;
use maas_model::filter::{AnyNone, Arch, MachineFilter, Visibility};
use maas_region::error::Error;
use maas_region::services::lifecycle;
use maas_region::store::db::Hot;
use maas_region::store::machines::filter::versions;
use maas_region::store::machines::write::{NewMachine, insert};

struct M {
    id: i64,
    arch: &'static str,
    cpu: i32,
    mem: i64,
    status: NodeStatus,
    owner: Option<i64>,
}

async fn setup() -> (sqlx::PgPool, String, Vec<M>, i64, i64) {
    let (url, name) = common::fresh_database().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let alice: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email) VALUES ('alice', 'a@example.com') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let bob: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email) VALUES ('bob', 'b@example.com') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let specs = [
        ("amd64/generic", 4, 8192, NodeStatus::Ready, None),
        ("amd64/hwe-22.04", 2, 4096, NodeStatus::Ready, None),
        ("arm64/generic", 8, 16384, NodeStatus::Deployed, Some(alice)),
        ("amd64/generic", 1, 1024, NodeStatus::Allocated, Some(bob)),
        ("arm64/xgene", 16, 65536, NodeStatus::Broken, None),
    ];
    let mut out = Vec::new();
    let mut c = pool.acquire().await.unwrap();
    for (n, (arch, cpu, mem, status, owner)) in specs.into_iter().enumerate() {
        let sid = format!("m{n:05}");
        let host = format!("host{n}");
        let m = NewMachine {
            system_id: &sid,
            hostname: &host,
            domain_id: 0,
            description: "",
            status,
            owner_id: owner,
            zone_id: 1,
            pool_id: 0,
            architecture: arch,
            cpu_count: cpu,
            memory: mem,
            power_type: "manual",
            power_parameters: None,
            min_hwe_kernel: "",
            hardware_uuid: None,
            enlisting: false,
        };
        let id = insert(&mut c, &m).await.unwrap().unwrap();
        out.push(M {
            id,
            arch,
            cpu,
            mem,
            status,
            owner,
        });
    }
    drop(c);
    (pool, name, out, alice, bob)
}

#[tokio::test]
async fn cost_column_is_the_model_rule() {
    let (pool, name, ms, _, _) = setup().await;
    for m in &ms {
        let cost: f64 = sqlx::query_scalar("SELECT cost FROM machines WHERE id = $1")
            .bind(m.id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(cost, maas_model::constraints::cost(m.cpu, m.mem));
    }
    pool.close().await;
    common::drop_database(&name);
}

#[tokio::test]
async fn sql_filters_select_what_the_rust_rules_select() {
    let (pool, name, ms, alice, bob) = setup().await;
    let hot = Hot::new(&pool, 2);
    let filters: Vec<MachineFilter> = vec![
        MachineFilter::default(),
        MachineFilter {
            visibility: Visibility::of(alice, false),
            ..Default::default()
        },
        MachineFilter {
            visibility: Visibility::of(bob, false),
            ..Default::default()
        },
        MachineFilter {
            arch: AnyNone::any(vec![Arch::parse("amd64")]),
            ..Default::default()
        },
        MachineFilter {
            arch: AnyNone {
                any: vec![],
                none: vec![Arch::parse("arm64/xgene"), Arch::parse("amd64/generic")],
            },
            ..Default::default()
        },
        MachineFilter {
            status: AnyNone::any(vec![NodeStatus::Ready]),
            unowned: true,
            min_cpu_count: Some(3.0),
            ..Default::default()
        },
        MachineFilter {
            status: AnyNone {
                any: vec![NodeStatus::Ready, NodeStatus::Broken],
                none: vec![NodeStatus::Broken],
            },
            min_memory: Some(4096.0),
            ..Default::default()
        },
    ];
    for f in &filters {
        let got: Vec<i64> = versions(&hot, f, None)
            .await
            .unwrap()
            .iter()
            .map(|k| k.0)
            .collect();
        let want: Vec<i64> = ms
            .iter()
            .filter(|m| f.visibility.allows(m.owner))
            .filter(|m| f.arch.any.is_empty() || f.arch.any.iter().any(|a| a.matches(m.arch)))
            .filter(|m| !f.arch.none.iter().any(|a| a.matches(m.arch)))
            .filter(|m| f.status.any.is_empty() || f.status.any.contains(&m.status))
            .filter(|m| !f.status.none.contains(&m.status))
            .filter(|m| !f.unowned || m.owner.is_none())
            .filter(|m| f.min_cpu_count.is_none_or(|c| m.cpu as f64 >= c))
            .filter(|m| f.min_memory.is_none_or(|c| m.mem as f64 >= c))
            .map(|m| m.id)
            .collect();
        assert_eq!(got, want, "{f:?}");
    }
    pool.close().await;
    common::drop_database(&name);
}

#[tokio::test]
async fn an_illegal_transition_is_a_conflict_and_writes_nothing() {
    let (pool, name, ms, _, _) = setup().await;
    let events = |p: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&p)
            .await
            .unwrap()
    };
    let before = events(pool.clone()).await;
    let mut tx = pool.begin().await.unwrap();
    let mut m = lifecycle::lock(&mut tx, "m00002").await.unwrap();
    assert_eq!(m.status, ms[2].status);
    // Deployed → Commissioning is not in the table.
    let e = lifecycle::transition(&mut tx, &mut m, NodeStatus::Commissioning, None, "x")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    tx.rollback().await.unwrap();
    assert_eq!(events(pool.clone()).await, before);
    let status: i16 = sqlx::query_scalar("SELECT status FROM machines WHERE system_id = 'm00002'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, NodeStatus::Deployed.as_i16());
    pool.close().await;
    common::drop_database(&name);
}
