//! `maas-dnsd`: the DNS server alone, for benchmarks and tests.
//! SIGHUP re-reads the configuration and swaps it in.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use maas_dns::{DnsConfig, DnsServer, ServerOptions};

#[derive(Parser, Debug)]
#[command(name = "maas-dnsd", about = "MAAS rack DNS server (standalone)")]
struct Args {
    /// Zones, forwarders and ACL as JSON (maas_dns::DnsConfig).
    #[arg(long, env = "MAAS_DNS_CONFIG")]
    config: PathBuf,
    /// UDP and TCP address.
    #[arg(long, env = "MAAS_DNS_LISTEN", default_value = "127.0.0.1:5353")]
    listen: SocketAddr,
    /// UDP sockets/threads on the port.
    #[arg(long, env = "MAAS_DNS_THREADS", default_value_t = 1)]
    threads: usize,
    /// Do not serve TCP.
    #[arg(long)]
    no_tcp: bool,
}

fn load(path: &Path) -> anyhow::Result<DnsConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cfg = load(&args.config)?;
        let mut opts = ServerOptions::new(args.listen);
        opts.udp_threads = args.threads.max(1);
        opts.tcp = !args.no_tcp;
        let server = DnsServer::start(&cfg, opts)?;
        println!("listening {}", server.local_addr());
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            tokio::select! {
                _ = hup.recv() => match load(&args.config).map(|c| server.swap(&c)) {
                    Ok(Ok(stats)) => tracing::info!(?stats, "reloaded"),
                    Ok(Err(e)) => tracing::error!(error = %e, "reload refused; old zones kept"),
                    Err(e) => tracing::error!(error = %e, "reload failed; old zones kept"),
                },
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        server.shutdown();
        anyhow::Ok(())
    })
}
