//! The durable lease log: one text line per change, appended and fsynced
//! (group-committed) before the ACKs it covers leave; compacted on open.
//!
//! Line format: `L <ip> <hw> <expires_unix> <hostname|->` (bound),
//! `D <ip> <hw> <expires_unix> -` (declined, quarantined) and
//! `F <ip> <hw> 0 -` (freed: released or expired). A torn last line (the
//! process was killed mid-write) is ignored.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::config::Hw;
use crate::leases::{Entry, State, Table};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lease log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One change to persist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub op: u8,
    pub ip: Ipv4Addr,
    pub hw: Hw,
    pub expires: u64,
    pub hostname: String,
}

impl Record {
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let host = if self.hostname.is_empty() {
            "-"
        } else {
            &self.hostname
        };
        let _ = writeln!(
            out,
            "{} {} {} {} {}",
            self.op as char, self.ip, self.hw, self.expires, host
        );
    }

    fn parse(line: &str) -> Option<Record> {
        let mut it = line.split(' ');
        let op = it.next()?.as_bytes();
        let ip: Ipv4Addr = it.next()?.parse().ok()?;
        let hw = Hw::parse(it.next()?)?;
        let expires: u64 = it.next()?.parse().ok()?;
        let host = it.next()?;
        if it.next().is_some() || op.len() != 1 || !matches!(op[0], b'L' | b'D' | b'F') {
            return None;
        }
        Some(Record {
            op: op[0],
            ip,
            hw,
            expires,
            hostname: if host == "-" {
                String::new()
            } else {
                host.into()
            },
        })
    }
}

/// The open log.
pub struct Store {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
}

impl Store {
    /// Opens (creating) `dir/leases.log`, replays it into a table (dropping
    /// what expired before `now`), rewrites it compacted, and returns both.
    pub fn open(dir: &Path, now: u64) -> Result<(Store, Table), StoreError> {
        let path = dir.join("leases.log");
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut table = Table::default();
        let text = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        let mut bad = 0usize;
        for line in text.split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let Some(r) = std::str::from_utf8(line).ok().and_then(Record::parse) else {
                bad += 1;
                continue;
            };
            match r.op {
                b'F' => {
                    if table.get(r.ip).is_some_and(|e| e.hw == r.hw) {
                        table.remove(r.ip);
                    }
                }
                op => table.set(
                    r.ip,
                    Entry {
                        hw: r.hw,
                        state: if op == b'L' {
                            State::Bound
                        } else {
                            State::Quarantined
                        },
                        expires: r.expires,
                        hostname: r.hostname,
                    },
                ),
            }
        }
        if bad > 0 {
            tracing::warn!(path = %path.display(), bad, "lease log: unreadable lines skipped");
        }
        table.expire(now);
        // Compact: write the live set to a new file, fsync, rename, fsync dir.
        let tmp = dir.join("leases.log.new");
        let mut out = Vec::new();
        let mut live: Vec<(&Ipv4Addr, &Entry)> = table.by_ip.iter().collect();
        live.sort_by_key(|(ip, _)| **ip);
        for (ip, e) in live {
            Record {
                op: if e.state == State::Bound { b'L' } else { b'D' },
                ip: *ip,
                hw: e.hw,
                expires: e.expires,
                hostname: e.hostname.clone(),
            }
            .write_to(&mut out);
        }
        {
            let mut f = File::create(&tmp).map_err(io)?;
            f.write_all(&out).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &path).map_err(io)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        let file = OpenOptions::new().append(true).open(&path).map_err(io)?;
        Ok((
            Store {
                path,
                file,
                buf: Vec::with_capacity(64 * 1024),
            },
            table,
        ))
    }

    /// Appends `records` and waits until they are on disk (one write, one
    /// fdatasync for the whole batch).
    pub fn commit(&mut self, records: &[Record]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for r in records {
            r.write_to(&mut self.buf);
        }
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&self.buf).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
