//! The private PostgreSQL cluster the region runs under its data directory
//! when no `--database-url` is given.
//!
//! Only the region gets in: the socket directory is 0700 (owned by the
//! cluster's OS user, `postgres` when the region runs as root), and every
//! connection, local or TCP, authenticates with SCRAM-SHA-256 using a
//! generated password kept in `<data-dir>/pg-password` (0600, the region's
//! user). A cluster made by an older region (trust authentication) is
//! upgraded when it is next started or adopted.
//!
//! The region owns the postmaster it finds in its data directory: its pid
//! goes into `pg/region.pid`, and it stops the postmaster on exit whether it
//! started it or adopted an orphan (a region killed with -9). A postmaster
//! whose recorded region is still alive belongs to that region: `serve`
//! refuses, the operator commands use it as guests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor};

/// What the caller needs of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Own it (`serve`): refuse a cluster another live region owns.
    Own,
    /// Use it (operator commands): as a guest when a live region owns it,
    /// else as its owner for the command's duration.
    MayShare,
}

/// A PostgreSQL cluster the region runs itself under its data directory.
pub struct PrivateCluster {
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port: u16,
    password: String,
    /// The postmaster we spawned (possibly through `runuser`).
    child: Option<tokio::process::Child>,
    /// The postmaster's pid, spawned or adopted; `None` once stopped.
    postmaster: Option<u32>,
    /// `pg/region.pid`, holding our pid while we own the cluster.
    owner_file: PathBuf,
}

/// Where the PostgreSQL server binaries are (Debian: /usr/lib/postgresql/N/bin).
/// `MAAS_PG_ROOT` overrides the directory searched (for tests).
pub fn find_pg_bin() -> anyhow::Result<PathBuf> {
    let root = std::env::var("MAAS_PG_ROOT").unwrap_or_else(|_| "/usr/lib/postgresql".into());
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server binaries found under {root}/*/bin; \
             install them with `apt-get install postgresql` (package postgresql-15 on Debian 12), \
             or pass --database-url to use an existing server"
        ),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe extern "C" {
        fn geteuid() -> u32;
    }
    unsafe { geteuid() == 0 }
}

/// A live (not zombie) process with this pid.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The file name of a process's executable (without " (deleted)").
fn exe_name(pid: u32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_str()?;
    Some(name.trim_end_matches(" (deleted)").to_string())
}

/// The pid recorded on the first line of a pid file.
fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The running postmaster of the cluster in `data`, if any.
fn running_postmaster(data: &Path) -> Option<u32> {
    let pid = read_pid(&data.join("postmaster.pid"))?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (alive(pid) && comm.trim() == "postgres").then_some(pid)
}

/// Another live region process recorded in `owner_file`.
fn live_owner(owner_file: &Path) -> Option<u32> {
    let pid = read_pid(owner_file)?;
    if pid == std::process::id() || !alive(pid) {
        return None;
    }
    let ours = std::env::current_exe()
        .ok()
        .and_then(|e| e.file_name()?.to_str().map(str::to_string));
    // A recycled pid running something else is not a region.
    (exe_name(pid) == ours).then_some(pid)
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The region's password for the cluster: read, or generated and written
/// (0600) the first time.
fn load_or_create_password(path: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    if path.exists() {
        let pw =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let pw = pw.trim().to_string();
        if pw.is_empty() {
            bail!("{} is empty", path.display());
        }
        return Ok(pw);
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let pw = hex::encode(bytes);
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(pw.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(pw)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {mode:o} {}", path.display()))
}

fn chown(user: &str, path: &Path, recursive: bool) -> anyhow::Result<()> {
    let mut c = std::process::Command::new("chown");
    if recursive {
        c.arg("-R");
    }
    let st = c
        .arg(format!("{user}:"))
        .arg(path)
        .status()
        .context("chown of the cluster dir for the postgres user")?;
    if !st.success() {
        bail!(
            "cannot chown {} to user {user} (does the user exist?)",
            path.display()
        );
    }
    Ok(())
}

/// pg_hba.conf of a private cluster: password (SCRAM) for every connection.
const PG_HBA: &str = "\
# Written by maas-region. Only the region may connect: every connection
# authenticates with SCRAM-SHA-256 using the password in <data-dir>/pg-password.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
";

/// Whether a pg_hba.conf admits anyone without a password.
fn hba_trusts(hba: &str) -> bool {
    hba.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .any(|l| {
            l.split_whitespace()
                .any(|w| w == "trust" || w == "peer" || w == "ident")
        })
}

impl PrivateCluster {
    /// Connection options for the cluster under `data_dir`, starting it (or
    /// adopting the postmaster a dead region left) when this process must own
    /// it. `None` for the cluster when a live region owns it and `claim`
    /// allows sharing.
    pub async fn open(
        data_dir: &Path,
        port: u16,
        claim: Claim,
    ) -> anyhow::Result<(PgConnectOptions, Option<PrivateCluster>)> {
        let root = data_dir.join("pg");
        let data = root.join("data");
        let owner_file = root.join("region.pid");
        if let Some(pm) = running_postmaster(&data)
            && let Some(owner) = live_owner(&owner_file)
        {
            if claim == Claim::Own {
                bail!(
                    "the private PostgreSQL in {} (postmaster pid {pm}) belongs to another \
                     region that is still running (pid {owner}); stop that region first, or give \
                     this one another --data-dir",
                    root.display()
                );
            }
            let password = load_or_create_password(&data_dir.join("pg-password"))?;
            let opts = options(&root.join("socket"), port, &password, "maas");
            return Ok((opts, None));
        }
        let c = Self::start(data_dir, port).await?;
        Ok((c.options(), Some(c)))
    }

    /// Initialise (first time) and start the cluster, or adopt its running
    /// postmaster; returns once it accepts connections. The caller owns it.
    pub async fn start(data_dir: &Path, port: u16) -> anyhow::Result<PrivateCluster> {
        let bin = find_pg_bin()?;
        // Everything PostgreSQL owns lives under pg/, so only that is handed
        // to the postgres user (the region's secret key and the cluster's
        // password stay the region's).
        let root = data_dir.join("pg");
        let data = root.join("data");
        let socket_dir = root.join("socket");
        let owner_file = root.join("region.pid");
        std::fs::create_dir_all(&socket_dir)?;
        let password = load_or_create_password(&data_dir.join("pg-password"))?;
        // PostgreSQL refuses to run as root: run it as the `postgres` user.
        let run_as = if is_root() {
            Some(std::env::var("MAAS_PG_USER").unwrap_or_else(|_| "postgres".into()))
        } else {
            None
        };
        let cmd = |prog: &str| {
            let mut c = match &run_as {
                Some(u) => {
                    let mut c = tokio::process::Command::new("runuser");
                    c.arg("-u").arg(u).arg("--").arg(bin.join(prog));
                    c
                }
                None => tokio::process::Command::new(bin.join(prog)),
            };
            c.stdin(Stdio::null());
            c
        };
        if let Some(u) = &run_as {
            // The postgres user must be able to reach the cluster directory.
            let mut dir = root.canonicalize().unwrap_or(root.clone());
            while let Some(parent) = dir.parent().map(Path::to_path_buf) {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&parent)?.permissions().mode();
                if mode & 0o001 == 0 {
                    bail!(
                        "the private PostgreSQL runs as user {u}, which cannot enter {} (mode {:o}); \
                         use a --data-dir it can reach, such as /var/lib/maas-region (the default \
                         when running as root)",
                        parent.display(),
                        mode & 0o777
                    );
                }
                dir = parent;
            }
            chown(u, &root, true)?;
        }
        // Nobody but the cluster's user (and root) may enter pg/ or reach the socket.
        set_mode(&root, 0o700)?;
        set_mode(&socket_dir, 0o700)?;
        std::fs::write(&owner_file, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", owner_file.display()))?;
        let mut cluster = PrivateCluster {
            data: data.clone(),
            socket_dir: socket_dir.clone(),
            port,
            password,
            child: None,
            postmaster: None,
            owner_file,
        };
        if let Some(pm) = running_postmaster(&data) {
            tracing::warn!(
                pid = pm,
                dir = %data.display(),
                "adopting the private PostgreSQL a previous region left running; \
                 it is stopped when this region exits"
            );
            cluster.postmaster = Some(pm);
        } else {
            if !data.join("PG_VERSION").exists() {
                tracing::info!(dir = %data.display(), "initialising private PostgreSQL cluster");
                // initdb reads the password from a file the postgres user can
                // read; it exists only while initdb runs.
                let pwfile = root.join("initdb-password");
                let _ = std::fs::remove_file(&pwfile);
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&pwfile)?;
                    f.write_all(cluster.password.as_bytes())?;
                }
                if let Some(u) = &run_as {
                    chown(u, &pwfile, false)?;
                }
                let out = cmd("initdb")
                    .arg("-D")
                    .arg(&data)
                    .arg(format!("--pwfile={}", pwfile.display()))
                    .args([
                        "-U",
                        "postgres",
                        "-A",
                        "scram-sha-256",
                        "-E",
                        "UTF8",
                        "--no-sync",
                    ])
                    .output()
                    .await;
                let _ = std::fs::remove_file(&pwfile);
                let out = out.context("running initdb")?;
                if !out.status.success() {
                    let _ = std::fs::remove_file(&cluster.owner_file);
                    bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
                }
                std::fs::write(data.join("pg_hba.conf"), PG_HBA)?;
            }
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(root.join("postgres.log"))?;
            let child = cmd("postgres")
                .arg("-D")
                .arg(&data)
                .arg("-k")
                .arg(&socket_dir)
                .arg("-p")
                .arg(port.to_string())
                .args(["-c", "listen_addresses=", "-c", "max_connections=200"])
                .args(["-c", "unix_socket_permissions=0700"])
                .stdout(Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .context("starting postgres")?;
            cluster.child = Some(child);
        }
        let ready = async {
            cluster.wait_ready().await?;
            cluster.require_password().await?;
            cluster.ensure_database("maas").await
        }
        .await;
        if let Err(e) = ready {
            cluster.stop().await;
            return Err(e);
        }
        Ok(cluster)
    }

    fn admin_options(&self, db: &str) -> PgConnectOptions {
        options(&self.socket_dir, self.port, &self.password, db)
    }

    pub fn options(&self) -> PgConnectOptions {
        self.admin_options("maas")
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let log = self
            .data
            .parent()
            .unwrap_or(&self.data)
            .join("postgres.log");
        let mut last = None;
        for _ in 0..300 {
            if let Some(child) = self.child.as_mut()
                && let Some(st) = child.try_wait()?
            {
                self.child = None;
                bail!("postgres exited ({st}); see {}", log.display());
            }
            if self.child.is_some() && self.postmaster.is_none() {
                // PostgreSQL writes its pid once it runs (the child we
                // spawned may be `runuser`).
                self.postmaster = running_postmaster(&self.data);
            }
            match sqlx::PgConnection::connect_with(&self.admin_options("postgres")).await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    if let sqlx::Error::Database(d) = &e
                        && d.code().as_deref() == Some("28P01")
                    {
                        bail!(
                            "the private PostgreSQL in {} refuses the password in {}: {e}",
                            self.data.display(),
                            self.password_file().display()
                        );
                    }
                    last = Some(e);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "private PostgreSQL did not become ready in 30 s ({}); see {}",
            last.map(|e| e.to_string()).unwrap_or_default(),
            log.display()
        )
    }

    fn password_file(&self) -> PathBuf {
        self.data
            .parent()
            .and_then(Path::parent)
            .unwrap_or(&self.data)
            .join("pg-password")
    }

    /// A cluster made by an older region trusts every connection: set the
    /// password (over the still-trusted socket) and require it from now on.
    async fn require_password(&self) -> anyhow::Result<()> {
        let hba_path = self.data.join("pg_hba.conf");
        let hba = std::fs::read_to_string(&hba_path)
            .with_context(|| format!("reading {}", hba_path.display()))?;
        if !hba_trusts(&hba) {
            return Ok(());
        }
        tracing::warn!(
            file = %hba_path.display(),
            "the private PostgreSQL trusted every local connection; requiring the region's password"
        );
        let mut c = sqlx::PgConnection::connect_with(&self.admin_options("postgres")).await?;
        c.execute("SET password_encryption = 'scram-sha-256'")
            .await?;
        // The password is hex (generated), or refused here: never quoted SQL.
        if !self.password.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            bail!(
                "{} must hold letters and digits only",
                self.password_file().display()
            );
        }
        c.execute(sqlx::AssertSqlSafe(format!(
            "ALTER ROLE postgres PASSWORD '{}'",
            self.password
        )))
        .await?;
        std::fs::write(&hba_path, PG_HBA)
            .with_context(|| format!("writing {}", hba_path.display()))?;
        c.execute("SELECT pg_reload_conf()").await?;
        c.close().await?;
        Ok(())
    }

    async fn ensure_database(&self, name: &str) -> anyhow::Result<()> {
        let mut c = sqlx::PgConnection::connect_with(&self.admin_options("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut c)
                .await?;
        if !exists {
            c.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await?;
        }
        Ok(())
    }

    /// Fast shutdown (SIGINT to the postmaster, spawned or adopted) and wait
    /// for it to exit (30 s, then an immediate shutdown).
    pub async fn stop(&mut self) {
        let pm = self
            .postmaster
            .take()
            .or_else(|| running_postmaster(&self.data));
        if let Some(pid) = pm {
            signal(pid, "-INT");
        }
        let mut child = self.child.take();
        let gone = tokio::time::timeout(Duration::from_secs(30), async {
            if let Some(c) = child.as_mut() {
                let _ = c.wait().await;
            }
            while pm.is_some_and(alive) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .is_ok();
        if !gone {
            tracing::warn!("private PostgreSQL did not stop in 30 s; stopping it immediately");
            if let Some(pid) = pm {
                signal(pid, "-QUIT");
            }
            if let Some(c) = child.as_mut() {
                let _ = tokio::time::timeout(Duration::from_secs(10), c.wait()).await;
                let _ = c.kill().await;
            }
        }
        if read_pid(&self.owner_file) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.owner_file);
        }
    }
}

fn options(socket_dir: &Path, port: u16, password: &str, db: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .socket(socket_dir)
        .port(port)
        .username("postgres")
        .password(password)
        .database(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_lines_are_found() {
        assert!(hba_trusts("local all all trust\n"));
        assert!(hba_trusts("# c\nhost all all 127.0.0.1/32 trust # x\n"));
        assert!(!hba_trusts(PG_HBA));
        assert!(!hba_trusts("# local all all trust\n"));
    }

    #[test]
    fn liveness() {
        assert!(alive(std::process::id()));
        assert!(!alive(u32::MAX - 1));
        assert!(live_owner(Path::new("/nonexistent/region.pid")).is_none());
    }
}
