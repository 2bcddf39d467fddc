//! The region's side of the rack contract: enrollment, the mutual-TLS
//! session stream, desired-state snapshots with generations, event
//! ingestion, and change fan-out (PostgreSQL LISTEN/NOTIFY → every session).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use maas_rpc::pb::rack_session_server::{RackSession, RackSessionServer};
use maas_rpc::pb::{self, enrollment_server::Enrollment, enrollment_server::EnrollmentServer};
use maas_rpc::{proof, tls};
use prost::Message;
use sqlx::{PgPool, Row};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

pub mod error;

use crate::crypto::SecretBox;
use crate::store::db::Notice;

/// LISTEN channels: desired state changed / a rack was deleted (payload: system_id).
pub const STATE_CHANNEL: &str = "maas_rack_state";
pub const REVOKE_CHANNEL: &str = "maas_rack_revoked";

/// Events per batch a rack may send.
pub const MAX_BATCH: usize = 5000;

pub struct RpcState {
    pub db: PgPool,
    pub ca: tls::Ca,
    pub server_cert_der: Vec<u8>,
    pub region_name: String,
    state_rx: watch::Receiver<u64>,
    revoke_tx: broadcast::Sender<String>,
    limiter: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    fail_window: Duration,
}

/// Load the cluster CA from the database, creating it once for all regions.
/// The key is sealed with the region secret key (shared by regions).
pub async fn load_ca(db: &PgPool, secrets: &SecretBox) -> anyhow::Result<tls::Ca> {
    let (cert_pem, key_pem) = tls::generate_ca()?;
    let sealed = hex::encode(secrets.seal(key_pem.as_bytes()));
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO secrets (name, value) VALUES ('ca_cert', $1), ('ca_key', $2) ON CONFLICT DO NOTHING")
        .bind(&cert_pem)
        .bind(&sealed)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let cert: String = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'ca_cert'")
        .fetch_one(db)
        .await?;
    let key: String = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'ca_key'")
        .fetch_one(db)
        .await?;
    let key = secrets
        .open(&hex::decode(key).context("CA key is not hex")?)
        .context("cannot open the CA key: do all regions share the same --secret-key-file?")?;
    tls::Ca::from_pem(&cert, std::str::from_utf8(&key)?)
}

/// Start the rack gRPC service on `listener`. Returns the serving task.
pub async fn start(
    db: PgPool,
    secrets: &SecretBox,
    listener: tokio::net::TcpListener,
    region_name: String,
    fail_window: Duration,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let ca = load_ca(&db, secrets).await?;
    let (cert, key) = ca.issue_server()?;
    let server_cfg = tls::server_config(&ca.cert_der, &cert, &key)?;
    let (state_tx, state_rx) = watch::channel(0u64);
    let (revoke_tx, _) = broadcast::channel(256);
    let state = Arc::new(RpcState {
        db: db.clone(),
        ca,
        server_cert_der: cert,
        region_name,
        state_rx,
        revoke_tx: revoke_tx.clone(),
        limiter: Mutex::new(HashMap::new()),
        fail_window,
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
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = conn_tx.send(Ok::<_, std::io::Error>(tls)).await;
                    }
                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "rack TLS handshake refused"),
                    Err(_) => tracing::info!(%peer, "rack TLS handshake timed out"),
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
    db: PgPool,
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

#[derive(Clone)]
struct Svc(Arc<RpcState>);

/// Failed enrollments from one address before it is refused for the window.
const FAIL_LIMIT: u32 = 5;

impl RpcState {
    fn limited(&self, ip: IpAddr) -> Option<u64> {
        let l = self.limiter.lock().expect("limiter lock");
        l.get(&ip).and_then(|(n, since)| {
            let left = self.fail_window.saturating_sub(since.elapsed());
            (*n >= FAIL_LIMIT && !left.is_zero()).then_some(left.as_secs().max(1))
        })
    }

    fn failed(&self, ip: IpAddr) {
        let mut l = self.limiter.lock().expect("limiter lock");
        let e = l.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() > self.fail_window {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

#[tonic::async_trait]
impl Enrollment for Svc {
    async fn enroll(
        &self,
        req: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let s = &self.0;
        let ip = req
            .remote_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if let Some(wait) = s.limited(ip) {
            return Err(Status::resource_exhausted(format!(
                "too many failed enrollment attempts from {ip}; retry in {wait} s"
            )));
        }
        let r = req.into_inner();
        if r.hostname.is_empty()
            || r.hostname.len() > 255
            || r.rack_nonce.len() != 32
            || r.csr_der.is_empty()
        {
            return Err(Status::invalid_argument("malformed enrollment request"));
        }
        let now = chrono::Utc::now().timestamp() as u64;
        if r.timestamp.abs_diff(now) > 600 {
            return Err(Status::invalid_argument(
                "enrollment timestamp is more than 10 minutes off the region's clock",
            ));
        }
        let secret = crate::region::enrollment_secret(&s.db)
            .await
            .map_err(internal)?;
        let expected = proof::rack_proof(
            &secret,
            &r.rack_nonce,
            r.timestamp,
            &r.csr_der,
            &s.server_cert_der,
            &r.hostname,
        );
        if !proof::verify(&expected, &r.proof) {
            s.failed(ip);
            tracing::warn!(%ip, hostname = %r.hostname, "rack enrollment refused: wrong secret");
            return Err(Status::permission_denied(
                "enrollment refused: the rack's proof does not match this region's secret (check --secret)",
            ));
        }
        let mut system_id = maas_model::ids::new_system_id();
        let (cert, serial) = loop {
            let (cert, _) =
                s.ca.sign_rack_csr(&r.csr_der, &system_id)
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
            // The serial exactly as sessions read it back from the certificate.
            let (_, serial) = tls::cert_identity(&cert).map_err(internal)?;
            let inserted = sqlx::query(
                "INSERT INTO racks (system_id, hostname, version, cert_serial, cert_fingerprint)
                 SELECT $1, $2, $3, $4, $5
                  WHERE NOT EXISTS (SELECT 1 FROM machines WHERE system_id = $1)
                 ON CONFLICT (system_id) DO NOTHING",
            )
            .bind(&system_id)
            .bind(&r.hostname)
            .bind(&r.version)
            .bind(&serial)
            .bind(tls::fingerprint(&cert))
            .execute(&s.db)
            .await
            .map_err(internal)?
            .rows_affected();
            if inserted == 1 {
                break (cert, serial);
            }
            system_id = maas_model::ids::new_system_id();
        };
        tracing::info!(%system_id, hostname = %r.hostname, %serial, "rack enrolled");
        let proof = proof::region_proof(&secret, &r.rack_nonce, &cert, &s.ca.cert_der, &system_id);
        Ok(Response::new(pb::EnrollResponse {
            system_id,
            certificate_der: cert,
            ca_der: s.ca.cert_der.clone(),
            proof,
        }))
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    tracing::error!(error = %e, "rack RPC internal error");
    Status::internal("region internal error; see the region log")
}

type SessionStream = Pin<Box<dyn Stream<Item = Result<pb::RegionMessage, Status>> + Send>>;

#[derive(Clone, Debug)]
struct RackRow {
    id: i64,
    system_id: String,
}

#[tonic::async_trait]
impl RackSession for Svc {
    type SessionStream = SessionStream;

    async fn session(
        &self,
        req: Request<Streaming<pb::RackMessage>>,
    ) -> Result<Response<SessionStream>, Status> {
        let s = self.0.clone();
        let certs = req.peer_certs().ok_or_else(|| {
            Status::unauthenticated("a rack certificate is required: enroll first")
        })?;
        let leaf = certs
            .first()
            .ok_or_else(|| Status::unauthenticated("a rack certificate is required"))?;
        let (system_id, serial) =
            tls::cert_identity(leaf).map_err(|e| Status::unauthenticated(e.to_string()))?;
        let rack = check_rack(&s.db, &system_id, &serial).await?;
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let sid = rack.system_id.clone();
            if let Err(e) = run_session(s.clone(), rack.clone(), serial, inbound, tx.clone()).await
            {
                tracing::info!(rack = %sid, error = %e.message(), "rack session ended");
                let _ = tx.send(Err(e)).await;
            }
            let _ = sqlx::query(
                "UPDATE racks SET connected_region = NULL WHERE id = $1 AND connected_region = $2",
            )
            .bind(rack.id)
            .bind(&s.region_name)
            .execute(&s.db)
            .await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// The certificate must name an existing rack, be its current certificate,
/// and not be revoked.
async fn check_rack(db: &PgPool, system_id: &str, serial: &str) -> Result<RackRow, Status> {
    let revoked: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_certs WHERE serial = $1)")
            .bind(serial)
            .fetch_one(db)
            .await
            .map_err(internal)?;
    if revoked {
        return Err(Status::permission_denied(
            "this rack was deleted: its certificate is revoked; enroll it again",
        ));
    }
    let row = sqlx::query("SELECT id, cert_serial FROM racks WHERE system_id = $1")
        .bind(system_id)
        .fetch_optional(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            Status::permission_denied(format!(
                "unknown rack {system_id}: it was deleted or never enrolled"
            ))
        })?;
    if row.get::<Option<String>, _>(1).as_deref() != Some(serial) {
        return Err(Status::permission_denied(
            "this certificate is not the rack's current one",
        ));
    }
    Ok(RackRow {
        id: row.get(0),
        system_id: system_id.to_string(),
    })
}

async fn send(
    tx: &mpsc::Sender<Result<pb::RegionMessage, Status>>,
    m: pb::region_message::Msg,
) -> Result<(), Status> {
    tx.send(Ok(pb::RegionMessage { msg: Some(m) }))
        .await
        .map_err(|_| Status::cancelled("rack went away"))
}

fn rack_ifaces(ifaces: &[pb::Interface]) -> Vec<maas_model::rack::Interface> {
    ifaces
        .iter()
        .map(|i| maas_model::rack::Interface {
            name: i.name.clone(),
            mac: i.mac.clone(),
            kind: if i.kind.is_empty() {
                "physical".into()
            } else {
                i.kind.clone()
            },
            parent: (!i.parent.is_empty()).then(|| i.parent.clone()),
            vid: (i.vid > 0).then_some(i.vid),
            addresses: i.addresses.clone(),
        })
        .collect()
}

async fn record_interfaces(
    db: &PgPool,
    rack_id: i64,
    ifaces: &[pb::Interface],
) -> Result<(), Status> {
    let mut tx = db.begin().await.map_err(internal)?;
    crate::services::network::record_rack_interfaces(&mut tx, rack_id, &rack_ifaces(ifaces))
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(())
}

async fn run_session(
    s: Arc<RpcState>,
    rack: RackRow,
    serial: String,
    mut inbound: Streaming<pb::RackMessage>,
    tx: mpsc::Sender<Result<pb::RegionMessage, Status>>,
) -> Result<(), Status> {
    // Subscribe before anything is read so no change or revocation is missed.
    let mut state_rx = s.state_rx.clone();
    let mut revoke_rx = s.revoke_tx.subscribe();
    let hello = match tokio::time::timeout(Duration::from_secs(15), inbound.message()).await {
        Ok(Ok(Some(pb::RackMessage {
            msg: Some(pb::rack_message::Msg::Hello(h)),
        }))) => h,
        Ok(Err(e)) => return Err(e),
        Ok(_) => return Err(Status::invalid_argument("the session must open with Hello")),
        Err(_) => return Err(Status::deadline_exceeded("no Hello within 15 s")),
    };
    let last_seq: i64 = sqlx::query_scalar(
        "UPDATE racks SET hostname = $2, version = $3, connected_region = $4,
                connected_since = now(), last_seen = now()
          WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(rack.id)
    .bind(&hello.hostname)
    .bind(&hello.version)
    .bind(&s.region_name)
    .fetch_one(&s.db)
    .await
    .map_err(internal)?;
    record_interfaces(&s.db, rack.id, &hello.interfaces).await?;
    tracing::info!(rack = %rack.system_id, hostname = %hello.hostname, generation = hello.generation, "rack connected");
    send(
        &tx,
        pb::region_message::Msg::Welcome(pb::Welcome {
            system_id: rack.system_id.clone(),
            region: s.region_name.clone(),
            last_event_seq: last_seq.max(0) as u64,
        }),
    )
    .await?;
    state_rx.borrow_and_update();
    push_state(&s, &rack, &tx, Some((hello.generation, &hello.state_hash))).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            m = inbound.message() => {
                let m = match m {
                    Ok(Some(m)) => m,
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(e),
                };
                match m.msg {
                    Some(pb::rack_message::Msg::Ack(a)) => {
                        sqlx::query("UPDATE racks SET applied_generation = greatest(applied_generation, $2), last_seen = now() WHERE id = $1")
                            .bind(rack.id)
                            .bind(a.generation as i64)
                            .execute(&s.db)
                            .await
                            .map_err(internal)?;
                    }
                    Some(pb::rack_message::Msg::Events(b)) => {
                        if b.events.len() > MAX_BATCH {
                            return Err(Status::invalid_argument(format!("at most {MAX_BATCH} events per batch")));
                        }
                        let up_to = store_events(&s.db, rack.id, &b.events).await?;
                        send(&tx, pb::region_message::Msg::EventsAck(pb::EventsAck { up_to_seq: up_to })).await?;
                    }
                    Some(pb::rack_message::Msg::Interfaces(r)) => {
                        record_interfaces(&s.db, rack.id, &r.interfaces).await?;
                        push_state(&s, &rack, &tx, None).await?;
                    }
                    Some(pb::rack_message::Msg::Hello(_)) | None => {
                        return Err(Status::invalid_argument("unexpected message"));
                    }
                }
            }
            changed = state_rx.changed() => {
                if changed.is_err() {
                    return Err(Status::unavailable("region shutting down"));
                }
                push_state(&s, &rack, &tx, None).await?;
            }
            r = revoke_rx.recv() => {
                match r {
                    Ok(sid) if sid == rack.system_id => {
                        return Err(Status::permission_denied("this rack was deleted; its certificate is revoked"));
                    }
                    Ok(_) => {}
                    Err(_) => check_rack(&s.db, &rack.system_id, &serial).await.map(|_| ())?,
                }
            }
            _ = tick.tick() => {
                check_rack(&s.db, &rack.system_id, &serial).await?;
                sqlx::query("UPDATE racks SET last_seen = now(), connected_region = $2 WHERE id = $1")
                    .bind(rack.id)
                    .bind(&s.region_name)
                    .execute(&s.db)
                    .await
                    .map_err(internal)?;
            }
        }
    }
}

/// Compute the rack's snapshot; push it when it differs from what the rack
/// has (or was last pushed), with the next generation number.
async fn push_state(
    s: &RpcState,
    rack: &RackRow,
    tx: &mpsc::Sender<Result<pb::RegionMessage, Status>>,
    rack_has: Option<(u64, &str)>,
) -> Result<(), Status> {
    let mut snap = crate::services::snapshot::compute(&s.db, rack.id)
        .await
        .map_err(internal)?;
    let hash = crate::services::snapshot::hash(&snap);
    if let Some((generation, have)) = rack_has
        && generation > 0
        && have == hash
    {
        sqlx::query("UPDATE racks SET pushed_generation = greatest(pushed_generation, $2), pushed_hash = $3, applied_generation = greatest(applied_generation, $2) WHERE id = $1")
            .bind(rack.id)
            .bind(generation as i64)
            .bind(&hash)
            .execute(&s.db)
            .await
            .map_err(internal)?;
        return send(
            tx,
            pb::region_message::Msg::Unchanged(pb::Unchanged { generation }),
        )
        .await;
    }
    // A new generation only when the content changed since the last push;
    // a reconnecting rack that lacks it gets the same generation again.
    let generation: i64 = sqlx::query_scalar(
        "UPDATE racks SET pushed_generation = CASE WHEN pushed_hash IS DISTINCT FROM $2
                THEN greatest(pushed_generation, $3) + 1 ELSE pushed_generation END,
                pushed_hash = $2
          WHERE id = $1 RETURNING pushed_generation",
    )
    .bind(rack.id)
    .bind(&hash)
    .bind(rack_has.map(|h| h.0 as i64).unwrap_or(0))
    .fetch_one(&s.db)
    .await
    .map_err(internal)?;
    if rack_has.is_none() {
        // Change-driven: skip when the rack already has this content.
        let applied: i64 = sqlx::query_scalar("SELECT applied_generation FROM racks WHERE id = $1")
            .bind(rack.id)
            .fetch_one(&s.db)
            .await
            .map_err(internal)?;
        if applied == generation {
            return Ok(());
        }
    }
    snap.generation = generation as u64;
    snap.hash = hash;
    tracing::debug!(rack = %rack.system_id, generation, size = snap.encoded_len(), "pushing snapshot");
    send(tx, pb::region_message::Msg::Snapshot(snap)).await
}

fn event_json(e: &pb::Event) -> (String, serde_json::Value) {
    use pb::event::Kind;
    use serde_json::json;
    match &e.kind {
        Some(Kind::Lease(l)) => (
            "lease".into(),
            json!({"action": l.action, "mac": l.mac, "ip": l.ip, "hostname": l.hostname, "lease_time": l.lease_time}),
        ),
        Some(Kind::Boot(b)) => (
            "boot".into(),
            json!({"mac": b.mac, "arch": b.arch, "purpose": b.purpose, "remote_ip": b.remote_ip, "file": b.file}),
        ),
        Some(Kind::Power(p)) => (
            "power".into(),
            json!({"job_id": p.job_id, "system_id": p.system_id, "action": p.action, "ok": p.ok, "state": p.state, "error": p.error}),
        ),
        Some(Kind::Health(h)) => (
            "health".into(),
            json!({"service": h.service, "status": h.status, "info": h.info}),
        ),
        None => ("unknown".into(), json!({})),
    }
}

/// Persist a batch in one transaction, each (rack, seq) once; returns the
/// highest seq now stored.
pub async fn store_events(db: &PgPool, rack_id: i64, events: &[pb::Event]) -> Result<u64, Status> {
    let mut seqs = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut health: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for e in events {
        if e.seq == 0 || e.seq > i64::MAX as u64 {
            return Err(Status::invalid_argument("event seq must be ≥ 1"));
        }
        let (kind, payload) = event_json(e);
        if kind == "health" {
            health.insert(
                payload["service"].as_str().unwrap_or("").to_string(),
                serde_json::json!({"status": payload["status"], "info": payload["info"]}),
            );
        }
        seqs.push(e.seq as i64);
        kinds.push(kind);
        payloads.push(payload);
        times.push(
            chrono::DateTime::<chrono::Utc>::from_timestamp_millis(e.occurred_unix_ms)
                .unwrap_or_else(chrono::Utc::now),
        );
    }
    let mut tx = db.begin().await.map_err(internal)?;
    sqlx::query(
        "INSERT INTO rack_events (rack_id, seq, kind, payload, occurred)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::jsonb[], $5::timestamptz[])
         ON CONFLICT (rack_id, seq) DO NOTHING",
    )
    .bind(rack_id)
    .bind(&seqs)
    .bind(&kinds)
    .bind(&payloads)
    .bind(&times)
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    let max = seqs.iter().copied().max().unwrap_or(0);
    let last: i64 = sqlx::query_scalar(
        "UPDATE racks SET last_event_seq = greatest(last_event_seq, $2), last_seen = now(),
                services = services || $3
          WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(rack_id)
    .bind(max)
    .bind(serde_json::Value::Object(health))
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(last.max(0) as u64)
}

/// Region name for `connected_region`: hostname + RPC port.
pub fn default_region_name(rpc: SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "region".into());
    format!("{host}:{}", rpc.port())
}
