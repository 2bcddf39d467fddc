//! The shared test harness of the workspace: a fresh PostgreSQL database per
//! test (cloned from a migrated template), a region running in-process on
//! port 0, an OAuth-signing API client, and region/rack processes whose
//! addresses are read from their logs (`proc`). Used by the region, rack and
//! CLI tests as `use maas_testkit as common;`.

pub mod proc;
pub mod shape;
pub mod ui;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use maas_region::region::{self, Options, Running};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

pub fn admin_url() -> String {
    std::env::var("MAAS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn url_for(db: &str) -> String {
    let base = admin_url();
    let (head, _) = base.rsplit_once('/').expect("database URL has a path");
    format!("{head}/{db}")
}

fn template_name() -> String {
    // The template is rebuilt when the migrations change.
    let mut h: u64 = 1469598103934665603;
    for (v, _, sql) in maas_region::store::db::MIGRATIONS {
        for b in sql.bytes().chain(v.to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(1099511628211);
        }
    }
    format!("maastmpl_{:x}", h & 0xffff_ffff)
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Create a fresh, migrated database; returns its URL and name.
pub async fn fresh_database() -> (String, String) {
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("connect to the test PostgreSQL (MAAS_TEST_DATABASE_URL)");
    let tmpl = template_name();
    admin
        .execute("SELECT pg_advisory_lock(7368001)")
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&tmpl)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        let building = format!("{tmpl}_build");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {building}"
            )))
            .await
            .unwrap();
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .await
            .unwrap();
        let pool = sqlx::PgPool::connect(&url_for(&building)).await.unwrap();
        maas_region::store::db::migrate(&pool).await.unwrap();
        pool.close().await;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {building} RENAME TO {tmpl}"
            )))
            .await
            .unwrap();
    }
    let name = format!(
        "maastest_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::random::<u32>()
    );
    let mut last = None;
    for _ in 0..20 {
        match admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {name} TEMPLATE {tmpl}"
            )))
            .await
        {
            Ok(_) => {
                last = None;
                break;
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    if let Some(e) = last {
        panic!("cannot clone template: {e}");
    }
    admin
        .execute("SELECT pg_advisory_unlock(7368001)")
        .await
        .unwrap();
    (url_for(&name), name)
}

pub fn drop_database(name: &str) {
    let name = name.to_string();
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut c) = PgConnection::connect(&admin_url()).await {
                let _ = c
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        });
    })
    .join();
}

/// A region on a fresh database, with an admin (`admin`) and a user (`alice`).
pub struct TestRegion {
    pub running: Option<Running>,
    pub db_url: String,
    pub db_name: String,
    pub dir: tempdir::Dir,
    pub admin: Api,
    pub alice: Api,
    pub anon: Api,
}

pub mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "maas-test-{}-{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Default for Dir {
        fn default() -> Self {
            Dir::new()
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Name the process's rustls provider (ring). In a workspace build reqwest
/// carries rustls without one (maas-bmc asks for `rustls-no-provider`), and
/// a client built before a provider is named panics.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl TestRegion {
    pub async fn start() -> TestRegion {
        Self::start_with(|_| {}).await
    }

    /// A region that also serves racks on a loopback RPC port: it, the
    /// rack enrollment secret, and its RPC URL (`https://127.0.0.1:PORT`).
    pub async fn with_racks(tune: impl FnOnce(&mut Options)) -> (TestRegion, String, String) {
        let r = TestRegion::start_with(|o| {
            o.rpc_listen = Some("127.0.0.1:0".parse().unwrap());
            tune(o);
        })
        .await;
        let secret = maas_region::services::racks::enrollment_secret(r.db())
            .await
            .unwrap();
        let url = format!("https://{}", r.running.as_ref().unwrap().rpc_addr.unwrap());
        (r, secret, url)
    }

    pub async fn start_with(tune: impl FnOnce(&mut Options)) -> TestRegion {
        install_crypto();
        let (db_url, db_name) = fresh_database().await;
        let dir = tempdir::Dir::new();
        let mut opts = Options::new(
            dir.0.clone(),
            Some(db_url.clone()),
            "127.0.0.1:0".parse().unwrap(),
        );
        opts.db_max_connections = 8;
        tune(&mut opts);
        let running = region::start(&opts).await.expect("region starts");
        let base = running.url();
        let admin_key = make_user(running.db(), "admin", true).await;
        let alice_key = make_user(running.db(), "alice", false).await;
        TestRegion {
            admin: Api::new(&base, Some(admin_key)),
            alice: Api::new(&base, Some(alice_key)),
            anon: Api::new(&base, None),
            running: Some(running),
            db_url,
            db_name,
            dir,
        }
    }

    /// Another region process-equivalent on the same database (own data
    /// dir, pool, caches and listeners); the caller stops it.
    pub async fn another_region(&self) -> (Running, tempdir::Dir) {
        let dir = tempdir::Dir::new();
        let mut opts = Options::new(
            dir.0.clone(),
            Some(self.db_url.clone()),
            "127.0.0.1:0".parse().unwrap(),
        );
        opts.db_max_connections = 4;
        // Regions on one database share the secret key.
        opts.secret_key_file = Some(self.dir.0.join("secret.key"));
        (region::start(&opts).await.expect("region starts"), dir)
    }

    pub fn db(&self) -> &sqlx::PgPool {
        self.running.as_ref().unwrap().db()
    }

    pub fn url(&self) -> String {
        self.running.as_ref().unwrap().url()
    }

    /// Make another user with an API key.
    pub async fn user(&self, name: &str, admin: bool) -> Api {
        Api::new(&self.url(), Some(make_user(self.db(), name, admin).await))
    }

    /// Create a READY machine (manual power) with the given hardware.
    pub async fn ready_machine(&self, hostname: &str, cpus: i64, mem: i64) -> String {
        let mac = random_mac();
        let (st, m) = self
            .admin
            .post(
                "machines/",
                &[
                    ("architecture", "amd64/generic"),
                    ("mac_addresses", &mac),
                    ("hostname", hostname),
                    ("power_type", "manual"),
                    ("cpu_count", &cpus.to_string()),
                    ("memory", &mem.to_string()),
                    ("commission", "false"),
                ],
            )
            .await;
        assert_eq!(st, 200, "create: {m}");
        let sid = m["system_id"].as_str().unwrap().to_string();
        self.force_status(&sid, 4).await;
        sid
    }

    /// Set a status directly in the database (test set-up only).
    pub async fn force_status(&self, system_id: &str, status: i16) {
        sqlx::query("UPDATE machines SET status = $2 WHERE system_id = $1")
            .bind(system_id)
            .bind(status)
            .execute(self.db())
            .await
            .unwrap();
    }

    pub async fn status_of(&self, system_id: &str) -> i64 {
        let (st, m) = self.admin.get(&format!("machines/{system_id}/"), &[]).await;
        assert_eq!(st, 200, "{m}");
        m["status"].as_i64().unwrap()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.db()).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }
}

impl Drop for TestRegion {
    fn drop(&mut self) {
        drop_database(&self.db_name);
    }
}

pub async fn make_user(db: &sqlx::PgPool, name: &str, admin: bool) -> String {
    let uid = maas_region::services::users::create_user(
        db,
        name,
        &format!("{name}@example.com"),
        "pw",
        admin,
    )
    .await
    .unwrap();
    maas_region::services::account::create_token(db, uid, "test")
        .await
        .unwrap()
        .to_string()
}

pub fn random_mac() -> String {
    let b: [u8; 5] = rand::random();
    format!(
        "52:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    )
}

/// A MAAS API client signing with OAuth PLAINTEXT.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, key: Option<String>) -> Api {
        install_crypto();
        Api {
            base: base.trim_end_matches('/').to_string(),
            key,
            http: http_client(),
        }
    }

    pub fn auth_header(&self) -> Option<String> {
        let key = self.key.as_ref()?;
        let mut p = key.split(':');
        let (ck, tk, ts) = (p.next()?, p.next()?, p.next()?);
        Some(format!(
            "OAuth realm=\"\", oauth_nonce=\"{}\", oauth_timestamp=\"{}\", oauth_consumer_key=\"{ck}\", oauth_signature_method=\"PLAINTEXT\", oauth_version=\"1.0\", oauth_token=\"{tk}\", oauth_signature=\"%26{ts}\"",
            rand::random::<u64>(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        ))
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/MAAS/") {
            format!("{}{}", self.base.trim_end_matches("/MAAS"), path)
        } else {
            format!("{}/api/2.0/{}", self.base, path)
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let rb = match self.auth_header() {
            Some(h) => rb.header("Authorization", h),
            None => rb,
        };
        let resp = rb.send().await.expect("request sent");
        let st = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (st, v)
    }

    pub async fn get(&self, path: &str, q: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).query(q)).await
    }

    /// POST; `op` goes in the query string as MAAS clients send it.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    pub async fn op(&self, path: &str, op: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.send(
            self.http
                .post(self.url(path))
                .query(&[("op", op)])
                .form(form),
        )
        .await
    }

    pub async fn get_op(&self, path: &str, op: &str, q: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).query(&[("op", op)]).query(q))
            .await
    }

    pub async fn put(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.send(self.http.put(self.url(path)).form(form)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.url(path))).await
    }
}

/// A client acting as the booting machine, with its own token.
pub async fn node_api(r: &TestRegion, sid: &str) -> Api {
    let (st, t) = r
        .admin
        .get_op(&format!("machines/{sid}/"), "get_token", &[])
        .await;
    assert_eq!(st, 200, "{t}");
    let key = format!(
        "{}:{}:{}",
        t["consumer_key"].as_str().unwrap(),
        t["token_key"].as_str().unwrap(),
        t["token_secret"].as_str().unwrap()
    );
    Api::new(&r.url(), Some(key))
}

/// `POST /MAAS/metadata/latest/?op=signal` as a booting machine sends it
/// (multipart, with an optional file).
pub async fn signal(
    api: &Api,
    fields: &[(&str, &str)],
    file: Option<(&str, Vec<u8>)>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some((name, data)) = file {
        form = form.part(
            name.to_string(),
            reqwest::multipart::Part::bytes(data).file_name(name.to_string()),
        );
    }
    api.send(
        api.http
            .post(api.url("/MAAS/metadata/latest/"))
            .query(&[("op", "signal")])
            .multipart(form),
    )
    .await
}

/// A reqwest client for tests (after [`install_crypto`]).
pub fn http_client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::new()
}

/// Poll `f` every 50 ms until it holds, and say how long that took; panic
/// naming `what` after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t0 = std::time::Instant::now();
    while t0.elapsed() < timeout {
        if f().await {
            return t0.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}
