//! The rack's network services — DHCPv4, DNS, TFTP and the HTTP boot
//! server — run from the applied desired state: started once, then
//! reconfigured in place on every new snapshot (and when the host's
//! addresses change). What they do is reported as events (leases, boot
//! requests) through the durable queue, and their health as `Health`
//! events the region shows on `rackcontrollers/{id}/`.

pub mod adapt;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maas_model::desired::Snapshot;
use maas_model::rack::{EventKind, ServiceHealth};
use tokio::sync::{mpsc, watch};

use crate::plan::{self, LocalAddr};
use crate::session::Shared;
use crate::state::StateStore;

/// Which services run, and where. `None` switches one off.
#[derive(Debug, Clone)]
pub struct Options {
    /// DHCP's UDP port (67).
    pub dhcp_port: Option<u16>,
    /// DNS's UDP and TCP address (0.0.0.0:53).
    pub dns_listen: Option<SocketAddr>,
    /// TFTP's port (69), bound on each of the host's IPv4 addresses.
    pub tftp_port: Option<u16>,
    /// The HTTP boot server (0.0.0.0:5248).
    pub http_listen: Option<SocketAddr>,
    /// Where the iPXE loaders are looked for (Debian's `ipxe`: /usr/lib/ipxe).
    pub loader_dirs: Vec<PathBuf>,
    /// Kernels, initrds and images served under `/images/`.
    pub image_dir: PathBuf,
    /// The rack's data dir (the DHCP lease log goes in `dhcp/`).
    pub data_dir: PathBuf,
}

/// The running servers (what `/metrics` reads).
#[derive(Default)]
pub struct Running {
    dhcp: Option<maas_dhcp::DhcpServer>,
    dns: Option<maas_dns::DnsServer>,
    boot: Option<(maas_boot::BootService, Arc<maas_boot::BootFiles>)>,
}

impl Running {
    /// Prometheus text of every running service's counters.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        if let Some(d) = &self.dhcp {
            d.metrics().render_prometheus(&mut out);
        }
        if let Some(d) = &self.dns {
            d.metrics().render_prometheus(&mut out);
        }
        if let Some((_, f)) = &self.boot {
            f.metrics.render_prometheus(&mut out);
        }
        out
    }
}

/// Queue events for the region (durable; sent when a region is there).
pub(crate) fn report(shared: &Shared, events: Vec<EventKind>) {
    if events.is_empty() {
        return;
    }
    match shared.queue.lock() {
        Ok(mut q) => {
            if let Err(e) = q.push_many(events) {
                tracing::error!(error = %e, "cannot queue events");
                return;
            }
        }
        Err(_) => return,
    }
    shared.events_ready.notify_one();
}

fn health(service: &str, status: &str, info: impl Into<String>) -> EventKind {
    EventKind::Health(ServiceHealth {
        service: service.into(),
        status: status.into(),
        info: info.into(),
    })
}

/// Start the enabled services, then follow the desired state and the
/// host's addresses until the process ends. A service that cannot start is
/// reported dead (with why) and the others run.
pub async fn run(
    opts: Options,
    state: StateStore,
    shared: Arc<Shared>,
    running: Arc<Mutex<Running>>,
) {
    let mut addrs = plan::local_addrs(&crate::ifaces::read().await);
    let mut rx = state.subscribe();
    let snap: Arc<Snapshot> = rx.borrow().clone().unwrap_or_default();
    let dns_here = opts.dns_listen.is_some();
    let http_port = opts.http_listen.map(|a| a.port()).unwrap_or(5248);
    let mut started = Vec::new();

    // DHCP: a thread of its own; leases come back on a channel.
    let (dhcp_tx, dhcp_cfg) = watch::channel(adapt::dhcp(&snap, &addrs, dns_here, http_port));
    if let Some(port) = opts.dhcp_port {
        let (ltx, mut lrx) = mpsc::channel::<maas_model::rack::Lease>(4096);
        let o = maas_dhcp::ServerOptions {
            port,
            data_dir: opts.data_dir.join("dhcp"),
            ..maas_dhcp::ServerOptions::default()
        };
        match maas_dhcp::DhcpServer::start(o, dhcp_cfg, Some(ltx)) {
            Ok(s) => {
                let sh = shared.clone();
                tokio::spawn(async move {
                    let mut batch = Vec::new();
                    while lrx.recv_many(&mut batch, 1024).await > 0 {
                        report(&sh, batch.drain(..).map(EventKind::Lease).collect());
                    }
                });
                started.push(health("dhcpd", "running", format!("UDP port {}", s.port())));
                running.lock().expect("running lock").dhcp = Some(s);
            }
            Err(e) => {
                tracing::error!(error = %e, "DHCP server did not start");
                started.push(health("dhcpd", "dead", e.to_string()));
            }
        }
    } else {
        started.push(health("dhcpd", "off", "switched off"));
    }

    // DNS.
    if let Some(listen) = opts.dns_listen {
        match maas_dns::DnsServer::start(&adapt::dns(&snap), maas_dns::ServerOptions::new(listen)) {
            Ok(s) => {
                started.push(health("dns", "running", format!("{}", s.local_addr())));
                running.lock().expect("running lock").dns = Some(s);
            }
            Err(e) => {
                tracing::error!(error = %e, "DNS server did not start");
                started.push(health("dns", "dead", e.to_string()));
            }
        }
    } else {
        started.push(health("dns", "off", "switched off"));
    }

    // TFTP + HTTP boot.
    let boot_cfg = maas_boot::ConfigHandle::new(adapt::boot(&snap));
    if opts.tftp_port.is_some() || opts.http_listen.is_some() {
        match start_boot(&opts, &addrs, boot_cfg.clone(), shared.clone()).await {
            Ok((svc, files)) => {
                let info = format!("tftp {:?} http {:?}", svc.tftp_addrs, svc.http_addr);
                started.push(health("boot", "running", info));
                running.lock().expect("running lock").boot = Some((svc, files));
            }
            Err(e) => {
                tracing::error!(error = %e, "boot services did not start");
                started.push(health("boot", "dead", e));
            }
        }
    } else {
        started.push(health("boot", "off", "switched off"));
    }
    report(&shared, started);

    // Follow the desired state; re-read the host's addresses now and then.
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    tick.tick().await;
    loop {
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tick.tick() => {
                let now = plan::local_addrs(&crate::ifaces::read().await);
                if now == addrs {
                    continue;
                }
                addrs = now;
            }
        }
        let snap: Arc<Snapshot> = rx.borrow_and_update().clone().unwrap_or_default();
        let _ = dhcp_tx.send(adapt::dhcp(&snap, &addrs, dns_here, http_port));
        boot_cfg.store(adapt::boot(&snap));
        let dns_result = running
            .lock()
            .expect("running lock")
            .dns
            .as_ref()
            .map(|d| d.swap(&adapt::dns(&snap)));
        if let Some(Err(e)) = dns_result {
            tracing::warn!(error = %e, "DNS zones not swapped; serving the previous ones");
            report(&shared, vec![health("dns", "degraded", e.to_string())]);
        }
        tracing::info!(generation = snap.generation, "services reconfigured");
    }
}

async fn start_boot(
    opts: &Options,
    addrs: &[LocalAddr],
    cfg: maas_boot::ConfigHandle,
    shared: Arc<Shared>,
) -> Result<(maas_boot::BootService, Arc<maas_boot::BootFiles>), String> {
    let loaders = maas_boot::Loaders::discover(&opts.loader_dirs).map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel::<maas_model::rack::BootRequest>(4096);
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, 1024).await > 0 {
            report(&shared, batch.drain(..).map(EventKind::Boot).collect());
        }
    });
    let files = Arc::new(maas_boot::BootFiles::new(
        loaders,
        None,
        Some(opts.image_dir.clone()),
        cfg,
        Arc::new(maas_boot::Metrics::default()),
        Some(tx),
    ));
    let tftp: Vec<SocketAddr> = match opts.tftp_port {
        Some(port) => {
            let mut v: Vec<SocketAddr> = addrs
                .iter()
                .filter(|a| a.ip.is_ipv4())
                .map(|a| SocketAddr::new(a.ip, port))
                .collect();
            v.push(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port));
            v.dedup();
            v
        }
        None => vec![],
    };
    let svc = maas_boot::BootService::start(
        files.clone(),
        &tftp,
        opts.http_listen,
        maas_boot::TftpSettings::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((svc, files))
}
