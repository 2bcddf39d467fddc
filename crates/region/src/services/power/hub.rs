//! The racks with a session on this region, a sender per rack, and the
//! commands waiting for their reply (id → oneshot). A session registers when
//! it starts and unregisters when it ends; the commands still waiting on
//! that rack then see it gone (their sender is dropped) and try another.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use maas_model::power::{PowerCommand, PowerReply};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Polling queries in flight per rack (a large fleet never floods the BMCs
/// behind one rack).
pub const POLL_PER_RACK: usize = 16;

struct Link {
    session: u64,
    tx: mpsc::Sender<PowerCommand>,
    poll_slots: Arc<Semaphore>,
}

#[derive(Default)]
pub struct PowerHub {
    next: AtomicU64,
    racks: Mutex<HashMap<i64, Link>>,
    pending: Mutex<HashMap<u64, (i64, oneshot::Sender<PowerReply>)>>,
}

/// A session's registration; `PowerHub::unregister` takes it back.
pub struct Registration {
    pub rack_id: i64,
    session: u64,
}

impl PowerHub {
    fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A rack's session starts: commands for it arrive on the receiver.
    pub fn register(&self, rack_id: i64) -> (Registration, mpsc::Receiver<PowerCommand>) {
        let (tx, rx) = mpsc::channel(256);
        let session = self.next_id();
        let link = Link {
            session,
            tx,
            poll_slots: Arc::new(Semaphore::new(POLL_PER_RACK)),
        };
        lock(&self.racks).insert(rack_id, link);
        (Registration { rack_id, session }, rx)
    }

    /// The session ended: forget the rack (unless a newer session replaced
    /// it) and fail its waiting commands over.
    pub fn unregister(&self, r: Registration) {
        let mut racks = lock(&self.racks);
        if racks
            .get(&r.rack_id)
            .is_some_and(|l| l.session == r.session)
        {
            racks.remove(&r.rack_id);
            lock(&self.pending).retain(|_, (rack, _)| *rack != r.rack_id);
        }
    }

    /// Racks with a session on this region.
    pub fn connected(&self) -> Vec<i64> {
        let mut v: Vec<i64> = lock(&self.racks).keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// A reply from a rack; unknown ids (late, after a timeout) are dropped.
    pub fn complete(&self, rack_id: i64, reply: PowerReply) {
        let mut pending = lock(&self.pending);
        if pending.get(&reply.id).is_some_and(|(r, _)| *r == rack_id)
            && let Some((_, tx)) = pending.remove(&reply.id)
        {
            let _ = tx.send(reply);
        } else {
            tracing::debug!(rack_id, id = reply.id, "power reply for no waiting command");
        }
    }

    pub(super) fn poll_slots(&self, rack_id: i64) -> Option<Arc<Semaphore>> {
        lock(&self.racks)
            .get(&rack_id)
            .map(|l| l.poll_slots.clone())
    }

    /// Hand a command to a rack's session. `None`: that rack is not here.
    pub(super) fn submit(
        &self,
        rack_id: i64,
        mut cmd: PowerCommand,
    ) -> Option<(u64, oneshot::Receiver<PowerReply>)> {
        let tx = lock(&self.racks).get(&rack_id).map(|l| l.tx.clone())?;
        cmd.id = self.next_id();
        let id = cmd.id;
        let (rtx, rrx) = oneshot::channel();
        lock(&self.pending).insert(id, (rack_id, rtx));
        if tx.try_send(cmd).is_err() {
            lock(&self.pending).remove(&id);
            return None;
        }
        Some((id, rrx))
    }

    /// Stop waiting for a command (timed out).
    pub(super) fn forget(&self, id: u64) {
        lock(&self.pending).remove(&id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> PowerCommand {
        PowerCommand {
            id: 0,
            system_id: "abc".into(),
            action: maas_model::PowerAction::Query,
            boot_pxe_once: false,
            power_type: "ipmi".into(),
            params: Default::default(),
            timeout_ms: 10,
        }
    }

    #[tokio::test]
    async fn replies_reach_their_command_and_a_gone_rack_drops_its_waiters() {
        let hub = PowerHub::default();
        assert!(hub.submit(1, cmd()).is_none(), "no rack yet");
        let (reg, mut rx) = hub.register(1);
        assert_eq!(hub.connected(), vec![1]);
        let (id, reply) = hub.submit(1, cmd()).unwrap();
        assert_eq!(rx.recv().await.unwrap().id, id);
        // A reply from another rack for the same id is not accepted.
        hub.complete(
            2,
            PowerReply {
                id,
                ok: true,
                ..Default::default()
            },
        );
        hub.complete(
            1,
            PowerReply {
                id,
                ok: true,
                state: "on".into(),
                ..Default::default()
            },
        );
        assert_eq!(reply.await.unwrap().state, "on");
        let (_, waiting) = hub.submit(1, cmd()).unwrap();
        // A newer session of the same rack keeps the old one's unregister
        // from removing it.
        let (reg2, _rx2) = hub.register(1);
        hub.unregister(reg);
        assert_eq!(hub.connected(), vec![1]);
        hub.unregister(reg2);
        assert!(hub.connected().is_empty());
        assert!(waiting.await.is_err(), "the waiter sees the rack gone");
    }
}
