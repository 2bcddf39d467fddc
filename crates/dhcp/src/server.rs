//! The running server: one UDP socket (IP_PKTINFO, SO_BROADCAST) on the
//! DHCP port, a thread that reads batches of packets, runs them through
//! the [`Engine`], group-commits the batch's lease records with one
//! fdatasync, and only then sends the batch's ACKs.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::{mpsc, watch};

use crate::config::{Compiled, Config, ConfigError};
use crate::engine::{Engine, Ports, RecvMeta, Reply};
use crate::leases::State;
use crate::metrics::Metrics;
use crate::store::{Record, Store, StoreError};
use crate::sys;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("binding UDP port {port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// UDP port to listen on (67).
    pub port: u16,
    /// Port clients listen on (68).
    pub client_port: u16,
    /// Serve only packets arriving on these interfaces (empty = any
    /// interface a subnet names, plus relayed packets on any).
    pub interfaces: Vec<String>,
    /// Where `leases.log` lives.
    pub data_dir: PathBuf,
    /// SO_RCVBUF bytes.
    pub recv_buffer: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            port: 67,
            client_port: 68,
            interfaces: Vec::new(),
            data_dir: PathBuf::from("/var/lib/maas-rack/dhcp"),
            recv_buffer: 4 << 20,
        }
    }
}

/// A lease as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseInfo {
    pub ip: Ipv4Addr,
    pub mac: String,
    pub expires_unix: u64,
    pub hostname: String,
}

/// The running server; stops (and joins its thread) on drop.
pub struct DhcpServer {
    engine: Arc<Mutex<Engine>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl DhcpServer {
    /// Opens the lease log, binds the socket (in the calling thread's
    /// network namespace) and starts serving `config`, following its
    /// changes. Lease events go to `events` (dropped and counted when full).
    pub fn start(
        opts: ServerOptions,
        config: watch::Receiver<Config>,
        events: Option<mpsc::Sender<maas_model::rack::Lease>>,
    ) -> Result<DhcpServer, ServerError> {
        let compiled = Arc::new(Compiled::new(config.borrow().clone())?);
        let (store, table) = Store::open(&opts.data_dir, now_unix())?;
        tracing::info!(
            leases = table.bound().count(),
            path = %store.path().display(),
            "lease log loaded"
        );
        let bind = |source| ServerError::Bind {
            port: opts.port,
            source,
        };
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).map_err(bind)?;
        sock.set_reuse_address(true).map_err(bind)?;
        sock.set_broadcast(true).map_err(bind)?;
        // As root, SO_RCVBUFFORCE passes net.core.rmem_max.
        if sys::force_rcvbuf(sock.as_raw_fd(), opts.recv_buffer).is_err() {
            let _ = sock.set_recv_buffer_size(opts.recv_buffer);
        }
        sys::set_pktinfo(sock.as_raw_fd()).map_err(bind)?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(bind)?;
        sock.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, opts.port).into())
            .map_err(bind)?;
        let port = sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.port())
            .unwrap_or(opts.port);
        let metrics = Arc::new(Metrics::default());
        let ports = Ports {
            server: opts.port,
            client: opts.client_port,
        };
        let engine = Arc::new(Mutex::new(Engine::new(
            compiled,
            table,
            Arc::clone(&metrics),
            ports,
        )));
        let stop = Arc::new(AtomicBool::new(false));
        let send_sock = sock.try_clone().map_err(bind)?;
        let (commit_tx, commit_rx) = std::sync::mpsc::channel::<Batch>();
        let committer = Committer {
            sock: send_sock,
            store,
            metrics: Arc::clone(&metrics),
            events,
        };
        let committer = std::thread::Builder::new()
            .name("dhcp4-commit".into())
            .spawn(move || committer.run(commit_rx))
            .map_err(bind)?;
        let mut worker = Worker {
            sock,
            commit: Some(commit_tx),
            engine: Arc::clone(&engine),
            metrics: Arc::clone(&metrics),
            stop: Arc::clone(&stop),
            config,
            only: opts.interfaces.clone(),
            names: HashMap::new(),
        };
        let thread = std::thread::Builder::new()
            .name("dhcp4".into())
            .spawn(move || {
                worker.run();
                drop(worker);
                let _ = committer.join();
            })
            .map_err(bind)?;
        tracing::info!(port, "DHCPv4 server listening");
        Ok(DhcpServer {
            engine,
            metrics,
            stop,
            thread: Some(thread),
            port,
        })
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound leases.
    pub fn leases(&self) -> Vec<LeaseInfo> {
        let e = match self.engine.lock() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        };
        let mut v: Vec<LeaseInfo> = e
            .table
            .by_ip
            .iter()
            .filter(|(_, l)| l.state == State::Bound)
            .map(|(ip, l)| LeaseInfo {
                ip: *ip,
                mac: l.hw.to_string(),
                expires_unix: l.expires,
                hostname: l.hostname.clone(),
            })
            .collect();
        v.sort_by_key(|l| l.ip);
        v
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for DhcpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// ACKs waiting for their lease records to reach the disk.
struct Batch {
    records: Vec<Record>,
    acks: Vec<Reply>,
    events: Vec<maas_model::rack::Lease>,
}

/// Group commit off the receive path: takes every batch queued, writes
/// their records with one fdatasync, then sends their ACKs and events. The
/// receiver never stalls on the disk.
struct Committer {
    sock: Socket,
    store: Store,
    metrics: Arc<Metrics>,
    events: Option<mpsc::Sender<maas_model::rack::Lease>>,
}

impl Committer {
    fn run(mut self, rx: std::sync::mpsc::Receiver<Batch>) {
        let mut records = Vec::new();
        let mut acks = Vec::new();
        let mut events = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut take = |mut b: Batch| {
                records.append(&mut b.records);
                acks.append(&mut b.acks);
                events.append(&mut b.events);
            };
            take(first);
            while let Ok(b) = rx.try_recv() {
                take(b);
            }
            let ok = match self.store.commit(&records) {
                Ok(()) => {
                    if !records.is_empty() {
                        Metrics::inc(&self.metrics.fsyncs);
                    }
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "lease log write failed: ACKs withheld");
                    false
                }
            };
            records.clear();
            for r in acks.drain(..) {
                if ok {
                    send(&self.sock, &self.metrics, &r);
                } else {
                    Metrics::inc(&self.metrics.drop_store_error);
                }
            }
            for ev in events.drain(..) {
                if let Some(tx) = &self.events
                    && tx.try_send(ev).is_err()
                {
                    Metrics::inc(&self.metrics.events_dropped);
                }
            }
        }
    }
}

fn send(sock: &Socket, metrics: &Metrics, r: &Reply) {
    if let Err(e) = sys::send(sock.as_raw_fd(), &r.bytes, r.dst, r.ifindex, r.src) {
        Metrics::inc(&metrics.drop_send_error);
        tracing::debug!(error = %e, dst = %r.dst, "send failed");
    }
}

struct Worker {
    sock: Socket,
    commit: Option<std::sync::mpsc::Sender<Batch>>,
    engine: Arc<Mutex<Engine>>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
    config: watch::Receiver<Config>,
    only: Vec<String>,
    names: HashMap<u32, String>,
}

const BATCH: usize = 256;

impl Worker {
    fn run(&mut self) {
        let fd = self.sock.as_raw_fd();
        let mut buf = vec![0u8; 4096];
        let mut held: Vec<Reply> = Vec::new();
        let mut records: Vec<Record> = Vec::new();
        let mut events = Vec::new();
        let mut last_tick = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            if self.config.has_changed().unwrap_or(false) {
                let cfg = self.config.borrow_and_update().clone();
                match Compiled::new(cfg) {
                    Ok(c) => {
                        self.lock().set_config(Arc::new(c));
                        tracing::info!("configuration applied");
                    }
                    Err(e) => tracing::error!(error = %e, "new configuration refused"),
                }
            }
            let now = now_unix();
            if now != last_tick {
                last_tick = now;
                self.lock().tick(now);
            }
            let mut n = 0;
            {
                let mut first = true;
                while n < BATCH {
                    let r = match sys::recv(fd, &mut buf, !first) {
                        Ok(r) => r,
                        Err(_) => break,
                    };
                    first = false;
                    n += 1;
                    let Some(name) = self.ifname(r.ifindex) else {
                        continue;
                    };
                    let name = name.to_string();
                    let meta = RecvMeta {
                        ifindex: r.ifindex,
                        ifname: &name,
                        src: r.src,
                        local: r.local,
                    };
                    let pkt = &buf[..r.len.min(buf.len())];
                    let reply = self.lock().handle(pkt, &meta, now);
                    if let Some(reply) = reply {
                        if reply.durable {
                            held.push(reply);
                        } else {
                            self.send(&reply);
                        }
                    }
                }
            }
            {
                let mut e = self.lock();
                e.take_records(&mut records);
                e.take_events(&mut events);
            }
            if !(records.is_empty() && held.is_empty() && events.is_empty()) {
                let batch = Batch {
                    records: std::mem::take(&mut records),
                    acks: std::mem::take(&mut held),
                    events: std::mem::take(&mut events),
                };
                if let Some(tx) = &self.commit
                    && tx.send(batch).is_err()
                {
                    tracing::error!("lease committer gone");
                    return;
                }
            }
        }
        self.commit = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Engine> {
        match self.engine.lock() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        }
    }

    /// The receiving interface's name, None when filtered out.
    fn ifname(&mut self, index: u32) -> Option<&str> {
        let name = self
            .names
            .entry(index)
            .or_insert_with(|| sys::ifname(index));
        if !self.only.is_empty() && !self.only.iter().any(|o| o == name) {
            return None;
        }
        Some(name.as_str())
    }

    fn send(&self, r: &Reply) {
        send(&self.sock, &self.metrics, r);
    }
}
