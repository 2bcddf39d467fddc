//! The durable event queue: events are appended (and fsynced) to
//! `events.jsonl` before they are sent, and dropped only once a region has
//! acknowledged storing them, so a rack or region dying mid-batch loses and
//! doubles nothing (the region stores each (rack, seq) once).

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use maas_model::rack::{Event, EventKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One line of `events.jsonl`: `{"seq": 1, "at_ms": …, "kind": "lease",
/// "data": {…}}`.
#[derive(Serialize, Deserialize)]
struct Line {
    seq: u64,
    at_ms: i64,
    #[serde(flatten)]
    kind: EventKind,
}

impl From<Line> for Event {
    fn from(l: Line) -> Event {
        Event {
            seq: l.seq,
            occurred_unix_ms: l.at_ms,
            kind: l.kind,
        }
    }
}

/// An event as local services post it: `{"kind": "lease", "mac": …, …}`.
/// Unknown kinds and fields of the wrong type are refused; missing fields
/// are empty.
pub fn event_from_json(mut v: Value) -> Result<EventKind, String> {
    let kind = v["kind"].as_str().unwrap_or("").to_string();
    if !EventKind::NAMES.contains(&kind.as_str()) {
        return Err(format!(
            "unknown event kind '{kind}' ({})",
            EventKind::NAMES.join(", ")
        ));
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("kind");
    }
    serde_json::from_value(json!({"kind": kind, "data": v}))
        .map_err(|e| format!("bad {kind} event: {e}"))
}

pub struct Queue {
    dir: PathBuf,
    events: VecDeque<Event>,
    pub next_seq: u64,
    pub acked: u64,
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
                let Ok(e) = serde_json::from_str::<Line>(&line) else {
                    continue;
                };
                if e.seq > acked && events.back().is_none_or(|b: &Event| e.seq > b.seq) {
                    events.push_back(e.into());
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
    pub fn push_many(&mut self, items: Vec<EventKind>) -> anyhow::Result<(u64, u64)> {
        let first = self.next_seq;
        let now = chrono_ms();
        let mut buf = Vec::new();
        let mut new = Vec::with_capacity(items.len());
        for kind in items {
            let line = Line {
                seq: self.next_seq,
                at_ms: now,
                kind,
            };
            self.next_seq += 1;
            serde_json::to_writer(&mut buf, &line)?;
            buf.push(b'\n');
            new.push(Event::from(line));
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
    pub fn unsent(&self, after: u64, max: usize) -> Vec<Event> {
        self.events
            .iter()
            .filter(|e| e.seq > after)
            .take(max)
            .cloned()
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
                        EventKind::Lease(maas_model::rack::Lease {
                            ip: format!("10.0.0.{i}"),
                            ..Default::default()
                        })
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
            q.unsent(0, 1)[0].kind,
            EventKind::Lease(maas_model::rack::Lease {
                ip: "10.0.0.4".into(),
                ..Default::default()
            })
        );
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

    #[test]
    fn lines_keep_their_format() {
        let d = dir();
        std::fs::write(
            d.join("events.jsonl"),
            concat!(
                r#"{"seq":1,"at_ms":5,"kind":"health","data":{"service":"rackd","status":"running","info":"x"}}"#,
                "\n",
                r#"{"seq":2,"at_ms":6,"kind":"power","data":{"job_id":3,"ok":true}}"#,
                "\n",
            ),
        )
        .unwrap();
        let mut q = Queue::open(d.clone()).unwrap();
        let e = q.unsent(0, 10);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].seq, e[0].occurred_unix_ms), (1, 5));
        assert!(
            matches!(&e[1].kind, EventKind::Power(p) if p.job_id == 3 && p.ok && p.state.is_empty())
        );
        q.push_many(vec![EventKind::Boot(Default::default())])
            .unwrap();
        let text = std::fs::read_to_string(d.join("events.jsonl")).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["seq"], 3);
        assert_eq!(last["kind"], "boot");
        assert_eq!(last["data"]["remote_ip"], "");
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn posted_events_are_checked() {
        let e = event_from_json(
            json!({"kind": "lease", "action": "commit", "lease_time": 60, "extra": 1}),
        )
        .unwrap();
        assert!(
            matches!(e, EventKind::Lease(l) if l.action == "commit" && l.lease_time == 60 && l.mac.is_empty())
        );
        assert!(
            event_from_json(json!({"kind": "nope"}))
                .unwrap_err()
                .contains("unknown event kind")
        );
        assert!(event_from_json(json!({"mac": "x"})).is_err());
        assert!(event_from_json(json!("lease")).is_err());
        let e = event_from_json(json!({"kind": "lease", "lease_time": "soon"})).unwrap_err();
        assert!(e.contains("bad lease event"), "{e}");
    }
}
