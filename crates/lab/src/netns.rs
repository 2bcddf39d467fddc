//! One network namespace, deleted on drop.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this process and call: `{prefix}{pid}x{n}`,
/// at most 15 characters (an interface name's limit) for prefixes of up to
/// 3 characters.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{n}", std::process::id() % 1_000_000)
}

/// A network namespace with its loopback up.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Makes `{prefix}{unique}` and brings `lo` up.
    pub fn new(prefix: &str) -> anyhow::Result<Netns> {
        let name = unique_name(prefix);
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NAME args…`, failing with its stderr.
    pub fn ip(&self, args: &[&str]) -> anyhow::Result<()> {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args))
    }

    /// A command that runs `program` inside this namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `program args…` inside the namespace to completion, failing
    /// with its stderr; returns its stdout.
    pub fn output(&self, program: &str, args: &[&str]) -> anyhow::Result<String> {
        let out = self
            .cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {program} in {}", self.name))?;
        if !out.status.success() {
            bail!(
                "{program} {args:?} in {} failed ({}): {}",
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `sysctl -qw key=value` inside the namespace.
    pub fn sysctl(&self, kv: &str) -> anyhow::Result<()> {
        self.output("sysctl", &["-qw", kv]).map(|_| ())
    }

    /// Adds `cidr` to `dev` and brings it up.
    pub fn addr(&self, dev: &str, cidr: &str) -> anyhow::Result<()> {
        self.ip(&["addr", "add", cidr, "dev", dev])?;
        self.ip(&["link", "set", dev, "up"])
    }

    /// A bridge `name` (STP off, no forward delay), up.
    pub fn bridge(&self, name: &str) -> anyhow::Result<()> {
        self.ip(&["link", "add", name, "type", "bridge"])?;
        self.ip(&[
            "link",
            "set",
            name,
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
        ])?;
        self.ip(&["link", "set", name, "up"])
    }

    /// A veth pair: `a_if` here, `b_if` in `other`, both up.
    pub fn veth(&self, a_if: &str, other: &Netns, b_if: &str) -> anyhow::Result<()> {
        run(Command::new("ip").args([
            "link",
            "add",
            a_if,
            "netns",
            &self.name,
            "type",
            "veth",
            "peer",
            "name",
            b_if,
            "netns",
            &other.name,
        ]))?;
        self.ip(&["link", "set", a_if, "up"])?;
        other.ip(&["link", "set", b_if, "up"])
    }

    /// Moves the calling thread into this namespace: sockets it opens from
    /// now on live here. Use on a thread of its own ([`Netns::spawn`]).
    pub fn enter(&self) -> anyhow::Result<()> {
        let path = format!("/run/netns/{}", self.name);
        let f = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
        use std::os::fd::AsRawFd;
        // SAFETY: setns on a valid namespace fd affects only this thread.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc != 0 {
            bail!("setns {}: {}", self.name, std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Runs `f` on a new thread inside this namespace (for in-process
    /// servers: build a tokio runtime inside `f`).
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<std::thread::JoinHandle<T>> {
        let path = format!("/run/netns/{}", self.name);
        let f_ns = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
        Ok(std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: as in `enter`.
            let rc = unsafe { libc::setns(f_ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            drop(f_ns);
            f()
        }))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Processes still inside keep it alive until they exit; `ip netns
        // del` only unmounts the name.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

pub(crate) fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
