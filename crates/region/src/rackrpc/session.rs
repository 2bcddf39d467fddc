//! `RackSession.Session`: the mutual-TLS stream a rack keeps open. The rack
//! says Hello (what it has applied, its interfaces); the region pushes its
//! desired state whenever it changes, stores its event batches, records its
//! acks and interfaces, and closes the stream when the rack is deleted.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use maas_rpc::pb::rack_session_server::RackSession;
use maas_rpc::pb::{self, rack_message::Msg as Up, region_message::Msg as Down};
use maas_rpc::{convert, tls};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{RpcState, Svc};
use crate::error::Error;
use crate::services::racks::{self, SessionRack};
use crate::services::snapshot::{self, Push};

type SessionStream = Pin<Box<dyn Stream<Item = Result<pb::RegionMessage, Status>> + Send>>;
type Out = mpsc::Sender<Result<pb::RegionMessage, Status>>;

/// How long a rack has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often an open session re-checks the rack's certificate.
const RECHECK: Duration = Duration::from_secs(10);

#[tonic::async_trait]
impl RackSession for Svc {
    type SessionStream = SessionStream;

    async fn session(
        &self,
        req: Request<Streaming<pb::RackMessage>>,
    ) -> Result<Response<SessionStream>, Status> {
        let s = self.0.clone();
        let certs = req.peer_certs().ok_or_else(|| {
            Error::Unauthorized("a rack certificate is required: enroll first".into())
        })?;
        let leaf = certs
            .first()
            .ok_or_else(|| Error::Unauthorized("a rack certificate is required".into()))?;
        let (system_id, serial) =
            tls::cert_identity(leaf).map_err(|e| Error::Unauthorized(e.to_string()))?;
        let rack = racks::check_rack(&s.db, &system_id, &serial).await?;
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            if let Err(e) = run(&s, &rack, &serial, inbound, &tx).await {
                tracing::info!(rack = %rack.system_id, error = %e.message(), "rack session ended");
                let _ = tx.send(Err(e)).await;
            }
            if let Err(e) = racks::disconnected(&s.db, rack.id, &s.region_name).await {
                tracing::warn!(rack = %rack.system_id, error = %e, "cannot record the rack's disconnection");
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

async fn send(tx: &Out, m: Down) -> Result<(), Status> {
    tx.send(Ok(pb::RegionMessage { msg: Some(m) }))
        .await
        .map_err(|_| Status::cancelled("rack went away"))
}

async fn run(
    s: &Arc<RpcState>,
    rack: &SessionRack,
    serial: &str,
    mut inbound: Streaming<pb::RackMessage>,
    tx: &Out,
) -> Result<(), Status> {
    // Subscribe before anything is read so no change or revocation is missed.
    let mut state_rx = s.state_rx.clone();
    let mut revoke_rx = s.revoke_tx.subscribe();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, inbound.message()).await {
        Ok(Ok(Some(pb::RackMessage {
            msg: Some(Up::Hello(h)),
        }))) => h,
        Ok(Err(e)) => return Err(e),
        Ok(_) => return Err(Error::BadRequest("the session must open with Hello".into()).into()),
        Err(_) => return Err(Status::deadline_exceeded("no Hello within 15 s")),
    };
    let interfaces = convert::list("interfaces", hello.interfaces).map_err(Error::from)?;
    let last_seq =
        racks::connected(&s.db, rack, &hello.hostname, &hello.version, &s.region_name).await?;
    racks::record_interfaces(&s.db, rack.id, &interfaces).await?;
    tracing::info!(rack = %rack.system_id, hostname = %hello.hostname, generation = hello.generation, "rack connected");
    send(
        tx,
        Down::Welcome(pb::Welcome {
            system_id: rack.system_id.clone(),
            region: s.region_name.clone(),
            last_event_seq: last_seq,
        }),
    )
    .await?;
    state_rx.borrow_and_update();
    push_state(s, rack, tx, Some((hello.generation, &hello.state_hash))).await?;
    let (registration, mut power_rx) = s.power.register(rack.id);
    let r = serve(
        s,
        rack,
        serial,
        &mut inbound,
        tx,
        &mut state_rx,
        &mut revoke_rx,
        &mut power_rx,
    )
    .await;
    s.power.unregister(registration);
    r
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    s: &Arc<RpcState>,
    rack: &SessionRack,
    serial: &str,
    inbound: &mut Streaming<pb::RackMessage>,
    tx: &Out,
    state_rx: &mut tokio::sync::watch::Receiver<u64>,
    revoke_rx: &mut tokio::sync::broadcast::Receiver<String>,
    power_rx: &mut mpsc::Receiver<maas_model::power::PowerCommand>,
) -> Result<(), Status> {
    let mut tick = tokio::time::interval(RECHECK);
    tick.tick().await;
    loop {
        tokio::select! {
            m = inbound.message() => {
                let Some(m) = m? else { return Ok(()) };
                match m.msg {
                    Some(Up::Ack(a)) => racks::applied(&s.db, rack.id, a.generation).await?,
                    Some(Up::Events(b)) => {
                        let ack = super::events::store_batch(&s.db, rack.id, b).await?;
                        send(tx, Down::EventsAck(ack)).await?;
                    }
                    Some(Up::Interfaces(r)) => {
                        let interfaces = convert::list("interfaces", r.interfaces).map_err(Error::from)?;
                        racks::record_interfaces(&s.db, rack.id, &interfaces).await?;
                        push_state(s, rack, tx, None).await?;
                    }
                    Some(Up::PowerReply(r)) => s.power.complete(rack.id, r.into()),
                    Some(Up::Hello(_)) | None => {
                        return Err(Error::BadRequest("unexpected message".into()).into());
                    }
                }
            }
            Some(cmd) = power_rx.recv() => {
                tracing::debug!(rack = %rack.system_id, id = cmd.id, system_id = %cmd.system_id, action = cmd.action.as_str(), "power command to rack");
                send(tx, Down::PowerCommand((&cmd).into())).await?;
            }
            changed = state_rx.changed() => {
                if changed.is_err() {
                    return Err(Error::Unavailable("region shutting down".into()).into());
                }
                push_state(s, rack, tx, None).await?;
            }
            r = revoke_rx.recv() => match r {
                Ok(sid) if sid == rack.system_id => {
                    return Err(Error::Forbidden(
                        "this rack was deleted; its certificate is revoked".into(),
                    )
                    .into());
                }
                Ok(_) => {}
                // Missed notifications: check this rack directly.
                Err(_) => {
                    racks::check_rack(&s.db, &rack.system_id, serial).await?;
                }
            },
            _ = tick.tick() => {
                racks::still_connected(&s.db, rack, serial, &s.region_name).await?;
            }
        }
    }
}

/// Send the rack its desired state when it differs from what the rack has
/// (or was last pushed).
async fn push_state(
    s: &RpcState,
    rack: &SessionRack,
    tx: &Out,
    rack_has: Option<(u64, &str)>,
) -> Result<(), Status> {
    match snapshot::next_push(&s.db, rack.id, rack_has).await? {
        Push::Nothing => Ok(()),
        Push::Unchanged(generation) => {
            send(tx, Down::Unchanged(pb::Unchanged { generation })).await
        }
        Push::Snapshot(snap) => {
            let snap = pb::Snapshot::from(&*snap);
            tracing::debug!(rack = %rack.system_id, generation = snap.generation, size = snap.encoded_len(), "pushing snapshot");
            send(tx, Down::Snapshot(snap)).await
        }
    }
}
