//! Disk erasing: quick (the first and last 2 MiB), full (every byte), or
//! secure (refused: no secure-erase tool here, and virtio disks cannot).

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

const EDGE: u64 = 2 << 20;
const CHUNK: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mode {
    pub quick: bool,
    pub secure: bool,
}

impl Mode {
    /// From a task's `erase` object (absent: a full erase).
    pub fn from_task(task: Option<&serde_json::Value>) -> Mode {
        let e = task.and_then(|t| t.get("erase"));
        let flag = |k| e.and_then(|e| e.get(k)).and_then(|v| v.as_bool()) == Some(true);
        Mode {
            quick: flag("quick"),
            secure: flag("secure"),
        }
    }
}

fn zero_range(f: &mut std::fs::File, from: u64, len: u64) -> Result<()> {
    let buf = vec![0u8; CHUNK];
    f.seek(SeekFrom::Start(from))?;
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// Erase one disk; `progress` gets percentages of a full erase.
pub fn erase_disk(path: &Path, mode: Mode, progress: &mut dyn FnMut(u32)) -> Result<u64> {
    let name = path.display();
    if mode.secure {
        bail!(
            "Secure erase is not supported for {name}: this environment has no secure-erase \
             tool and the disk offers no secure erase (virtio disks never do)."
        );
    }
    let mut f = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("open {name}"))?;
    let size = f.seek(SeekFrom::End(0))?;
    if mode.quick {
        zero_range(&mut f, 0, size.min(EDGE))?;
        if size > EDGE {
            let from = size.saturating_sub(EDGE).max(EDGE.min(size));
            zero_range(&mut f, from, size - from)?;
        }
    } else {
        let buf = vec![0u8; CHUNK];
        f.seek(SeekFrom::Start(0))?;
        let mut done = 0u64;
        let mut last = 0;
        while done < size {
            let n = (size - done).min(CHUNK as u64) as usize;
            f.write_all(&buf[..n])
                .with_context(|| format!("write {name} at {done}"))?;
            done += n as u64;
            let pct = (done * 100 / size) as u32;
            if pct / 10 > last / 10 {
                progress(pct);
                last = pct;
            }
        }
    }
    f.sync_all().with_context(|| format!("fsync {name}"))?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(len: usize) -> (std::path::PathBuf, Vec<u8>) {
        let p = std::env::temp_dir().join(format!("maas-agent-erase-{}-{len}", std::process::id()));
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
        std::fs::write(&p, &data).unwrap();
        (p, data)
    }

    #[test]
    fn quick_erase_zeroes_both_ends_only() {
        let (p, data) = disk(6 << 20);
        erase_disk(
            &p,
            Mode {
                quick: true,
                secure: false,
            },
            &mut |_| {},
        )
        .unwrap();
        let after = std::fs::read(&p).unwrap();
        assert_eq!(after.len(), data.len());
        assert!(after[..2 << 20].iter().all(|b| *b == 0));
        assert!(after[4 << 20..].iter().all(|b| *b == 0));
        assert_eq!(&after[2 << 20..4 << 20], &data[2 << 20..4 << 20]);
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn full_erase_zeroes_everything_with_progress() {
        let (p, _) = disk((9 << 20) + 17);
        let mut seen = Vec::new();
        erase_disk(&p, Mode::default(), &mut |pct| seen.push(pct)).unwrap();
        assert!(std::fs::read(&p).unwrap().iter().all(|b| *b == 0));
        assert_eq!(seen.last(), Some(&100));
        std::fs::remove_file(p).unwrap();
    }

    #[test]
    fn secure_is_refused_and_writes_nothing() {
        let (p, data) = disk(1 << 20);
        let e = erase_disk(
            &p,
            Mode {
                quick: false,
                secure: true,
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("Secure erase is not supported"),
            "{e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), data);
        std::fs::remove_file(p).unwrap();
    }
}
