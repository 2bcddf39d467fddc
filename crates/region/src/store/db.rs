//! PostgreSQL: connecting, migrations (safe when several regions start at
//! once) and the private cluster the region runs when no URL is given.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

/// Versioned migrations, applied in order. Never edit one that has shipped:
/// add a new file.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (2, "racks", include_str!("../../migrations/0002_racks.sql")),
    (
        3,
        "caches",
        include_str!("../../migrations/0003_caches.sql"),
    ),
];

/// Advisory lock id held while migrating (other regions wait on it).
const MIGRATION_LOCK: i64 = 0x6d61_6173_0001;

pub fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)
        .with_context(|| "invalid --database-url")?
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2)))
}

/// A pooled connection idle for longer than this is pinged before use.
/// sqlx's default pings on every acquire: one extra round trip per query,
/// which doubled the database work of a typical API call.
const PING_IF_IDLE: Duration = Duration::from_secs(10);

pub async fn connect(opts: PgConnectOptions, max_connections: u32) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IF_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(opts)
        .await
        .context("cannot connect to PostgreSQL")?;
    Ok(pool)
}

/// Connections for the hot single statements (authentication, claims,
/// machine reads, listings), kept apart from the pool: handed out last in,
/// first out, so a light load runs on few backends, and taken back with no
/// round trip (sqlx's pool pings every connection it takes back, which
/// doubled the database work of a one-statement request). A connection goes
/// back only after its statement completed; one whose statement failed or
/// was cancelled is closed.
pub struct Hot {
    opts: PgConnectOptions,
    idle: std::sync::Mutex<Vec<(sqlx::PgConnection, std::time::Instant)>>,
    permits: tokio::sync::Semaphore,
}

impl Hot {
    pub fn new(pool: &PgPool, max: usize) -> Hot {
        Hot {
            opts: (*pool.connect_options()).clone(),
            idle: std::sync::Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(max.max(1)),
        }
    }

    /// Run `f` on a hot connection.
    pub async fn run<T, E>(
        &self,
        f: impl AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let mut conn = self.checkout().await?;
        let out = f(&mut conn).await;
        if out.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push((conn, std::time::Instant::now()));
        }
        out
    }

    async fn checkout(&self) -> Result<sqlx::PgConnection, sqlx::Error> {
        loop {
            let last = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match last {
                Some((mut c, since)) => {
                    if since.elapsed() <= PING_IF_IDLE || c.ping().await.is_ok() {
                        return Ok(c);
                    }
                    // Dead (the server restarted, say): try the next one.
                }
                None => return sqlx::PgConnection::connect_with(&self.opts).await,
            }
        }
    }
}

/// What [`follow`] reports.
pub enum Notice<'a> {
    /// Listening (again): anything may have changed while not listening.
    Connected,
    Notified(&'a sqlx::postgres::PgNotification),
    /// The LISTEN connection is gone; notifications may be lost until the
    /// next `Connected`.
    Lost,
}

/// LISTEN on `channels` for as long as the task runs, reconnecting after
/// any loss, and tell `on` what happens. sqlx's `recv` would reconnect on
/// its own and drop what was notified meanwhile without a word; here every
/// gap is reported, so callers can resync.
pub async fn follow(db: PgPool, channels: &[&str], mut on: impl FnMut(Notice<'_>)) {
    loop {
        let mut l = match sqlx::postgres::PgListener::connect_with(&db).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, ?channels, "LISTEN connection failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        l.eager_reconnect(false);
        if let Err(e) = l.listen_all(channels.iter().copied()).await {
            tracing::warn!(error = %e, ?channels, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        on(Notice::Connected);
        loop {
            match l.try_recv().await {
                Ok(Some(n)) => on(Notice::Notified(&n)),
                Ok(None) => {
                    tracing::warn!(?channels, "LISTEN connection lost; resyncing");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?channels, "LISTEN connection lost; resyncing");
                    break;
                }
            }
        }
        on(Notice::Lost);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Apply every migration not yet applied. Serialised across regions with a
/// session advisory lock, so two regions starting together are safe.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let result = async {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL,
                applied timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
        let done: Vec<i32> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?;
        for (version, name, sql) in MIGRATIONS {
            if done.contains(version) {
                continue;
            }
            let mut tx = conn.begin().await?;
            tx.execute(*sql)
                .await
                .with_context(|| format!("migration {version} ({name}) failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, name, "applied migration");
        }
        if let Some(max) = done.iter().max()
            && *max > MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
        {
            bail!("the database schema (v{max}) is newer than this region; upgrade the region");
        }
        anyhow::Ok(())
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    result
}

/// A PostgreSQL cluster the region runs itself under its data directory.
pub struct PrivateCluster {
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port: u16,
    child: Option<tokio::process::Child>,
    run_as: Option<String>,
}

/// Where the PostgreSQL server binaries are (Debian: /usr/lib/postgresql/N/bin).
/// `MAAS_PG_ROOT` overrides the directory searched (for tests).
pub fn find_pg_bin() -> anyhow::Result<PathBuf> {
    let root = std::env::var("MAAS_PG_ROOT").unwrap_or_else(|_| "/usr/lib/postgresql".into());
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries found under {root}/*/bin; \
             install them with `apt-get install postgresql` (package postgresql-15 on Debian 12), \
             or pass --database-url to use an existing server"
        ),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe extern "C" {
        fn geteuid() -> u32;
    }
    unsafe { geteuid() == 0 }
}

impl PrivateCluster {
    /// Initialise (first time) and start the cluster; returns once it accepts
    /// connections.
    pub async fn start(data_dir: &Path, port: u16) -> anyhow::Result<PrivateCluster> {
        let bin = find_pg_bin()?;
        // Everything PostgreSQL owns lives under pg/, so only that is handed
        // to the postgres user (the region's secret key stays root's).
        let root = data_dir.join("pg");
        let data = root.join("data");
        let socket_dir = root.join("socket");
        std::fs::create_dir_all(&socket_dir)?;
        // PostgreSQL refuses to run as root: run it as the `postgres` user.
        let run_as = if is_root() {
            Some(std::env::var("MAAS_PG_USER").unwrap_or_else(|_| "postgres".into()))
        } else {
            None
        };
        let cmd = |prog: &str| {
            let mut c = match &run_as {
                Some(u) => {
                    let mut c = tokio::process::Command::new("runuser");
                    c.arg("-u").arg(u).arg("--").arg(bin.join(prog));
                    c
                }
                None => tokio::process::Command::new(bin.join(prog)),
            };
            c.stdin(Stdio::null());
            c
        };
        if let Some(u) = &run_as {
            // The postgres user must be able to reach the cluster directory.
            let mut dir = root.canonicalize().unwrap_or(root.clone());
            while let Some(parent) = dir.parent().map(Path::to_path_buf) {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&parent)?.permissions().mode();
                if mode & 0o001 == 0 {
                    bail!(
                        "the private PostgreSQL runs as user {u}, which cannot enter {} (mode {:o}); \
                         use a --data-dir it can reach, such as /var/lib/maas-region (the default \
                         when running as root)",
                        parent.display(),
                        mode & 0o777
                    );
                }
                dir = parent;
            }
            let st = std::process::Command::new("chown")
                .arg("-R")
                .arg(format!("{u}:"))
                .arg(&root)
                .status()
                .context("chown of the cluster dir for the postgres user")?;
            if !st.success() {
                bail!(
                    "cannot chown {} to user {u} (does the user exist?)",
                    root.display()
                );
            }
        }
        if !data.join("PG_VERSION").exists() {
            tracing::info!(dir = %data.display(), "initialising private PostgreSQL cluster");
            let out = cmd("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
                .output()
                .await
                .context("running initdb")?;
            if !out.status.success() {
                bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("postgres.log"))?;
        let child = cmd("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            .arg("-p")
            .arg(port.to_string())
            .args(["-c", "listen_addresses=", "-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting postgres")?;
        let mut cluster = PrivateCluster {
            data,
            socket_dir,
            port,
            child: Some(child),
            run_as,
        };
        cluster.wait_ready().await?;
        cluster.ensure_database("maas").await?;
        Ok(cluster)
    }

    fn admin_options(&self, db: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(self.port)
            .username("postgres")
            .database(db)
    }

    pub fn options(&self) -> PgConnectOptions {
        self.admin_options("maas")
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        for _ in 0..300 {
            if let Some(child) = self.child.as_mut()
                && let Some(st) = child.try_wait()?
            {
                bail!(
                    "postgres exited ({st}); see {}",
                    self.data
                        .parent()
                        .unwrap_or(&self.data)
                        .join("postgres.log")
                        .display()
                );
            }
            if sqlx::PgConnection::connect_with(&self.admin_options("postgres"))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("private PostgreSQL did not become ready in 30 s")
    }

    async fn ensure_database(&self, name: &str) -> anyhow::Result<()> {
        let mut c = sqlx::PgConnection::connect_with(&self.admin_options("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut c)
                .await?;
        if !exists {
            c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await?;
        }
        Ok(())
    }

    /// Fast shutdown (SIGINT to the postmaster, whose pid PostgreSQL keeps in
    /// postmaster.pid; the child we spawned may be `runuser`) and wait.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .or(child.id());
        if let Some(pid) = pid {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .is_err()
        {
            tracing::warn!("private PostgreSQL did not stop in 30 s; killing it");
            let _ = child.kill().await;
        }
        let _ = &self.run_as;
    }
}
