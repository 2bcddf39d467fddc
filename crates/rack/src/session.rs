//! The session loop: connect to a region (failing over between the
//! configured ones with back-off and jitter), say what we have, apply
//! snapshots, run power commands (`power`), send events in batches from the
//! durable queue.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maas_model::desired::Snapshot;
use maas_rpc::pb::rack_session_client::RackSessionClient;
use maas_rpc::pb::{self, rack_message::Msg as Up, region_message::Msg as Down};
use maas_rpc::tls;
use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Endpoint;

use crate::identity::Identity;
use crate::queue::Queue;
use crate::state::StateStore;

/// Events per batch sent to the region.
pub const BATCH: usize = 1000;

/// What the rest of the rack can see of the session.
#[derive(Default, Debug, Clone)]
pub struct Status {
    pub connected_region: Option<String>,
    pub region_url: Option<String>,
    pub refused: Option<String>,
}

pub struct Shared {
    pub queue: Mutex<Queue>,
    pub events_ready: Notify,
    pub status: Mutex<Status>,
}

enum End {
    /// The region refused us for good (revoked / deleted).
    Refused(String),
    Lost(String),
}

/// Run forever: one session at a time, reconnecting on loss.
pub async fn run(cfg: Arc<crate::Config>, id: Identity, state: StateStore, shared: Arc<Shared>) {
    let client_cfg = match tls::client_config(&id.ca_der, &id.cert_der, &id.key_der) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "bad rack identity files");
            return;
        }
    };
    let mut idx = 0usize;
    let mut failures_in_round = 0usize;
    let mut delay = Duration::from_millis(100);
    loop {
        let url = cfg.regions[idx % cfg.regions.len()].clone();
        let started = Instant::now();
        let end = session_once(&cfg, &url, client_cfg.clone(), &state, &shared).await;
        {
            let mut st = shared.status.lock().expect("status lock");
            st.connected_region = None;
            st.region_url = None;
            if let End::Refused(m) = &end {
                st.refused = Some(m.clone());
            }
        }
        match &end {
            End::Refused(m) => {
                tracing::error!(region = %url, reason = %m, "region refused this rack")
            }
            End::Lost(m) => tracing::warn!(region = %url, reason = %m, "session lost"),
        }
        if started.elapsed() > Duration::from_secs(10) {
            // It worked for a while: start a fresh round.
            failures_in_round = 0;
            delay = Duration::from_millis(100);
        }
        // Try the next region at once; back off only after a full round.
        idx += 1;
        failures_in_round += 1;
        if failures_in_round >= cfg.regions.len() {
            failures_in_round = 0;
            let jitter = rand::random::<f64>() * 0.5 + 0.75;
            tokio::time::sleep(delay.mul_f64(jitter)).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

async fn session_once(
    cfg: &crate::Config,
    url: &str,
    client_cfg: Arc<tls::RustlsClientConfig>,
    state: &StateStore,
    shared: &Arc<Shared>,
) -> End {
    let (host, port) = match crate::parse_region(url) {
        Ok(h) => h,
        Err(e) => return End::Lost(e.to_string()),
    };
    let endpoint = match Endpoint::from_shared(format!("http://{host}:{port}")) {
        Ok(e) => e
            .connect_timeout(Duration::from_secs(3))
            .http2_keep_alive_interval(Duration::from_secs(1))
            .keep_alive_timeout(Duration::from_secs(3))
            .keep_alive_while_idle(true)
            .tcp_nodelay(true),
        Err(e) => return End::Lost(e.to_string()),
    };
    let channel = match endpoint
        .connect_with_connector(tls::Connector { config: client_cfg })
        .await
    {
        Ok(c) => c,
        Err(e) => return End::Lost(format!("connect: {e}")),
    };
    let (tx, rx) = mpsc::channel::<pb::RackMessage>(64);
    let (generation, hash) = state.generation_and_hash();
    let interfaces = crate::ifaces::read().await;
    let hello = pb::RackMessage {
        msg: Some(Up::Hello(pb::Hello {
            hostname: cfg.hostname.clone(),
            version: crate::VERSION.to_string(),
            generation,
            state_hash: hash,
            interfaces: interfaces.iter().map(Into::into).collect(),
        })),
    };
    if tx.send(hello).await.is_err() {
        return End::Lost("stream closed".into());
    }
    let mut inbound = match RackSessionClient::new(channel)
        .session(ReceiverStream::new(rx))
        .await
    {
        Ok(r) => r.into_inner(),
        Err(s) => return status_end(s),
    };
    let mut in_flight: Option<u64> = None;
    let mut last_ifaces = interfaces;
    let mut iface_tick = tokio::time::interval(Duration::from_secs(5));
    iface_tick.tick().await;
    let mut welcomed = false;
    // Power commands run beside the stream, a bounded number at a time.
    let power_slots = Arc::new(tokio::sync::Semaphore::new(crate::power::MAX_CONCURRENT));
    loop {
        // Send the next batch when none is in flight.
        if welcomed && in_flight.is_none() {
            let batch = {
                let q = shared.queue.lock().expect("queue lock");
                q.unsent(q.acked, BATCH)
            };
            if let Some(last) = batch.last().map(|e| e.seq) {
                let events = batch.iter().map(Into::into).collect();
                let m = pb::RackMessage {
                    msg: Some(Up::Events(pb::EventBatch { events })),
                };
                if tx.send(m).await.is_err() {
                    return End::Lost("stream closed".into());
                }
                in_flight = Some(last);
            }
        }
        tokio::select! {
            m = inbound.message() => {
                let m = match m {
                    Ok(Some(m)) => m,
                    Ok(None) => return End::Lost("region closed the stream".into()),
                    Err(s) => return status_end(s),
                };
                match m.msg {
                    Some(Down::Welcome(w)) => {
                        welcomed = true;
                        if let Err(e) = shared.queue.lock().expect("queue lock").ack(w.last_event_seq) {
                            tracing::error!(error = %e, "cannot update the event queue");
                        }
                        let mut st = shared.status.lock().expect("status lock");
                        st.connected_region = Some(w.region.clone());
                        st.region_url = Some(url.to_string());
                        st.refused = None;
                        tracing::info!(region = %w.region, system_id = %w.system_id, "session established");
                    }
                    Some(Down::Snapshot(s)) => {
                        let s = match Snapshot::try_from(s) {
                            Ok(s) => s,
                            Err(e) => {
                                tracing::error!(error = %e, "refusing an invalid snapshot; not acknowledging");
                                continue;
                            }
                        };
                        let generation = s.generation;
                        let hash = s.hash.clone();
                        if let Err(e) = state.apply(s) {
                            tracing::error!(error = %e, "cannot store the snapshot; not acknowledging");
                            continue;
                        }
                        tracing::info!(generation, "applied snapshot");
                        let ack = pb::RackMessage { msg: Some(Up::Ack(pb::SnapshotAck { generation, state_hash: hash })) };
                        if tx.send(ack).await.is_err() {
                            return End::Lost("stream closed".into());
                        }
                    }
                    Some(Down::Unchanged(u)) => {
                        tracing::info!(generation = u.generation, "state unchanged");
                    }
                    Some(Down::EventsAck(a)) => {
                        if let Err(e) = shared.queue.lock().expect("queue lock").ack(a.up_to_seq) {
                            tracing::error!(error = %e, "cannot update the event queue");
                        }
                        if in_flight.is_some_and(|f| a.up_to_seq >= f) {
                            in_flight = None;
                        }
                    }
                    Some(Down::PowerCommand(c)) => {
                        crate::power::dispatch(c, tx.clone(), shared.clone(), power_slots.clone());
                    }
                    None => {}
                }
            }
            _ = shared.events_ready.notified() => {}
            _ = iface_tick.tick() => {
                let now = crate::ifaces::read().await;
                if now != last_ifaces {
                    tracing::info!("interfaces changed; reporting");
                    let interfaces = now.iter().map(Into::into).collect();
                    let m = pb::RackMessage { msg: Some(Up::Interfaces(pb::InterfacesReport { interfaces })) };
                    if tx.send(m).await.is_err() {
                        return End::Lost("stream closed".into());
                    }
                    last_ifaces = now;
                }
            }
        }
    }
}

fn status_end(s: tonic::Status) -> End {
    match s.code() {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
            End::Refused(s.message().to_string())
        }
        _ => End::Lost(format!("{:?}: {}", s.code(), s.message())),
    }
}
