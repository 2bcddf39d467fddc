//! Child processes (`maas-region`, `maas-rack`) for tests: started with
//! `RUST_LOG=info`, their address read from the first log line carrying a
//! marker and `addr=HOST:PORT`, their log kept for assertions, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A workspace binary next to the running test's executable
/// (`target/<profile>/<name>`).
pub fn sibling_bin(name: &str) -> PathBuf {
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        p.exists(),
        "{} is not built: run the suite with `cargo nextest run --workspace`",
        p.display()
    );
    p
}

/// A child process that prints `...addr=HOST:PORT` when ready.
pub struct Proc {
    pub child: Child,
    pub addr: String,
    /// SIGTERM (then SIGKILL) on drop instead of SIGKILL.
    pub graceful: bool,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, marker: &str) -> Proc {
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let marker = marker.to_string();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(&marker)
                    && let Some(a) = line.split("addr=").last()
                {
                    let _ = tx.send(a.split_whitespace().next().unwrap_or("").to_string());
                }
                log2.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        Proc {
            child,
            addr,
            log,
            graceful: false,
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn term(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill9();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.graceful {
            self.term();
        } else {
            self.kill9();
        }
    }
}

/// A TCP port nothing listens on right now (for a process that must not
/// open it, or that takes no port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
