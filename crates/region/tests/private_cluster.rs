//! The private PostgreSQL cluster's guard and ownership, with `maas-region`
//! processes as operators run them (as root on CI: the cluster then runs as
//! the `postgres` user).

use maas_testkit as common;

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::Api;
use common::proc::Proc;

const BIN: &str = env!("CARGO_BIN_EXE_maas-region");

fn serve(data_dir: &str) -> Proc {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--rpc-listen", "127.0.0.1:0"])
        .args(["--data-dir", data_dir])
        .env_remove("MAAS_DATABASE_URL");
    let mut p = Proc::spawn(cmd, "region API listening");
    assert!(
        !p.addr.is_empty(),
        "region did not start:\n{}",
        p.log_text()
    );
    p.graceful = true;
    p
}

/// Run a `maas-region` command on `data_dir`; its stdout.
fn run(data_dir: &str, args: &[&str]) -> String {
    let (st, out, err) = run_bounded(
        Command::new(BIN)
            .args(args)
            .args(["--data-dir", data_dir])
            .env_remove("MAAS_DATABASE_URL"),
        Duration::from_secs(120),
    );
    assert!(st.is_some_and(|s| s.success()), "{args:?}: {st:?} {err}");
    out
}

/// Run `cmd` for at most `limit` (killed after): exit status (None if it
/// had to be killed), stdout, stderr.
fn run_bounded(cmd: &mut Command, limit: Duration) -> (Option<ExitStatus>, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = read(child.stdout.take().map(|r| Box::new(r) as _));
    let err = read(child.stderr.take().map(|r| Box::new(r) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(5));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}

fn postmaster_pid(data_dir: &str) -> u32 {
    let f = Path::new(data_dir).join("pg/data/postmaster.pid");
    std::fs::read_to_string(&f)
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {}", f.display()))
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Wait (at most `secs`) for a process to be gone.
fn gone_within(pid: u32, secs: u64) -> bool {
    let start = Instant::now();
    while alive(pid) {
        if start.elapsed() > Duration::from_secs(secs) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// `psql` on the private cluster's socket as an OS user, with no password:
/// (success, output).
fn psql_as(user: &str, socket: &Path) -> (bool, String) {
    let sql = "select count(*) from tokens";
    let (st, out, err) = run_bounded(
        Command::new("su").args([
            user,
            "-s",
            "/bin/sh",
            "-c",
            &format!(
                "psql -w -h {} -U postgres -d maas -c '{sql}'",
                socket.display()
            ),
        ]),
        Duration::from_secs(30),
    );
    (st.is_some_and(|s| s.success()), format!("{out}{err}"))
}

/// Another local user (nobody), or the cluster's own OS user without the
/// region's password, cannot connect; the region and its commands can.
/// A cluster left trusting connections (as older regions made them) is
/// made to require the password when the region starts.
#[tokio::test]
async fn only_the_region_gets_into_the_private_cluster() {
    let dir = common::tempdir::Dir::new();
    let d = dir.0.to_str().unwrap().to_string();
    let socket = dir.0.join("pg/socket");
    run(
        &d,
        &[
            "createadmin",
            "--username",
            "admin",
            "--password",
            "pw",
            "--email",
            "a@example.com",
        ],
    );
    let key = run(&d, &["apikey", "--username", "admin"])
        .trim()
        .to_string();
    let pw = dir.0.join("pg-password");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pw).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", pw.display());
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", socket.display());
    }
    let check = |when: &str| {
        let (ok, out) = psql_as("nobody", &socket);
        assert!(!ok, "{when}: nobody read the tokens: {out}");
        assert!(!out.contains("count"), "{when}: {out}");
        if is_root() {
            let (ok, out) = psql_as("postgres", &socket);
            assert!(!ok, "{when}: postgres without the password got in: {out}");
            assert!(out.contains("password"), "{when}: {out}");
        }
    };
    {
        let p = serve(&d);
        check("while serving");
        let api = Api::new(&format!("http://{}/MAAS", p.addr), Some(key.clone()));
        let (st, me) = api.get_op("users/", "whoami", &[]).await;
        assert_eq!((st, me["username"].as_str()), (200, Some("admin")));
        // The commands still work beside the region, with the password.
        assert_eq!(run(&d, &["secret"]).trim().len(), 64);
    }
    // A cluster that trusts everyone (an older region's) is upgraded.
    let hba = dir.0.join("pg/data/pg_hba.conf");
    std::fs::write(
        &hba,
        "local all all trust\nhost all all 127.0.0.1/32 trust\n",
    )
    .unwrap();
    {
        let p = serve(&d);
        let hba_now = std::fs::read_to_string(&hba).unwrap();
        assert!(
            !hba_now
                .lines()
                .any(|l| !l.starts_with('#') && l.contains("trust")),
            "{hba_now}"
        );
        check("after the upgrade");
        let api = Api::new(&format!("http://{}/MAAS", p.addr), Some(key.clone()));
        let (st, _) = api.get_op("users/", "whoami", &[]).await;
        assert_eq!(st, 200);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// kill -9 of the region leaves its PostgreSQL running; the next region
/// adopts it and stops it on SIGTERM. A second region on the same data dir
/// while the first lives refuses, clearly and without a backtrace.
#[tokio::test]
async fn a_killed_regions_postgres_is_adopted_and_stopped() {
    let dir = common::tempdir::Dir::new();
    let d = dir.0.to_str().unwrap().to_string();
    run(
        &d,
        &[
            "createadmin",
            "--username",
            "admin",
            "--password",
            "pw",
            "--email",
            "a@example.com",
        ],
    );
    let key = run(&d, &["apikey", "--username", "admin"])
        .trim()
        .to_string();
    let mut a = serve(&d);
    let pm = postmaster_pid(&d);
    a.kill9();
    drop(a);
    assert!(alive(pm), "kill -9 of the region took its postmaster down");

    let b = serve(&d);
    assert_eq!(postmaster_pid(&d), pm, "the orphan postmaster is reused");
    assert!(b.log_text().contains("adopting"), "{}", b.log_text());
    let api = Api::new(&format!("http://{}/MAAS", b.addr), Some(key.clone()));
    let (st, _) = api.get_op("users/", "whoami", &[]).await;
    assert_eq!(st, 200);

    // A second region while B lives: refused, B unharmed.
    let (st, _, err) = run_bounded(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--rpc-listen",
                "127.0.0.1:0",
            ])
            .args(["--data-dir", &d])
            .env("RUST_BACKTRACE", "1")
            .env("RUST_LOG", "info")
            .env_remove("MAAS_DATABASE_URL"),
        Duration::from_secs(30),
    );
    assert!(st.is_some(), "the second region kept running:\n{err}");
    assert!(!st.unwrap().success(), "{err}");
    assert!(
        err.contains("error: ") && err.contains("belongs to another region"),
        "{err}"
    );
    assert!(!err.contains("listening"), "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
    assert!(alive(pm));
    let (st, _) = api.get_op("users/", "whoami", &[]).await;
    assert_eq!(st, 200, "the first region still serves");

    // SIGTERM: B stops the postmaster it adopted.
    drop(b);
    assert!(
        gone_within(pm, 30),
        "the adopted postmaster survived the region's SIGTERM"
    );
}
