//! Event batches from a rack: checked and converted to model events, stored
//! once per (rack, seq), acknowledged up to the highest seq stored.

use maas_rpc::{convert, pb};

use crate::error::{Error, Result};
use crate::services::racks::{self, MAX_BATCH};
use crate::store::Pool;

/// Store a batch the rack sent; the ack names the highest seq now stored.
pub(super) async fn store_batch(
    db: &Pool,
    rack_id: i64,
    b: pb::EventBatch,
) -> Result<pb::EventsAck> {
    // Bounded before anything is converted.
    if b.events.len() > MAX_BATCH {
        return Err(Error::BadRequest(format!(
            "at most {MAX_BATCH} events per batch"
        )));
    }
    let events = convert::list("events", b.events)?;
    let up_to_seq = racks::store_events(db, rack_id, &events).await?;
    for e in &events {
        if let maas_model::rack::EventKind::Power(p) = &e.kind {
            crate::services::power::from_event(db, p).await?;
        }
    }
    Ok(pb::EventsAck { up_to_seq })
}
