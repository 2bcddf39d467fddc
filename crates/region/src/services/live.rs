//! Machine changes as they happen, for the web UI's live view: one LISTEN
//! per region on `maas_machine` (a row trigger sends the changed machine's
//! system_id), fanned out in-process to every open event stream. No client
//! ever polls the database.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::store::{self, Pool, db::Notice};

/// The channel the `machines` row trigger notifies (migrations 0014, 0019:
/// the payload is the system_id, with `+` before it for a new machine).
pub const MACHINE_CHANNEL: &str = "maas_machine";

/// What a stream hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This machine was changed or deleted.
    Machine(String),
    /// This machine was created.
    Created(String),
    /// Notifications may have been missed (the LISTEN connection was lost
    /// and is back): every view should reload.
    Resync,
    /// The region is stopping: streams end.
    Shutdown,
}

/// The fan-out of machine changes to the streams open on this region.
pub struct ChangeHub {
    tx: broadcast::Sender<Change>,
}

impl Default for ChangeHub {
    fn default() -> Self {
        // A stream that falls this far behind is told to resync.
        let (tx, _) = broadcast::channel(4096);
        ChangeHub { tx }
    }
}

impl ChangeHub {
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Tell every stream (no-one listening is fine).
    pub fn publish(&self, c: Change) {
        let _ = self.tx.send(c);
    }
}

/// Follow machine changes for as long as the task runs.
pub async fn follow(db: Pool, hub: Arc<ChangeHub>) {
    let mut connected_before = false;
    store::db::follow(db, &[MACHINE_CHANNEL], |n| match n {
        Notice::Connected => {
            if connected_before {
                hub.publish(Change::Resync);
            }
            connected_before = true;
        }
        Notice::Notified(n) => hub.publish(parse(n.payload())),
        Notice::Lost => tracing::warn!("machine change stream lost; live views will resync"),
    })
    .await
}

/// A notification's payload as a change.
fn parse(payload: &str) -> Change {
    match payload.strip_prefix('+') {
        Some(sid) => Change::Created(sid.to_string()),
        None => Change::Machine(payload.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_created_and_changed_machines() {
        assert_eq!(parse("+abc123"), Change::Created("abc123".into()));
        assert_eq!(parse("abc123"), Change::Machine("abc123".into()));
    }
}
