//! Starting a region: the database (given URL or private cluster), migrations,
//! the HTTP server and background workers. Used by `maas-region serve` and by
//! tests, which run it in-process on port 0.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::app;
use crate::crypto::SecretBox;
use crate::store::cluster::Claim;
use crate::store::db::{self, PrivateCluster};

#[derive(Debug, Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub secret_key_file: Option<PathBuf>,
    pub status_interval: Duration,
    /// How often every BMC-driven machine's power state is refreshed.
    pub power_poll_interval: Duration,
    pub db_max_connections: u32,
    pub max_body: usize,
    /// The rack gRPC service address (None: not served).
    pub rpc_listen: Option<SocketAddr>,
    /// Name racks see as `connected_region` (default: hostname:rpc-port).
    pub region_name: Option<String>,
    /// How long an address that failed enrollment 5 times is refused.
    pub enroll_fail_window: Duration,
    /// Machines each render cache holds (`rendercache`).
    pub render_cache_machines: usize,
    /// The API's connection limits: head, body and idle timeouts,
    /// connections per peer address.
    pub limits: crate::api::conn::Limits,
    /// How long a rack connection may take, after TLS, to start HTTP/2.
    pub rpc_session_timeout: Duration,
    /// Where uploaded boot images are stored (default `<data_dir>/images`).
    pub image_dir: Option<PathBuf>,
}

impl Options {
    pub fn new(data_dir: PathBuf, database_url: Option<String>, listen: SocketAddr) -> Options {
        Options {
            data_dir,
            database_url,
            listen,
            secret_key_file: None,
            status_interval: Duration::from_secs(60),
            power_poll_interval: Duration::from_secs(300),
            db_max_connections: default_db_connections(),
            max_body: app::DEFAULT_MAX_BODY,
            rpc_listen: None,
            region_name: None,
            enroll_fail_window: Duration::from_secs(60),
            render_cache_machines: crate::render::cache::DEFAULT_MAX_ENTRIES,
            limits: crate::api::conn::Limits::default(),
            rpc_session_timeout: Duration::from_secs(10),
            image_dir: None,
        }
    }

    pub fn key_path(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// The boot image directory.
    pub fn image_path(&self) -> PathBuf {
        self.image_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("images"))
    }
}

/// Pool size: 4 connections per CPU of this region, 8 to 32. Each request
/// holds a connection only while a statement runs, and the pool hands out
/// idle connections in turn, so every connection beyond what the work needs
/// keeps one more backend busy (PostgreSQL's per-statement cost grows with
/// the number of active backends).
pub fn default_db_connections() -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    (4 * cpus).clamp(8, 32)
}

/// The default data directory: /var/lib/maas-region for root (the private
/// PostgreSQL then runs as `postgres`, which cannot enter /root), else per user.
pub fn default_data_dir() -> PathBuf {
    if crate::store::db::is_root() {
        return PathBuf::from("/var/lib/maas-region");
    }
    if let Ok(d) = std::env::var("XDG_DATA_HOME")
        && !d.is_empty()
    {
        return PathBuf::from(d).join("maas-region");
    }
    match std::env::var("HOME") {
        Ok(h) if !h.is_empty() => PathBuf::from(h).join(".local/share/maas-region"),
        _ => PathBuf::from("/var/lib/maas-region"),
    }
}

/// The database: the given URL, or the private cluster under `data_dir`
/// (see [`crate::store::cluster`]: started, or adopted from a region that
/// died, and then owned; or used as a guest when `claim` allows and a live
/// region owns it).
pub async fn open_database(
    data_dir: &Path,
    database_url: Option<&str>,
    max_connections: u32,
    claim: Claim,
) -> anyhow::Result<(PgPool, Option<PrivateCluster>)> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let (opts, mut cluster) = match database_url {
        Some(url) => (db::connect_options(url)?, None),
        None => PrivateCluster::open(data_dir, 5432, claim).await?,
    };
    let pool = match db::connect(opts, max_connections).await {
        Ok(p) => p,
        Err(e) => {
            if let Some(c) = cluster.as_mut() {
                c.stop().await;
            }
            return Err(e);
        }
    };
    if let Err(e) = db::migrate(&pool).await {
        pool.close().await;
        if let Some(c) = cluster.as_mut() {
            c.stop().await;
        }
        return Err(e);
    }
    Ok((pool, cluster))
}
/// A running region.
pub struct Running {
    pub addr: SocketAddr,
    /// The API's shared state (its pool and caches).
    pub app: app::App,
    pub rpc_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<anyhow::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    cluster: Option<PrivateCluster>,
}

pub async fn start(opts: &Options) -> anyhow::Result<Running> {
    let (pool, cluster) = open_database(
        &opts.data_dir,
        opts.database_url.as_deref(),
        opts.db_max_connections,
        Claim::Own,
    )
    .await?;
    start_with_pool(opts, pool, cluster).await
}

pub async fn start_with_pool(
    opts: &Options,
    pool: PgPool,
    mut cluster: Option<PrivateCluster>,
) -> anyhow::Result<Running> {
    match serve_on(opts, pool.clone()).await {
        Ok(mut running) => {
            running.cluster = cluster;
            Ok(running)
        }
        Err(e) => {
            // A region that cannot run leaves no PostgreSQL behind.
            if let Some(c) = cluster.as_mut() {
                pool.close().await;
                c.stop().await;
            }
            Err(e)
        }
    }
}

async fn serve_on(opts: &Options, pool: PgPool) -> anyhow::Result<Running> {
    let secrets = SecretBox::load_or_create(&opts.key_path())?;
    // Everything is checked before a port opens.
    crate::services::keys::check_region_key(&pool, &secrets, &opts.key_path()).await?;
    let ctx = crate::services::Ctx::new(
        pool.clone(),
        opts.db_max_connections as usize,
        opts.render_cache_machines,
        secrets,
        opts.image_path(),
    );
    ctx.blobs
        .prepare()
        .with_context(|| format!("preparing image dir {}", opts.image_path().display()))?;
    let region_id = crate::services::regions::register(&pool, &opts.data_dir).await?;
    let app = app::new_app(ctx, opts.max_body, opts.limits.body_read);
    // Ports are bound only after every check, and the API serves only once
    // the rack service has started: a region that cannot run answers nothing.
    let listener = crate::api::router::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let rpc_listener = match opts.rpc_listen {
        Some(rpc) => {
            maas_rpc::install_crypto();
            let l = tokio::net::TcpListener::bind(rpc)
                .await
                .with_context(|| format!("cannot listen on {rpc} for racks"))?;
            Some(l)
        }
        None => None,
    };
    let mut workers = Vec::new();
    let mut rpc_addr = None;
    if let Some(l) = rpc_listener {
        let a = l.local_addr()?;
        let name = opts
            .region_name
            .clone()
            .unwrap_or_else(|| crate::rackrpc::default_region_name(a));
        workers.extend(
            crate::rackrpc::start(
                pool.clone(),
                &app.secrets,
                l,
                app.power.clone(),
                name,
                opts.enroll_fail_window,
                opts.rpc_session_timeout,
            )
            .await?,
        );
        rpc_addr = Some(a);
    }
    let (tx, rx) = oneshot::channel::<()>();
    let routes = crate::api::router::router(app.clone()).merge(crate::ui::router(app.ctx.clone()));
    let server = tokio::spawn(crate::api::router::serve(
        routes,
        listener,
        opts.limits,
        async {
            let _ = rx.await;
        },
    ));
    workers.push(tokio::spawn(crate::services::regions::heartbeat(
        pool.clone(),
        region_id,
    )));
    workers.push(tokio::spawn(
        crate::services::lifecycle::run_status_monitor(pool.clone(), opts.status_interval),
    ));
    workers.push(tokio::spawn(crate::services::power::poll::run(
        app.ctx.clone(),
        opts.power_poll_interval,
    )));
    workers.push(tokio::spawn(crate::services::live::follow(
        pool.clone(),
        app.changes.clone(),
    )));
    workers.push(tokio::spawn(crate::services::auth::follow_token_changes(
        pool.clone(),
        app.tokens.clone(),
        {
            let app = app.clone();
            move |connected| {
                app.render.clear();
                if connected {
                    tokio::spawn(crate::services::load::preload(app.ctx.clone()));
                }
            }
        },
    )));
    tracing::info!(%addr, "region API listening");
    if let Some(a) = rpc_addr {
        tracing::info!(rpc_addr = %a, "rack RPC listening");
    }
    Ok(Running {
        addr,
        app,
        rpc_addr,
        shutdown: Some(tx),
        server,
        workers,
        cluster: None,
    })
}

impl Running {
    /// The region's database pool.
    pub fn db(&self) -> &PgPool {
        &self.app.db
    }

    pub fn url(&self) -> String {
        format!("http://{}/MAAS", self.addr)
    }

    /// Stop serving, stop workers and the private cluster.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // Open UI event streams end, so connections can close gracefully.
        self.app
            .changes
            .publish(crate::services::live::Change::Shutdown);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for w in &self.workers {
            w.abort();
        }
        let r = tokio::time::timeout(Duration::from_secs(10), &mut self.server).await;
        self.app.db.close().await;
        if let Some(c) = self.cluster.as_mut() {
            c.stop().await;
        }
        match r {
            Ok(Ok(res)) => res,
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Ok(()),
        }
    }

    /// Wait until the server exits (it does not, unless it fails).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.server).await??;
        Ok(())
    }
}
