//! The `maas-dnsd` binary: serves its JSON config, swaps on SIGHUP, keeps
//! the old zones when the new file is broken, exits on SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn config(ip: &str) -> String {
    format!(
        r#"{{"zones":[{{"name":"lab.test","ttl":5,"serial":3,"records":[{{"name":"node","rtype":"A","rdata":"{ip}"}}]}}],"reverse_subnets":["10.0.0.0/24"]}}"#
    )
}

fn dig(port: u16, args: &[&str]) -> String {
    let out = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+time=1",
            "+tries=1",
            "+short",
        ])
        .args(args)
        .output()
        .expect("dig runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn serves_reloads_on_sighup_and_exits_on_sigterm() {
    maas_lab::require_tools(&["dig"]).expect("dig");
    let dir = std::env::temp_dir().join(maas_lab::unique_name("dnsd"));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let cfg = dir.join("zones.json");
    std::fs::write(&cfg, config("10.0.0.1")).expect("write config");
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").expect("probe port");
        s.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_maas-dnsd"))
        .arg("--config")
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("maas-dnsd starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    assert!(line.starts_with("listening 127.0.0.1:"), "{line}");
    assert_eq!(dig(port, &["node.lab.test", "A"]), "10.0.0.1");
    assert_eq!(dig(port, &["-x", "10.0.0.1"]), "node.lab.test.");

    let hup = |c: &std::process::Child| unsafe { libc::kill(c.id() as i32, libc::SIGHUP) };
    let wait_for = |want: &str| {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let got = dig(port, &["node.lab.test", "A"]);
            if got == want {
                return;
            }
            assert!(Instant::now() < end, "still {got:?}, want {want:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::fs::write(&cfg, config("10.0.0.2")).expect("write config");
    hup(&child);
    wait_for("10.0.0.2");
    assert_eq!(dig(port, &["-x", "10.0.0.2"]), "node.lab.test.");

    // A broken file: the old zones keep serving.
    std::fs::write(&cfg, "{ not json").expect("write config");
    hup(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(dig(port, &["node.lab.test", "A"]), "10.0.0.2");

    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let end = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("maas-dnsd ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
