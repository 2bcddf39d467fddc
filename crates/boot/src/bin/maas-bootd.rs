//! `maas-bootd`: the boot services on their own, for benchmarks and tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use maas_boot::{BootConfig, BootFiles, BootService, ConfigHandle, Loaders, Metrics, TftpSettings};

#[derive(Parser, Debug)]
#[command(about = "MAAS rack boot services: TFTP and HTTP boot server")]
struct Args {
    /// Boot configuration (JSON, see docs/boot.md); re-read on SIGHUP.
    #[arg(long, env = "MAAS_BOOT_CONFIG")]
    config: Option<PathBuf>,
    /// TFTP listen address; repeat for several (one per interface address).
    #[arg(
        long = "tftp-listen",
        env = "MAAS_BOOT_TFTP_LISTEN",
        value_delimiter = ','
    )]
    tftp_listen: Vec<SocketAddr>,
    /// HTTP boot server listen address (port 5248 by default in the rack).
    #[arg(long = "http-listen", env = "MAAS_BOOT_HTTP_LISTEN")]
    http_listen: Option<SocketAddr>,
    /// Directory of extra files served over TFTP.
    #[arg(long, env = "MAAS_BOOT_ROOT")]
    root: Option<PathBuf>,
    /// Image root served under /images/ (ephemeral/<arch>/{kernel,initrd}).
    #[arg(long = "image-root", env = "MAAS_BOOT_IMAGE_ROOT")]
    image_root: Option<PathBuf>,
    /// Directories searched for the iPXE loaders.
    #[arg(
        long = "loader-dir",
        env = "MAAS_BOOT_LOADER_DIRS",
        value_delimiter = ',',
        default_value = "/usr/lib/ipxe"
    )]
    loader_dirs: Vec<PathBuf>,
    /// Tokio worker threads (1: a current-thread runtime).
    #[arg(long, env = "MAAS_BOOT_THREADS", default_value_t = 2)]
    threads: usize,
    /// Largest TFTP windowsize granted.
    #[arg(long, default_value_t = 64)]
    max_windowsize: u16,
}

fn read_config(p: &Option<PathBuf>) -> anyhow::Result<BootConfig> {
    match p {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
        }
        None => Ok(BootConfig::default()),
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    // One thread: a current-thread runtime (the I/O driver and the tasks on
    // one thread) answers each lock-step TFTP ACK with less latency.
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    rt.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let loaders = Loaders::discover(&args.loader_dirs)?;
    let config = ConfigHandle::new(read_config(&args.config)?);
    let metrics = Arc::new(Metrics::default());
    let files = Arc::new(BootFiles::new(
        loaders,
        args.root.clone(),
        args.image_root.clone(),
        config.clone(),
        metrics,
        None,
    ));
    let settings = TftpSettings {
        windowsize_limit: args.max_windowsize,
        ..TftpSettings::default()
    };
    let svc = BootService::start(files, &args.tftp_listen, args.http_listen, settings).await?;
    println!("tftp={:?} http={:?}", svc.tftp_addrs, svc.http_addr);
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = hup.recv() => match read_config(&args.config) {
                Ok(c) => { config.store(c); tracing::info!("boot config reloaded"); }
                Err(e) => tracing::warn!(error = %e, "boot config reload failed; keeping the old one"),
            },
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}
