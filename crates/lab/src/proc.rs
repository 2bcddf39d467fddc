//! Processes started in namespaces, killed (and reaped) on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process; SIGTERM, then SIGKILL after 2 s, on drop.
#[derive(Debug)]
pub struct Proc {
    pub child: Child,
    pub what: String,
}

impl Proc {
    /// Spawns `cmd` with stdin closed (stdout/stderr as `cmd` says).
    pub fn spawn(mut cmd: Command) -> anyhow::Result<Proc> {
        let what = format!("{cmd:?}");
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {what}"))?;
        Ok(Proc { child, what })
    }

    /// Whether it has exited (reaping it).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits up to `timeout` for it to exit; its status, or an error.
    pub fn wait_timeout(&mut self, timeout: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() > end {
                bail!("{} still running after {timeout:?}", self.what);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `sig` (e.g. `libc::SIGKILL`).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited() {
            return;
        }
        self.signal(libc::SIGTERM);
        if self.wait_timeout(Duration::from_secs(2)).is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Fails naming what is missing (and that `.ci/run` installs it) unless
/// every program is on PATH.
pub fn require_tools(progs: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = progs
        .iter()
        .copied()
        .filter(|p| crate::which(p).is_none())
        .collect();
    if !missing.is_empty() {
        bail!("missing tools {missing:?}: `bash .ci/run` installs them (see .ci/packages)");
    }
    if !crate::can_make_namespaces() {
        bail!("network namespaces need root and iproute2");
    }
    Ok(())
}
