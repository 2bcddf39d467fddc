//! `maas-region`: serve | createadmin | apikey | secret.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use maas_region::region::{self, Options};
use maas_region::services::{account, users};
use maas_region::store::cluster::Claim;

#[derive(Parser)]
#[command(name = "maas-region", version, about = "MAAS region controller")]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Data directory (private PostgreSQL cluster, secret key).
    #[arg(long, env = "MAAS_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Use this PostgreSQL server instead of a private cluster.
    #[arg(long, env = "MAAS_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the region: REST API, metadata API, background workers.
    Serve {
        /// Address for the API, UI and metadata HTTP server.
        #[arg(long, env = "MAAS_LISTEN", default_value = "0.0.0.0:5240")]
        listen: SocketAddr,
        /// Address for the rack gRPC service.
        #[arg(long, env = "MAAS_RPC_LISTEN", default_value = "0.0.0.0:5250")]
        rpc_listen: SocketAddr,
        /// Name racks report as their connected region (default: hostname:rpc-port).
        #[arg(long, env = "MAAS_REGION_NAME")]
        region_name: Option<String>,
        /// Key that encrypts BMC credentials; regions sharing a database must share it.
        #[arg(long, env = "MAAS_SECRET_KEY_FILE")]
        secret_key_file: Option<PathBuf>,
        /// Seconds between status-monitor passes (deadline checks).
        #[arg(long, env = "MAAS_STATUS_INTERVAL", default_value_t = 60)]
        status_interval: u64,
        /// Seconds between power polls of every BMC-driven machine (through
        /// the racks connected to this region).
        #[arg(long, env = "MAAS_POWER_POLL_INTERVAL", default_value_t = 300)]
        power_poll_interval: u64,
        /// PostgreSQL connections in each of this region's two sets, the
        /// pool and the one for hot single statements (default: 4 per CPU,
        /// 8 to 32). More connections than the work needs cost the database
        /// CPU on every statement.
        #[arg(long, env = "MAAS_DB_MAX_CONNECTIONS")]
        db_max_connections: Option<u32>,
        /// Largest request body accepted, in bytes (image uploads stream to
        /// disk and are bounded by the size they declare instead).
        #[arg(long, env = "MAAS_MAX_BODY", default_value_t = 16 << 20)]
        max_body: usize,
        /// Where uploaded boot images are stored, by sha256 (default:
        /// <data-dir>/images).
        #[arg(long, env = "MAAS_IMAGE_DIR")]
        image_dir: Option<PathBuf>,
        /// Machines whose rendering this region keeps in memory (~4 kB each
        /// with their interfaces and disks); set it above the fleet size.
        #[arg(long, env = "MAAS_RENDER_CACHE_MACHINES", default_value_t = maas_region::render::cache::DEFAULT_MAX_ENTRIES)]
        render_cache_machines: usize,
        /// Seconds a client may take to send a request's line and headers.
        #[arg(long, env = "MAAS_HEADER_TIMEOUT", default_value_t = 10)]
        header_timeout: u64,
        /// Seconds a client may take to send a request's body (else 408).
        #[arg(long, env = "MAAS_BODY_TIMEOUT", default_value_t = 60)]
        body_timeout: u64,
        /// Seconds an API connection may sit idle (no request in progress,
        /// no bytes moving) before it is closed.
        #[arg(long, env = "MAAS_IDLE_TIMEOUT", default_value_t = 60)]
        idle_timeout: u64,
        /// API connections one client address may hold open at once.
        #[arg(long, env = "MAAS_MAX_CONNECTIONS_PER_PEER", default_value_t = 64)]
        max_connections_per_peer: usize,
        /// Seconds a rack connection may take to finish TLS and start HTTP/2.
        #[arg(long, env = "MAAS_RPC_SESSION_TIMEOUT", default_value_t = 10)]
        rpc_session_timeout: u64,
    },
    /// Create an administrator.
    Createadmin {
        #[arg(long, env = "MAAS_ADMIN_USERNAME")]
        username: String,
        #[arg(long, env = "MAAS_ADMIN_PASSWORD")]
        password: String,
        #[arg(long, env = "MAAS_ADMIN_EMAIL")]
        email: String,
        /// An SSH public key to add for the admin.
        #[arg(long, env = "MAAS_ADMIN_SSH_KEY")]
        ssh_key: Option<String>,
    },
    /// Print a new API key (consumer:token:secret) for a user.
    Apikey {
        #[arg(long, env = "MAAS_APIKEY_USERNAME")]
        username: String,
    },
    /// Print the rack enrollment secret, creating it if needed.
    Secret,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let data_dir = cli
        .db
        .data_dir
        .clone()
        .unwrap_or_else(region::default_data_dir);
    match cli.cmd {
        Cmd::Serve {
            listen,
            rpc_listen,
            region_name,
            secret_key_file,
            status_interval,
            power_poll_interval,
            db_max_connections,
            max_body,
            image_dir,
            render_cache_machines,
            header_timeout,
            body_timeout,
            idle_timeout,
            max_connections_per_peer,
            rpc_session_timeout,
        } => {
            let mut opts = Options::new(data_dir, cli.db.database_url, listen);
            opts.secret_key_file = secret_key_file;
            opts.status_interval = Duration::from_secs(status_interval.max(1));
            opts.power_poll_interval = Duration::from_secs(power_poll_interval.max(1));
            if let Some(n) = db_max_connections {
                opts.db_max_connections = n.max(2);
            }
            opts.max_body = max_body;
            opts.image_dir = image_dir;
            opts.render_cache_machines = render_cache_machines;
            let secs = |s: u64| Duration::from_secs(s.max(1));
            opts.limits = maas_region::api::conn::Limits {
                header_read: secs(header_timeout),
                body_read: secs(body_timeout),
                idle: secs(idle_timeout),
                per_peer: max_connections_per_peer.max(1),
            };
            opts.rpc_session_timeout = secs(rpc_session_timeout);
            opts.rpc_listen = Some(rpc_listen);
            opts.region_name = region_name;
            let mut running = region::start(&opts).await?;
            tokio::select! {
                r = running.wait() => r?,
                _ = shutdown_signal() => tracing::info!("shutting down"),
            }
            running.stop().await?;
        }
        Cmd::Createadmin {
            username,
            password,
            email,
            ssh_key,
        } => {
            let (pool, mut cluster) = region::open_database(
                &data_dir,
                cli.db.database_url.as_deref(),
                2,
                Claim::MayShare,
            )
            .await?;
            let r = users::create_admin(&pool, &username, &email, &password, ssh_key.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{}", api_error_text(e)));
            pool.close().await;
            if let Some(c) = cluster.as_mut() {
                c.stop().await;
            }
            r?;
            eprintln!("Created admin {username}.");
        }
        Cmd::Apikey { username } => {
            let (pool, mut cluster) = region::open_database(
                &data_dir,
                cli.db.database_url.as_deref(),
                2,
                Claim::MayShare,
            )
            .await?;
            let r = async {
                let key = account::create_token_for(&pool, &username, "cli")
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", api_error_text(e)))?;
                let Some(key) = key else {
                    bail!("no such user: {username}");
                };
                anyhow::Ok(key.to_string())
            }
            .await;
            pool.close().await;
            if let Some(c) = cluster.as_mut() {
                c.stop().await;
            }
            println!("{}", r?);
        }
        Cmd::Secret => {
            let (pool, mut cluster) = region::open_database(
                &data_dir,
                cli.db.database_url.as_deref(),
                2,
                Claim::MayShare,
            )
            .await?;
            let r = maas_region::services::racks::enrollment_secret(&pool).await;
            pool.close().await;
            if let Some(c) = cluster.as_mut() {
                c.stop().await;
            }
            println!("{}", r.context("reading the enrollment secret")?);
        }
    }
    Ok(())
}

fn api_error_text(e: maas_region::error::Error) -> String {
    match e {
        maas_region::error::Error::Validation(f) => f
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.join(" ")))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// A failed start or run is a message and its causes, never a backtrace
/// (even with `RUST_BACKTRACE` set); exit status 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
