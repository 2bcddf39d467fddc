//! The region's side of the rack contract (gRPC edge): the listener and TLS
//! accept loop, change fan-out (PostgreSQL LISTEN/NOTIFY → every session),
//! enrollment (`enroll`), the mutual-TLS session stream (`session`) and
//! event batches (`events`). The rules and the SQL are below, in
//! `services::racks`, `services::snapshot` and `store`; wire messages are
//! converted to model types with `maas_rpc::convert`, and every failure maps
//! to a status through `error`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use maas_rpc::pb::enrollment_server::EnrollmentServer;
use maas_rpc::pb::rack_session_server::RackSessionServer;
use maas_rpc::tls;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

mod enroll;
pub mod error;
mod events;
pub mod preface;
mod session;

use crate::crypto::SecretBox;
use crate::services::power::PowerHub;
use crate::services::racks::{self, EnrollLimiter, REVOKE_CHANNEL, STATE_CHANNEL};
use crate::store::Pool;
use crate::store::db::Notice;

pub struct RpcState {
    pub db: Pool,
    pub ca: tls::Ca,
    pub server_cert_der: Vec<u8>,
    pub region_name: String,
    /// Where sessions register for power commands (shared with the API).
    pub power: Arc<PowerHub>,
    /// Bumped whenever desired state may have changed.
    state_rx: watch::Receiver<u64>,
    /// System ids of deleted racks.
    revoke_tx: broadcast::Sender<String>,
    limiter: EnrollLimiter,
}

/// Start the rack gRPC service on `listener`. Returns the serving tasks.
pub async fn start(
    db: Pool,
    secrets: &SecretBox,
    listener: tokio::net::TcpListener,
    power: Arc<PowerHub>,
    region_name: String,
    fail_window: Duration,
    session_timeout: Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let ca = racks::load_ca(&db, secrets).await?;
    let (cert, key) = ca.issue_server()?;
    let server_cfg = tls::server_config(&ca.cert_der, &cert, &key)?;
    let (state_tx, state_rx) = watch::channel(0u64);
    let (revoke_tx, _) = broadcast::channel(256);
    let state = Arc::new(RpcState {
        db: db.clone(),
        ca,
        server_cert_der: cert,
        region_name,
        power,
        state_rx,
        revoke_tx: revoke_tx.clone(),
        limiter: EnrollLimiter::new(fail_window),
    });
    let listen_task = tokio::spawn(listen_changes(db, state_tx, revoke_tx));

    let (conn_tx, conn_rx) = mpsc::channel(128);
    let acceptor = tokio_rustls::TlsAcceptor::from(server_cfg);
    let accept_task = tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let conn_tx = conn_tx.clone();
            tokio::spawn(async move {
                // TLS and the HTTP/2 preface, within one deadline: a
                // connection that starts no session does not hold a socket.
                let started = tokio::time::timeout(session_timeout, async {
                    let tls = acceptor.accept(tcp).await?;
                    preface::expect_preface(tls, session_timeout).await
                });
                match started.await {
                    Ok(Ok(conn)) => {
                        let _ = conn_tx.send(Ok::<_, std::io::Error>(conn)).await;
                    }
                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "rack connection refused"),
                    Err(_) => {
                        tracing::info!(%peer, "rack connection did not start a session in time")
                    }
                }
            });
        }
    });
    let svc_state = state.clone();
    let serve_task = tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(1)))
            .http2_keepalive_timeout(Some(Duration::from_secs(3)))
            .add_service(EnrollmentServer::new(Svc(svc_state.clone())))
            .add_service(RackSessionServer::new(Svc(svc_state)))
            .serve_with_incoming(ReceiverStream::new(conn_rx))
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "rack RPC server stopped");
        }
    });
    Ok(vec![listen_task, accept_task, serve_task])
}

/// Follow PostgreSQL notifications; on any reconnect, assume a change.
async fn listen_changes(
    db: Pool,
    state_tx: watch::Sender<u64>,
    revoke_tx: broadcast::Sender<String>,
) {
    crate::store::db::follow(db, &[STATE_CHANNEL, REVOKE_CHANNEL], |n| match n {
        Notice::Notified(n) if n.channel() == REVOKE_CHANNEL => {
            let _ = revoke_tx.send(n.payload().to_string());
        }
        // Coalesce bursts: sessions recompute once per wakeup.
        _ => state_tx.send_modify(|g| *g += 1),
    })
    .await
}

/// The gRPC services (`enroll`, `session`) over the shared state.
#[derive(Clone)]
struct Svc(Arc<RpcState>);

/// Region name for `connected_region`: hostname + RPC port.
pub fn default_region_name(rpc: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "region".into());
    format!("{host}:{}", rpc.port())
}
