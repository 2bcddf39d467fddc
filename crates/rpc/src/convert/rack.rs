//! `pb::Event` ↔ `maas_model::rack::Event`, `pb::Interface` ↔
//! `maas_model::rack::Interface`.

use maas_model::rack::{
    BootRequest, Event, EventKind, Interface, Lease, PowerResult, ServiceHealth,
};

use super::{Invalid, opt_string, vid};
use crate::pb;
use crate::pb::event::Kind;

impl From<&Event> for pb::Event {
    fn from(e: &Event) -> pb::Event {
        let kind = match &e.kind {
            EventKind::Lease(l) => Kind::Lease(pb::Lease {
                action: l.action.clone(),
                mac: l.mac.clone(),
                ip: l.ip.clone(),
                hostname: l.hostname.clone(),
                lease_time: l.lease_time,
            }),
            EventKind::Boot(b) => Kind::Boot(pb::BootRequest {
                mac: b.mac.clone(),
                arch: b.arch.clone(),
                purpose: b.purpose.clone(),
                remote_ip: b.remote_ip.clone(),
                file: b.file.clone(),
            }),
            EventKind::Power(p) => Kind::Power(pb::PowerResult {
                job_id: p.job_id,
                system_id: p.system_id.clone(),
                action: p.action.clone(),
                ok: p.ok,
                state: p.state.clone(),
                error: p.error.clone(),
            }),
            EventKind::Health(h) => Kind::Health(pb::ServiceHealth {
                service: h.service.clone(),
                status: h.status.clone(),
                info: h.info.clone(),
            }),
        };
        pb::Event {
            seq: e.seq,
            occurred_unix_ms: e.occurred_unix_ms,
            kind: Some(kind),
        }
    }
}

impl From<Event> for pb::Event {
    fn from(e: Event) -> pb::Event {
        (&e).into()
    }
}

/// Refused: an event without a kind (one this side does not know) and seq 0
/// (sequence numbers start at 1).
impl TryFrom<pb::Event> for Event {
    type Error = Invalid;
    fn try_from(e: pb::Event) -> Result<Event, Invalid> {
        if e.seq == 0 {
            return Err(Invalid::new("seq", "event seq must be ≥ 1"));
        }
        let kind = match e.kind {
            Some(Kind::Lease(l)) => EventKind::Lease(Lease {
                action: l.action,
                mac: l.mac,
                ip: l.ip,
                hostname: l.hostname,
                lease_time: l.lease_time,
            }),
            Some(Kind::Boot(b)) => EventKind::Boot(BootRequest {
                mac: b.mac,
                arch: b.arch,
                purpose: b.purpose,
                remote_ip: b.remote_ip,
                file: b.file,
            }),
            Some(Kind::Power(p)) => EventKind::Power(PowerResult {
                job_id: p.job_id,
                system_id: p.system_id,
                action: p.action,
                ok: p.ok,
                state: p.state,
                error: p.error,
            }),
            Some(Kind::Health(h)) => EventKind::Health(ServiceHealth {
                service: h.service,
                status: h.status,
                info: h.info,
            }),
            None => {
                return Err(Invalid::new(
                    "kind",
                    format!(
                        "event {} has no kind this region knows ({})",
                        e.seq,
                        EventKind::NAMES.join(", ")
                    ),
                ));
            }
        };
        Ok(Event {
            seq: e.seq,
            occurred_unix_ms: e.occurred_unix_ms,
            kind,
        })
    }
}

impl From<&Interface> for pb::Interface {
    fn from(i: &Interface) -> pb::Interface {
        pb::Interface {
            name: i.name.clone(),
            mac: i.mac.clone(),
            kind: i.kind.clone(),
            parent: i.parent.clone().unwrap_or_default(),
            vid: i.vid.unwrap_or(0),
            addresses: i.addresses.clone(),
        }
    }
}

/// An empty kind is "physical"; an empty parent and vid 0 are none. A vid
/// outside 0..=4094 is refused.
impl TryFrom<pb::Interface> for Interface {
    type Error = Invalid;
    fn try_from(i: pb::Interface) -> Result<Interface, Invalid> {
        let vid = vid("vid", i.vid)?;
        Ok(Interface {
            name: i.name,
            mac: i.mac,
            kind: if i.kind.is_empty() {
                "physical".into()
            } else {
                i.kind
            },
            parent: opt_string(i.parent),
            vid: (vid > 0).then_some(vid.into()),
            addresses: i.addresses,
        })
    }
}
