//! The MAAS agent of the ephemeral environment. `/init` starts it; it reads
//! the kernel command line and enlists, commissions, tests, erases, deploys
//! or enters rescue mode, talking to the region through the rack
//! (`docs/agent.md`). Everything it reads from the machine comes from
//! [`Env`] paths, so tests run it on fixture trees and temp-file disks.

pub mod bmc;
pub mod client;
pub mod cmdline;
pub mod deploy;
pub mod deployed;
pub mod erase;
pub mod http;
pub mod install;
pub mod inventory;
pub mod oauth;
pub mod preseed;
pub mod rescue;
pub mod run;
pub mod testing;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use serde_json::Value;

/// JSON from bytes (for the fuzz targets, which have no serde_json of their own).
pub fn parse_json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// Where the agent finds the machine.
#[derive(Debug, Clone)]
pub struct Env {
    /// The root holding `proc/` and `sys/` (`/` on a machine).
    pub root: PathBuf,
    /// Where disk device nodes are (`/dev`).
    pub dev: PathBuf,
    /// The console the lab test greps (`/dev/console`); stderr always.
    pub console: Option<PathBuf>,
    /// How long HTTP calls keep retrying while the rack or region is away.
    pub patience: Duration,
    /// Run helper programs (lshw, smartctl); off in tests.
    pub tools: bool,
    /// MiB the memory check writes and verifies.
    pub memtest_mib: usize,
    /// Every line [`Env::log`] wrote this boot: sent with a FAILED signal
    /// as the step's output (`maas-<step>.log`).
    pub transcript: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Env {
    /// The machine itself.
    pub fn machine() -> Env {
        Env {
            root: "/".into(),
            dev: "/dev".into(),
            // Not when stderr already is the console (init redirects it).
            console: (!stderr_is_console()).then(|| "/dev/console".into()),
            patience: Duration::from_secs(60),
            tools: true,
            memtest_mib: 64,
            transcript: Default::default(),
        }
    }

    /// A `MAAS-AGENT: <step> ...` line on the console and stderr.
    pub fn log(&self, step: &str, msg: &str) {
        let line = format!("MAAS-AGENT: {step} {msg}\n");
        eprint!("{line}");
        if let Ok(mut t) = self.transcript.lock() {
            t.push_str(&line);
        }
        if let Some(c) = &self.console
            && let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(c)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// What [`Env::log`] wrote so far.
    pub fn transcript(&self) -> String {
        self.transcript
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    pub fn disk_path(&self, name: &str) -> PathBuf {
        self.dev.join(name)
    }

    /// A helper program's stdout and exit code, when tools are on and the
    /// program exists.
    pub fn tool(&self, prog: &str, args: &[&str]) -> Option<(String, i32)> {
        if !self.tools || which(prog).is_none() {
            return None;
        }
        let out = Command::new(prog).args(args).output().ok()?;
        Some((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        ))
    }
}

fn stderr_is_console() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(console) = std::fs::metadata("/dev/console") else {
        return false;
    };
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on fd 2 into a zeroed stat buffer.
    let ok = unsafe { libc::fstat(2, &mut st) } == 0;
    ok && (st.st_mode & libc::S_IFMT) == libc::S_IFCHR && st.st_rdev == console.rdev()
}

/// A program on PATH (or /sbin, /usr/sbin).
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/sbin", "/usr/sbin", "/bin", "/usr/bin"])
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}
