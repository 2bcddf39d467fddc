//! `maas-power`: drive one BMC by hand, or measure query rates against many.
//!
//!   maas-power -t ipmi -p power_address=127.0.0.1:9623 -p power_user=admin -p power_pass=secret query
//!   maas-power -t ipmi -p power_user=admin -p power_pass=secret bench --address 127.0.0.1:9600 --address ... --seconds 10

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use maas_bmc::{BootDevice, BootTarget, DriverOptions, OffMode, driver_for_with};

#[derive(Parser)]
#[command(about = "Power a machine through its BMC (IPMI, Redfish, webhook, manual)")]
struct Args {
    /// MAAS power type.
    #[arg(short = 't', long, default_value = "ipmi")]
    power_type: String,
    /// A power parameter, key=value (repeatable).
    #[arg(short = 'p', long = "param")]
    params: Vec<String>,
    /// Seconds to wait for one answer before retrying.
    #[arg(long, default_value_t = 1.0)]
    attempt_timeout: f64,
    #[arg(long, default_value_t = 3)]
    retries: u32,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Query,
    On,
    Off,
    SoftOff,
    Cycle,
    Reset,
    /// Next boot from PXE (or disk with --disk).
    Bootdev {
        #[arg(long)]
        disk: bool,
        #[arg(long)]
        persistent: bool,
        #[arg(long)]
        efi: bool,
    },
    /// Query every --address in parallel for --seconds; print key=value lines.
    Bench {
        #[arg(long = "address")]
        addresses: Vec<String>,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Concurrent queries per BMC.
        #[arg(long, default_value_t = 1)]
        per_bmc: usize,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("maas-power: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    let mut params = BTreeMap::new();
    for kv in &a.params {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("parameter {kv:?} is not key=value"))?;
        params.insert(k.to_string(), v.to_string());
    }
    let opts = DriverOptions {
        attempt_timeout: Duration::from_secs_f64(a.attempt_timeout),
        retries: a.retries,
        ..DriverOptions::default()
    };
    if let Cmd::Bench {
        addresses,
        seconds,
        per_bmc,
    } = &a.cmd
    {
        return bench(&a.power_type, &params, opts, addresses, *seconds, *per_bmc).await;
    }
    let d = driver_for_with(&a.power_type, &params, opts)?;
    match a.cmd {
        Cmd::Query => println!("{}", d.query().await?.as_str()),
        Cmd::On => println!("{:?}", d.power_on().await?),
        Cmd::Off => d.power_off(OffMode::Hard).await?,
        Cmd::SoftOff => d.power_off(OffMode::Soft).await?,
        Cmd::Cycle => d.power_cycle().await?,
        Cmd::Reset => d.power_reset().await?,
        Cmd::Bootdev {
            disk,
            persistent,
            efi,
        } => {
            let target = if disk {
                BootTarget::Disk
            } else {
                BootTarget::Pxe
            };
            d.set_boot_device(BootDevice {
                target,
                persistent,
                efi,
            })
            .await?
        }
        Cmd::Bench { .. } => {}
    }
    Ok(())
}

async fn bench(
    power_type: &str,
    params: &BTreeMap<String, String>,
    opts: DriverOptions,
    addresses: &[String],
    seconds: f64,
    per_bmc: usize,
) -> anyhow::Result<()> {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for addr in addresses {
        let mut p = params.clone();
        p.insert("power_address".into(), addr.clone());
        let d: Arc<dyn maas_bmc::PowerDriver> = Arc::from(driver_for_with(power_type, &p, opts)?);
        for _ in 0..per_bmc.max(1) {
            let (d, ok, failed) = (d.clone(), ok.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    match d.query().await {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            tracing::warn!(error = %e, "query failed");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "bmcs={} queries={} failed={} seconds={:.2}",
        addresses.len(),
        ok,
        failed.load(Ordering::Relaxed),
        secs
    );
    println!("queries_per_s={:.1}", ok as f64 / secs);
    Ok(())
}
