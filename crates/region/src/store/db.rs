//! PostgreSQL: connecting and migrations (safe when several regions start at
//! once). The private cluster the region runs when no URL is given is in
//! [`super::cluster`].

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
    (
        4,
        "link_subnets",
        include_str!("../../migrations/0004_link_subnets.sql"),
    ),
    (5, "dns", include_str!("../../migrations/0005_dns.sql")),
    (
        6,
        "devices",
        include_str!("../../migrations/0006_devices.sql"),
    ),
    (
        7,
        "interfaces",
        include_str!("../../migrations/0007_interfaces.sql"),
    ),
    (
        8,
        "storage",
        include_str!("../../migrations/0008_storage.sql"),
    ),
    (9, "misc", include_str!("../../migrations/0009_misc.sql")),
    (
        10,
        "rack_services",
        include_str!("../../migrations/0010_rack_services.sql"),
    ),
    (
        11,
        "images",
        include_str!("../../migrations/0011_images.sql"),
    ),
    (
        13,
        "netboot_state",
        include_str!("../../migrations/0013_netboot_state.sql"),
    ),
    (14, "ui", include_str!("../../migrations/0014_ui.sql")),
    (
        19,
        "machine_created_notice",
        include_str!("../../migrations/0019_machine_created_notice.sql"),
    ),
    (
        20,
        "commission_options",
        include_str!("../../migrations/0020_commission_options.sql"),
    ),
    (
        21,
        "node_devices",
        include_str!("../../migrations/0021_node_devices.sql"),
    ),
    (
        22,
        "numa_nodes",
        include_str!("../../migrations/0022_numa_nodes.sql"),
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

pub use super::cluster::{PrivateCluster, find_pg_bin, is_root};

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// Every file in migrations/ is listed (a file left out is never
    /// applied, silently), once, in version order, named by its version.
    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, name, _)| format!("{v:04}_{name}.sql"))
            .collect();
        assert_eq!(listed, files);
        for (v, _, sql) in MIGRATIONS {
            let (_, name, _) = MIGRATIONS.iter().find(|m| m.0 == *v).unwrap();
            let text = std::fs::read_to_string(format!("{dir}/{v:04}_{name}.sql")).unwrap();
            assert_eq!(&text, sql, "migration {v} is the file of its name");
        }
    }
}
