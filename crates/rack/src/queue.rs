//! The durable event queue: events are appended (and fsynced) to
//! `events.jsonl` before they are sent, and dropped only once a region has
//! acknowledged storing them, so a rack or region dying mid-batch loses and
//! doubles nothing (the region stores each (rack, seq) once).

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use maas_rpc::pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredEvent {
    pub seq: u64,
    pub at_ms: i64,
    pub kind: String,
    pub data: Value,
}

pub struct Queue {
    dir: PathBuf,
    events: VecDeque<StoredEvent>,
    pub next_seq: u64,
    pub acked: u64,
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .map(|x| match x {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            o => o.to_string(),
        })
        .unwrap_or_default()
}

impl StoredEvent {
    /// Build from a kind and fields; unknown kinds are refused.
    pub fn check(kind: &str) -> Result<(), String> {
        match kind {
            "lease" | "boot" | "power" | "health" => Ok(()),
            k => Err(format!(
                "unknown event kind '{k}' (lease, boot, power, health)"
            )),
        }
    }

    pub fn to_pb(&self) -> pb::Event {
        use pb::event::Kind;
        let d = &self.data;
        let kind = match self.kind.as_str() {
            "lease" => Kind::Lease(pb::Lease {
                action: s(d, "action"),
                mac: s(d, "mac"),
                ip: s(d, "ip"),
                hostname: s(d, "hostname"),
                lease_time: d.get("lease_time").and_then(Value::as_u64).unwrap_or(0) as u32,
            }),
            "boot" => Kind::Boot(pb::BootRequest {
                mac: s(d, "mac"),
                arch: s(d, "arch"),
                purpose: s(d, "purpose"),
                remote_ip: s(d, "remote_ip"),
                file: s(d, "file"),
            }),
            "power" => Kind::Power(pb::PowerResult {
                job_id: d.get("job_id").and_then(Value::as_u64).unwrap_or(0),
                system_id: s(d, "system_id"),
                action: s(d, "action"),
                ok: d.get("ok").and_then(Value::as_bool).unwrap_or(false),
                state: s(d, "state"),
                error: s(d, "error"),
            }),
            _ => Kind::Health(pb::ServiceHealth {
                service: s(d, "service"),
                status: s(d, "status"),
                info: s(d, "info"),
            }),
        };
        pb::Event {
            seq: self.seq,
            occurred_unix_ms: self.at_ms,
            kind: Some(kind),
        }
    }
}

impl Queue {
    pub fn open(dir: PathBuf) -> anyhow::Result<Queue> {
        std::fs::create_dir_all(&dir)?;
        let acked: u64 = std::fs::read_to_string(dir.join("events.acked"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mut events = VecDeque::new();
        if let Ok(f) = std::fs::File::open(dir.join("events.jsonl")) {
            for line in std::io::BufReader::new(f).lines() {
                let Ok(line) = line else { break };
                // A torn last line (crash mid-write) was never acknowledged
                // to the producer: skip it.
                let Ok(e) = serde_json::from_str::<StoredEvent>(&line) else {
                    continue;
                };
                if e.seq > acked && events.back().is_none_or(|b: &StoredEvent| e.seq > b.seq) {
                    events.push_back(e);
                }
            }
        }
        let next_seq = events.back().map(|e| e.seq + 1).unwrap_or(acked + 1);
        Ok(Queue {
            dir,
            events,
            next_seq,
            acked,
        })
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Append events durably; returns their (first, last) seq.
    pub fn push_many(&mut self, items: Vec<(String, Value)>) -> anyhow::Result<(u64, u64)> {
        let first = self.next_seq;
        let now = chrono_ms();
        let mut buf = Vec::new();
        let mut new = Vec::with_capacity(items.len());
        for (kind, data) in items {
            let e = StoredEvent {
                seq: self.next_seq,
                at_ms: now,
                kind,
                data,
            };
            self.next_seq += 1;
            serde_json::to_writer(&mut buf, &e)?;
            buf.push(b'\n');
            new.push(e);
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("events.jsonl"))?;
        f.write_all(&buf)?;
        f.sync_data()?;
        self.events.extend(new);
        Ok((first, self.next_seq - 1))
    }

    /// Events after `after`, at most `max`.
    pub fn unsent(&self, after: u64, max: usize) -> Vec<pb::Event> {
        self.events
            .iter()
            .filter(|e| e.seq > after)
            .take(max)
            .map(StoredEvent::to_pb)
            .collect()
    }

    /// The region stored everything up to `up_to`.
    pub fn ack(&mut self, up_to: u64) -> anyhow::Result<()> {
        if up_to <= self.acked {
            return Ok(());
        }
        self.acked = up_to;
        self.next_seq = self.next_seq.max(up_to + 1);
        while self.events.front().is_some_and(|e| e.seq <= up_to) {
            self.events.pop_front();
        }
        crate::identity::write_file_atomic(
            &self.dir.join("events.acked"),
            up_to.to_string().as_bytes(),
            false,
        )?;
        if self.events.is_empty() {
            // Everything is stored: start the log afresh.
            std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(self.dir.join("events.jsonl"))?;
        }
        Ok(())
    }
}

fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rackq-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn survives_restart_and_acks() {
        let d = dir();
        let mut q = Queue::open(d.clone()).unwrap();
        let (a, b) = q
            .push_many(
                (0..10)
                    .map(|i| {
                        (
                            "lease".to_string(),
                            serde_json::json!({"ip": format!("10.0.0.{i}")}),
                        )
                    })
                    .collect(),
            )
            .unwrap();
        assert_eq!((a, b), (1, 10));
        q.ack(4).unwrap();
        drop(q);
        let q = Queue::open(d.clone()).unwrap();
        assert_eq!(q.len(), 6);
        assert_eq!(q.unsent(0, 100)[0].seq, 5);
        assert_eq!(
            q.unsent(7, 2).iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![8, 9]
        );
        assert_eq!(q.next_seq, 11);
        // A torn line at the end is ignored.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(d.join("events.jsonl"))
            .unwrap();
        f.write_all(b"{\"seq\": 11, \"at_").unwrap();
        drop(f);
        let mut q = Queue::open(d.clone()).unwrap();
        assert_eq!(q.len(), 6);
        q.ack(10).unwrap();
        assert!(q.is_empty());
        let q = Queue::open(d.clone()).unwrap();
        assert_eq!((q.len(), q.next_seq), (0, 11), "seq never reused");
        let _ = std::fs::remove_dir_all(d);
    }
}
