//! Sockets: UDP receive loops on their own threads (several `SO_REUSEPORT`
//! sockets on one port), TCP and the forwarder on tokio. Every loop reads
//! the current [`Served`] through one `ArcSwap`, so a swap never blocks a
//! reader and no query sees half of one configuration.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use socket2::{Domain, Protocol, Socket, Type};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, mpsc};
use tracing::{debug, info, warn};

use crate::config::DnsConfig;
use crate::engine::{Action, Served, Transport};
use crate::metrics::Metrics;
use crate::mmsg::Mmsg;
use crate::zones::ZoneError;

/// Why the server could not start or take a configuration.
#[derive(Debug, Error)]
pub enum DnsError {
    #[error("bad zone configuration: {0}")]
    Zone(#[from] ZoneError),
    #[error("cannot listen on {addr} ({proto}): {source}")]
    Bind {
        addr: SocketAddr,
        proto: &'static str,
        source: io::Error,
    },
    #[error("the DNS server must be started inside a tokio runtime")]
    NoRuntime,
    #[error("cannot start a UDP thread: {0}")]
    Thread(io::Error),
}

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// UDP and TCP address; port 0 picks one (the same for both).
    pub listen: SocketAddr,
    /// UDP sockets/threads sharing the port (`SO_REUSEPORT`).
    pub udp_threads: usize,
    /// Serve TCP too.
    pub tcp: bool,
    /// How long one upstream gets before the next is tried.
    pub forward_timeout: Duration,
    /// Concurrent TCP connections at most.
    pub max_tcp_connections: usize,
}

impl ServerOptions {
    pub fn new(listen: SocketAddr) -> ServerOptions {
        ServerOptions {
            listen,
            udp_threads: 1,
            tcp: true,
            forward_timeout: Duration::from_millis(1500),
            max_tcp_connections: 256,
        }
    }
}

/// What a swap installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapStats {
    pub zones: usize,
    pub records: usize,
    pub precomputed: usize,
}

struct Shared {
    served: ArcSwap<Served>,
    metrics: Metrics,
    fwd_tx: mpsc::Sender<FwdJob>,
    stop: AtomicBool,
    stop_async: Notify,
}

struct FwdJob {
    query: Vec<u8>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
}

/// A running DNS server; stops (and joins its threads) on drop.
pub struct DnsServer {
    shared: Arc<Shared>,
    local: SocketAddr,
    udp_threads: Vec<JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_port(true)?;
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.bind(&addr.into())?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    Ok(s.into())
}

fn tcp_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(128)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

impl DnsServer {
    /// Builds the zones and starts listening (inside a tokio runtime).
    pub fn start(config: &DnsConfig, opts: ServerOptions) -> Result<DnsServer, DnsError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| DnsError::NoRuntime)?;
        let served = Served::build(config)?;
        let bind_err = |proto| {
            move |source| DnsError::Bind {
                addr: opts.listen,
                proto,
                source,
            }
        };
        // UDP and TCP share one port. With port 0 the kernel picks it for
        // UDP, and TCP may find it taken (an outgoing connection's source
        // port): pick again, a few times, rather than fail.
        let attempts = if opts.listen.port() == 0 { 8 } else { 1 };
        let mut attempt = 0;
        let (sockets, tcp, local) = loop {
            attempt += 1;
            let first = udp_socket(opts.listen).map_err(bind_err("udp"))?;
            let local = first.local_addr().map_err(bind_err("udp"))?;
            let mut sockets = vec![first];
            for _ in 1..opts.udp_threads.max(1) {
                sockets.push(udp_socket(local).map_err(bind_err("udp"))?);
            }
            if !opts.tcp {
                break (sockets, None, local);
            }
            match tcp_listener(local) {
                Ok(t) => break (sockets, Some(t), local),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < attempts => {}
                Err(e) => return Err(bind_err("tcp")(e)),
            }
        };
        let (fwd_tx, fwd_rx) = mpsc::channel(4096);
        let metrics = Metrics::default();
        metrics.zone_records.set(served.zones.record_count() as u64);
        let shared = Arc::new(Shared {
            served: ArcSwap::from_pointee(served),
            metrics,
            fwd_tx,
            stop: AtomicBool::new(false),
            stop_async: Notify::new(),
        });
        let mut tasks = Vec::new();
        tasks.push(handle.spawn(forwarder(shared.clone(), fwd_rx, opts.forward_timeout)));
        if let Some(l) = tcp {
            let _guard = handle.enter();
            let l = TcpListener::from_std(l).map_err(bind_err("tcp"))?;
            tasks.push(handle.spawn(tcp_accept(
                l,
                shared.clone(),
                opts.max_tcp_connections,
                opts.forward_timeout,
            )));
        }
        let mut udp_threads = Vec::new();
        for (i, s) in sockets.into_iter().enumerate() {
            let sh = shared.clone();
            let t = std::thread::Builder::new()
                .name(format!("dns-udp-{i}"))
                .spawn(move || udp_loop(Arc::new(s), sh))
                .map_err(DnsError::Thread)?;
            udp_threads.push(t);
        }
        info!(%local, udp_threads = udp_threads.len(), tcp = opts.tcp, "DNS server listening");
        Ok(DnsServer {
            shared,
            local,
            udp_threads,
            tasks,
        })
    }

    /// The address actually bound (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Builds `config` off to the side, then swaps it in atomically.
    /// On error the old configuration keeps serving.
    pub fn swap(&self, config: &DnsConfig) -> Result<SwapStats, DnsError> {
        let served = Served::build(config)?;
        Ok(self.swap_built(served))
    }

    /// Swaps in an already built configuration.
    pub fn swap_built(&self, served: Served) -> SwapStats {
        let stats = SwapStats {
            zones: served.zones.zones.len(),
            records: served.zones.record_count(),
            precomputed: served.table_len(),
        };
        self.shared.served.store(Arc::new(served));
        self.shared.metrics.zone_swaps.inc();
        self.shared.metrics.zone_records.set(stats.records as u64);
        info!(
            zones = stats.zones,
            records = stats.records,
            precomputed = stats.precomputed,
            "DNS configuration swapped"
        );
        stats
    }

    /// Stops every loop and waits for the UDP threads.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.stop_async.notify_waiters();
        for t in self.tasks.drain(..) {
            t.abort();
        }
        for t in self.udp_threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn udp_loop(sock: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut io = Mmsg::new(sock.as_raw_fd());
    let m = &shared.metrics;
    while !shared.stop.load(Ordering::Relaxed) {
        let n = match io.recv() {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => {
                debug!(error = %e, "udp receive");
                continue;
            }
        };
        m.queries_udp.add(n as u64);
        let served = shared.served.load();
        for i in 0..n {
            let (data, src, out) = io.slot(i);
            let (Some(data), Some(src)) = (data, src) else {
                m.malformed_dropped.inc();
                continue;
            };
            let action = served.handle(data, src.ip(), Transport::Udp, out, m);
            match action {
                Action::Respond => {}
                Action::Forward => {
                    let job = FwdJob {
                        query: data.to_vec(),
                        socket: sock.clone(),
                        client: src,
                    };
                    if shared.fwd_tx.try_send(job).is_err() {
                        m.forward_dropped.inc();
                    }
                    out.clear();
                }
                Action::Drop => out.clear(),
            }
        }
        drop(served);
        io.send(n);
    }
}

struct Pending {
    orig_id: [u8; 2],
    query: Vec<u8>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    upstream: SocketAddr,
    deadline: Instant,
    attempt: usize,
}

const MAX_PENDING: usize = 8192;

async fn recv_opt(
    s: &Option<tokio::net::UdpSocket>,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr)> {
    match s {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// A SERVFAIL made from the query itself (ID, question and OPT kept).
fn servfail_from(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    let mut v = query.to_vec();
    v[2] = (v[2] | 0x80) & !0x06;
    v[3] = (v[3] & 0x10) | 0x80 | 2;
    Some(v)
}

/// Relays queries to the upstreams over UDP with fresh random IDs, matches
/// answers by ID and source address, retries the next upstream on timeout
/// and answers SERVFAIL when all have failed.
async fn forwarder(shared: Arc<Shared>, mut rx: mpsc::Receiver<FwdJob>, timeout: Duration) {
    let s4 = tokio::net::UdpSocket::bind("0.0.0.0:0").await.ok();
    let s6 = tokio::net::UdpSocket::bind("[::]:0").await.ok();
    let mut pending: HashMap<u16, Pending> = HashMap::new();
    let mut rng = seed();
    let mut buf = vec![0u8; 65535];
    let mut b6 = vec![0u8; 65535];
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let m = &shared.metrics;
    let send = |p: &Pending, id: u16| {
        let sock = if p.upstream.is_ipv4() { &s4 } else { &s6 };
        let mut q = p.query.clone();
        q[0..2].copy_from_slice(&id.to_be_bytes());
        match sock {
            Some(s) => s.try_send_to(&q, p.upstream).is_ok(),
            None => false,
        }
    };
    loop {
        tokio::select! {
            job = rx.recv() => {
                let Some(job) = job else { break };
                let upstreams = shared.served.load().forwarders.clone();
                if upstreams.is_empty() || pending.len() >= MAX_PENDING || job.query.len() < 12 {
                    m.forward_dropped.inc();
                    continue;
                }
                let id = loop {
                    let id = next_rand(&mut rng) as u16;
                    if !pending.contains_key(&id) { break id; }
                };
                let p = Pending {
                    orig_id: [job.query[0], job.query[1]],
                    query: job.query,
                    socket: job.socket,
                    client: job.client,
                    upstream: upstreams[0],
                    deadline: Instant::now() + timeout,
                    attempt: 0,
                };
                if send(&p, id) { m.forwarded.inc(); } else { m.forward_dropped.inc(); }
                pending.insert(id, p);
            }
            r = recv_opt(&s4, &mut buf) => {
                if let Ok((n, from)) = r { deliver(&mut pending, &mut buf[..n], from); }
            }
            r = recv_opt(&s6, &mut b6) => {
                if let Ok((n, from)) = r { deliver(&mut pending, &mut b6[..n], from); }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let upstreams = shared.served.load().forwarders.clone();
                let expired: Vec<u16> = pending.iter().filter(|(_, p)| p.deadline <= now).map(|(id, _)| *id).collect();
                for id in expired {
                    let Some(mut p) = pending.remove(&id) else { continue };
                    p.attempt += 1;
                    if !upstreams.is_empty() && p.attempt < upstreams.len().max(2) {
                        p.upstream = upstreams[p.attempt % upstreams.len()];
                        p.deadline = now + timeout;
                        send(&p, id);
                        pending.insert(id, p);
                    } else {
                        m.forward_timeouts.inc();
                        warn!(client = %p.client, "no upstream answered a forwarded query");
                        if let Some(v) = servfail_from(&p.query) {
                            let _ = p.socket.send_to(&v, p.client);
                        }
                    }
                }
            }
            _ = shared.stop_async.notified() => break,
        }
    }
}

fn deliver(pending: &mut HashMap<u16, Pending>, resp: &mut [u8], from: SocketAddr) {
    if resp.len() < 12 || resp[2] & 0x80 == 0 {
        return;
    }
    let id = u16::from_be_bytes([resp[0], resp[1]]);
    let matches = pending.get(&id).is_some_and(|p| p.upstream == from);
    if !matches {
        return; // late, spoofed or unknown
    }
    if let Some(p) = pending.remove(&id) {
        resp[0..2].copy_from_slice(&p.orig_id);
        mark_forwarded(resp);
        let _ = p.socket.send_to(resp, p.client);
    }
}

/// A relayed answer is not ours: AA cleared, RA set.
fn mark_forwarded(resp: &mut [u8]) {
    if resp.len() >= 4 {
        resp[2] &= !0x04;
        resp[3] |= 0x80;
    }
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x9e37_79b9);
    let addr = &t as *const u64 as u64;
    (t ^ addr.rotate_left(32)) | 1
}

fn next_rand(s: &mut u64) -> u64 {
    // xorshift64*
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    s.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

async fn tcp_accept(l: TcpListener, shared: Arc<Shared>, max_conns: usize, fwd_timeout: Duration) {
    let sem = Arc::new(Semaphore::new(max_conns.max(1)));
    loop {
        tokio::select! {
            r = l.accept() => {
                let Ok((stream, peer)) = r else { continue };
                let Ok(permit) = sem.clone().try_acquire_owned() else {
                    debug!(%peer, "too many TCP connections");
                    continue;
                };
                let sh = shared.clone();
                tokio::spawn(async move {
                    tcp_conn(stream, peer, sh, fwd_timeout).await;
                    drop(permit);
                });
            }
            _ = shared.stop_async.notified() => break,
        }
    }
}

const TCP_IDLE: Duration = Duration::from_secs(10);

async fn tcp_conn(mut s: TcpStream, peer: SocketAddr, shared: Arc<Shared>, fwd_timeout: Duration) {
    let mut out = Vec::with_capacity(4096);
    loop {
        let mut lenb = [0u8; 2];
        match tokio::time::timeout(TCP_IDLE, s.read_exact(&mut lenb)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let len = usize::from(u16::from_be_bytes(lenb));
        let mut msg = vec![0u8; len];
        match tokio::time::timeout(TCP_IDLE, s.read_exact(&mut msg)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let m = &shared.metrics;
        m.queries_tcp.inc();
        let (action, upstreams) = {
            let served = shared.served.load();
            let a = served.handle(&msg, peer.ip(), Transport::Tcp, &mut out, m);
            (a, served.forwarders.clone())
        };
        let reply = match action {
            Action::Respond => std::mem::take(&mut out),
            Action::Drop => return,
            Action::Forward => {
                m.forwarded.inc();
                match forward_tcp(&upstreams, &msg, fwd_timeout).await {
                    Some(r) => r,
                    None => {
                        m.forward_timeouts.inc();
                        match servfail_from(&msg) {
                            Some(v) => v,
                            None => return,
                        }
                    }
                }
            }
        };
        let Ok(rlen) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&rlen.to_be_bytes());
        framed.extend_from_slice(&reply);
        if s.write_all(&framed).await.is_err() {
            return;
        }
        out = reply;
    }
}

/// One query over TCP to each upstream in turn; the first answer wins.
async fn forward_tcp(upstreams: &[SocketAddr], msg: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let len = u16::try_from(msg.len()).ok()?;
    for up in upstreams {
        let attempt = async {
            let mut s = TcpStream::connect(up).await?;
            let mut framed = Vec::with_capacity(msg.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(msg);
            s.write_all(&framed).await?;
            let mut lenb = [0u8; 2];
            s.read_exact(&mut lenb).await?;
            let mut resp = vec![0u8; usize::from(u16::from_be_bytes(lenb))];
            s.read_exact(&mut resp).await?;
            io::Result::Ok(resp)
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(mut r)) if r.len() >= 12 && r[0..2] == msg[0..2] => {
                mark_forwarded(&mut r);
                return Some(r);
            }
            _ => debug!(upstream = %up, "TCP forward failed"),
        }
    }
    None
}
