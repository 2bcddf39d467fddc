//! `maas-rack serve`: enroll (first start), then keep a session with a region.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::{Parser, Subcommand};
use maas_model::rack::{EventKind, ServiceHealth};
use maas_rack::session::{self, Shared};
use maas_rack::{Config, identity, local, queue, services, state};

#[derive(Parser)]
#[command(name = "maas-rack", version, about = "MAAS rack controller")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Enroll if needed, then serve from the desired state regions push.
    Serve {
        /// Region RPC endpoints, comma-separated: https://HOST:5250[,https://HOST2:5250]
        #[arg(long, env = "MAAS_REGION", value_delimiter = ',', required = true)]
        region: Vec<String>,
        /// The secret printed by `maas-region secret` (needed for the first start).
        #[arg(long, env = "MAAS_SECRET", default_value = "")]
        secret: String,
        /// Where the identity, applied state and event queue live.
        #[arg(long, env = "MAAS_RACK_DATA_DIR", default_value = "/var/lib/maas-rack")]
        data_dir: PathBuf,
        /// Hostname to report (default: the system's).
        #[arg(long, env = "MAAS_RACK_HOSTNAME")]
        hostname: Option<String>,
        /// Local status/state/events/metrics endpoint.
        #[arg(long, env = "MAAS_RACK_HTTP_LISTEN", default_value = "127.0.0.1:5249")]
        http_listen: SocketAddr,
        #[command(flatten)]
        services: ServiceArgs,
    },
    /// Benchmark: run many simulated racks in this process against a region,
    /// time API change → all racks applied, and event ingestion; print JSON.
    Simulate {
        #[arg(long, value_delimiter = ',', required = true)]
        region: Vec<String>,
        #[arg(long)]
        secret: String,
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        racks: usize,
        /// Region API base, e.g. http://127.0.0.1:5240/MAAS
        #[arg(long)]
        api: String,
        /// Admin API key for the changes.
        #[arg(long)]
        api_key: String,
        #[arg(long, default_value_t = 30)]
        changes: usize,
        #[arg(long, default_value_t = 1000)]
        events_per_rack: usize,
    },
}

/// The network services and their ports.
#[derive(clap::Args)]
struct ServiceArgs {
    /// Services to run: any of dhcp, dns, tftp, http (comma-separated), or none.
    #[arg(
        long,
        env = "MAAS_RACK_SERVICES",
        value_delimiter = ',',
        default_value = "dhcp,dns,tftp,http"
    )]
    services: Vec<String>,
    /// DHCP server UDP port.
    #[arg(long, env = "MAAS_RACK_DHCP_PORT", default_value_t = 67)]
    dhcp_port: u16,
    /// DNS server address (UDP and TCP).
    #[arg(long, env = "MAAS_RACK_DNS_LISTEN", default_value = "0.0.0.0:53")]
    dns_listen: SocketAddr,
    /// TFTP port, served on each of the host's IPv4 addresses.
    #[arg(long, env = "MAAS_RACK_TFTP_PORT", default_value_t = 69)]
    tftp_port: u16,
    /// HTTP boot server address (loaders, kernels, iPXE scripts, metadata proxy).
    #[arg(
        long,
        env = "MAAS_RACK_HTTP_BOOT_LISTEN",
        default_value = "0.0.0.0:5248"
    )]
    http_boot_listen: SocketAddr,
    /// Directories holding the iPXE loaders (Debian's `ipxe` package).
    #[arg(
        long,
        env = "MAAS_RACK_LOADER_DIRS",
        value_delimiter = ',',
        default_value = "/usr/lib/ipxe"
    )]
    loader_dir: Vec<PathBuf>,
    /// Kernels, initrds and images served over HTTP (default: <data-dir>/images).
    #[arg(long, env = "MAAS_RACK_IMAGE_DIR")]
    image_dir: Option<PathBuf>,
}

impl ServiceArgs {
    fn options(&self, data_dir: &std::path::Path) -> anyhow::Result<services::Options> {
        let mut on = std::collections::BTreeSet::new();
        for s in &self.services {
            match s.trim() {
                "none" | "" => {}
                x @ ("dhcp" | "dns" | "tftp" | "http") => {
                    on.insert(x.to_string());
                }
                x => anyhow::bail!(
                    "unknown service '{x}' in --services (dhcp, dns, tftp, http or none)"
                ),
            }
        }
        Ok(services::Options {
            dhcp_port: on.contains("dhcp").then_some(self.dhcp_port),
            dns_listen: on.contains("dns").then_some(self.dns_listen),
            tftp_port: on.contains("tftp").then_some(self.tftp_port),
            http_listen: on.contains("http").then_some(self.http_boot_listen),
            loader_dirs: self.loader_dir.clone(),
            image_dir: self
                .image_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("images")),
            data_dir: data_dir.to_path_buf(),
        })
    }
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    maas_rpc::install_crypto();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let (region, secret, data_dir, hostname, http_listen, service_args) = match Cli::parse().cmd {
        Cmd::Serve {
            region,
            secret,
            data_dir,
            hostname,
            http_listen,
            services,
        } => (region, secret, data_dir, hostname, http_listen, services),
        Cmd::Simulate {
            region,
            secret,
            data_dir,
            racks,
            api,
            api_key,
            changes,
            events_per_rack,
        } => {
            let sims = maas_rack::sim::start(region, secret, data_dir, racks).await?;
            let r = maas_rack::sim::bench(&sims, &api, &api_key, changes, events_per_rack).await?;
            println!("{r}");
            return Ok(());
        }
    };
    for r in &region {
        maas_rack::parse_region(r)?;
    }
    let service_opts = service_args.options(&data_dir)?;
    let hostname = hostname.unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "rack".into())
    });
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let cfg = Arc::new(Config {
        regions: region,
        secret,
        data_dir: data_dir.clone(),
        hostname,
        http_listen: Some(http_listen),
    });
    // Serve the stored state at once, region or not.
    let state = state::StateStore::open(&data_dir)?;
    let shared = Arc::new(Shared {
        queue: Mutex::new(queue::Queue::open(data_dir.clone())?),
        events_ready: tokio::sync::Notify::new(),
        status: Mutex::new(Default::default()),
    });
    let listener = tokio::net::TcpListener::bind(http_listen)
        .await
        .with_context(|| format!("cannot listen on {http_listen}"))?;
    tracing::info!(addr = %listener.local_addr()?, "rack local endpoint listening");
    let id = if let Some(id) = identity::Identity::load(&data_dir)? {
        id
    } else {
        if cfg.secret.is_empty() {
            anyhow::bail!(
                "this rack is not enrolled yet: pass --secret (from `maas-region secret`)"
            );
        }
        identity::load_or_enroll(&cfg).await?
    };
    shared
        .queue
        .lock()
        .expect("queue lock")
        .push_many(vec![EventKind::Health(ServiceHealth {
            service: "rackd".into(),
            status: "running".into(),
            info: format!("maas-rack {}", maas_rack::VERSION),
        })])?;
    let running = Arc::new(Mutex::new(services::Running::default()));
    tokio::spawn(maas_rack::images::run(
        service_opts.image_dir.clone(),
        state.clone(),
        shared.clone(),
        cfg.regions.clone(),
    ));
    tokio::spawn(services::run(
        service_opts,
        state.clone(),
        shared.clone(),
        running.clone(),
    ));
    let l = local::Local {
        system_id: id.system_id.clone(),
        state: state.clone(),
        shared: shared.clone(),
        running,
    };
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, local::router(l)).await {
            tracing::error!(error = %e, "local endpoint stopped");
        }
    });
    tokio::select! {
        _ = session::run(cfg, id, state, shared) => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm() => {}
    }
    Ok(())
}

async fn sigterm() {
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        s.recv().await;
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
