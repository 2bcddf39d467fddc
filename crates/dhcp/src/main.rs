//! `maas-dhcpd`: the DHCPv4 server on its own (benchmarks, kill/restart
//! tests). The rack embeds the library instead.

use std::path::PathBuf;

use clap::Parser;
use maas_dhcp::{Config, DhcpServer, ServerOptions};

#[derive(Parser, Debug)]
#[command(name = "maas-dhcpd", about = "MAAS rack DHCPv4 server")]
struct Args {
    /// JSON configuration (maas_dhcp::Config).
    #[arg(long, env = "MAAS_DHCP_CONFIG")]
    config: PathBuf,
    /// Directory of the lease log.
    #[arg(long, env = "MAAS_DHCP_DATA_DIR")]
    data_dir: PathBuf,
    /// UDP port to listen on.
    #[arg(long, default_value_t = 67, env = "MAAS_DHCP_PORT")]
    port: u16,
    /// UDP port clients listen on.
    #[arg(long, default_value_t = 68, env = "MAAS_DHCP_CLIENT_PORT")]
    client_port: u16,
    /// Only these interfaces (comma separated); default: all.
    #[arg(long, value_delimiter = ',', env = "MAAS_DHCP_INTERFACES")]
    interfaces: Vec<String>,
    /// Write Prometheus metrics to this file every second.
    #[arg(long)]
    metrics_file: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let cfg = Config::from_json_file(&args.config)?;
    let (_tx, rx) = tokio::sync::watch::channel(cfg);
    let server = DhcpServer::start(
        ServerOptions {
            port: args.port,
            client_port: args.client_port,
            interfaces: args.interfaces,
            data_dir: args.data_dir,
            ..ServerOptions::default()
        },
        rx,
        None,
    )?;
    let metrics = server.metrics();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if let Some(path) = &args.metrics_file {
            let mut s = String::new();
            metrics.render_prometheus(&mut s);
            let tmp = path.with_extension("tmp");
            if std::fs::write(&tmp, s).is_ok() {
                let _ = std::fs::rename(&tmp, path);
            }
        }
    }
}
