//! TFTP interop: tftp-hpa, atftp and curl fetch byte-identical files, with and
//! without blksize/windowsize; tsize; refused paths; malformed packets; 200
//! concurrent transfers.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use common::{Env, bytes, run, same_file};
use maas_boot::{BootConfig, Metrics};

/// The options a server acknowledged.
type Oack = Vec<(String, String)>;

/// A minimal lock-step test client; returns the file and the OACK options,
/// or the server's error code.
fn raw_get(server: SocketAddr, name: &[u8], opts: &[(&str, &str)]) -> Result<(Vec<u8>, Oack), u16> {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut rrq = vec![0, 1];
    rrq.extend_from_slice(name);
    rrq.extend_from_slice(b"\0octet\0");
    for (k, v) in opts {
        rrq.extend_from_slice(k.as_bytes());
        rrq.push(0);
        rrq.extend_from_slice(v.as_bytes());
        rrq.push(0);
    }
    s.send_to(&rrq, server).expect("send");
    let blksize: usize = opts
        .iter()
        .find(|o| o.0 == "blksize")
        .map_or(512, |o| o.1.parse().expect("blksize"));
    let mut buf = vec![0u8; 70000];
    let mut data = Vec::new();
    let mut oack = Vec::new();
    let mut expect: u16 = 1;
    loop {
        let (n, from) = s.recv_from(&mut buf).expect("no answer from the server");
        let p = &buf[..n];
        match u16::from_be_bytes([p[0], p[1]]) {
            5 => return Err(u16::from_be_bytes([p[2], p[3]])),
            6 => {
                let f: Vec<String> = p[2..]
                    .split(|&b| b == 0)
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect();
                oack = f
                    .chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| (c[0].clone(), c[1].clone()))
                    .collect();
                s.send_to(&[0, 4, 0, 0], from).expect("ack0");
            }
            3 => {
                let b = u16::from_be_bytes([p[2], p[3]]);
                if b == expect {
                    data.extend_from_slice(&p[4..]);
                    expect = expect.wrapping_add(1);
                }
                s.send_to(&[0, 4, p[2], p[3]], from).expect("ack");
                if b == expect.wrapping_sub(1) && n - 4 < blksize {
                    return Ok((data, oack));
                }
            }
            op => panic!("unexpected opcode {op}"),
        }
    }
}

fn tools() {
    maas_lab::require_tools(&["tftp", "atftp", "curl"])
        .expect("TFTP clients (apt-get install tftp-hpa atftp curl)");
}

#[test]
fn real_clients_fetch_byte_identical_files() {
    tools();
    let env = Env::start("tftp-clients", BootConfig::default());
    std::fs::create_dir_all(env.dir.join("out")).expect("mkdir");
    let port = env.tftp().port().to_string();
    // sizes: empty, exact multiples of both block sizes (a zero-length last block), odd.
    let sizes = [0usize, 512 * 1468, 1_000_003];
    for (i, size) in sizes.iter().enumerate() {
        let name = format!("f{i}.bin");
        let src = env.put(&format!("tftp/sub/{name}"), &bytes(*size, i as u64));
        let remote = format!("sub/{name}");
        let o = env.out(&format!("hpa-{i}"));
        run(Command::new("tftp")
            .args(["-m", "binary", "127.0.0.1", &port, "-c", "get", &remote])
            .arg(&o));
        same_file(&src, &o);
        for opts in [
            &[][..],
            &["blksize 1468"][..],
            &["blksize 1468", "windowsize 16"][..],
            &["windowsize 8"][..],
        ] {
            let o = env.out(&format!("atftp-{i}-{}", opts.len()));
            let mut c = Command::new("atftp");
            for opt in opts {
                c.args(["--option", opt]);
            }
            run(c
                .args(["-g", "-r", &remote, "-l"])
                .arg(&o)
                .args(["127.0.0.1", &port]));
            same_file(&src, &o);
        }
        // curl 7.88 fails on empty TFTP files against every server (atftpd
        // too: "getpeername() failed with errno 107"), so it skips size 0.
        for bs in ["512", "1468"].iter().filter(|_| *size > 0) {
            let o = env.out(&format!("curl-{i}-{bs}"));
            run(Command::new("curl")
                .args(["-sS", "--tftp-blksize", bs, "-o"])
                .arg(&o)
                .arg(format!("tftp://127.0.0.1:{port}/{remote}")));
            same_file(&src, &o);
        }
    }
    // Loaders come from /usr/lib/ipxe whatever the root holds.
    let o = env.out("undionly.kpxe");
    run(Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&o)
        .arg(format!("tftp://127.0.0.1:{port}/undionly.kpxe")));
    same_file(std::path::Path::new("/usr/lib/ipxe/undionly.kpxe"), &o);
    // 3 sizes x (1 tftp-hpa + 4 atftp) + 2 sizes x 2 curl + 1 loader
    assert_eq!(Metrics::get(&env.metrics.tftp_completed), 20);
    assert_eq!(Metrics::get(&env.metrics.tftp_failed), 0);
}

#[test]
fn options_are_acknowledged_and_tsize_answered() {
    let env = Env::start("tftp-opts", BootConfig::default());
    let data = bytes(70_000, 7);
    env.put("tftp/a.bin", &data);
    let (got, oack) = raw_get(
        env.tftp(),
        b"a.bin",
        &[
            ("blksize", "1468"),
            ("tsize", "0"),
            ("timeout", "2"),
            ("foo", "1"),
        ],
    )
    .expect("transfer");
    assert_eq!(got, data);
    let oack: std::collections::HashMap<_, _> = oack.into_iter().collect();
    assert_eq!(oack.get("tsize").map(String::as_str), Some("70000"));
    assert_eq!(oack.get("blksize").map(String::as_str), Some("1468"));
    assert_eq!(oack.get("timeout").map(String::as_str), Some("2"));
    assert!(
        !oack.contains_key("foo"),
        "unknown options are not acknowledged: {oack:?}"
    );
    // Without options there is no OACK: data starts at once.
    let (got, oack) = raw_get(env.tftp(), b"a.bin", &[]).expect("transfer");
    assert_eq!(got, data);
    assert!(oack.is_empty());
    // Generated per-machine script over TFTP.
    let (s, _) = raw_get(env.tftp(), b"ipxe.cfg-52:54:00:00:00:09", &[]).expect("script");
    assert!(String::from_utf8_lossy(&s).contains("maas_purpose=enlist"));
}

#[test]
fn traversal_attempts_are_refused_and_counted() {
    tools();
    let env = Env::start("tftp-trav", BootConfig::default());
    env.put("outside/secret", b"secret");
    env.put("tftp/ok", b"fine");
    std::os::unix::fs::symlink(env.dir.join("outside/secret"), env.dir.join("tftp/link"))
        .expect("symlink");
    let long = "a/".repeat(200);
    let cases: Vec<&[u8]> = vec![
        b"../outside/secret",
        b"sub/../../outside/secret",
        b"/etc/passwd",
        b"..\\outside\\secret",
        b"link",
        long.as_bytes(),
        b"\xff\xfe",
    ];
    for c in &cases {
        assert_eq!(
            raw_get(env.tftp(), c, &[]).err(),
            Some(2),
            "{:?} must be refused",
            String::from_utf8_lossy(c)
        );
    }
    // A real client sends the name as typed.
    std::fs::create_dir_all(env.dir.join("out")).expect("mkdir");
    let port = env.tftp().port().to_string();
    let o = env.out("x");
    let out = Command::new("tftp")
        .args([
            "-m",
            "binary",
            "127.0.0.1",
            &port,
            "-c",
            "get",
            "../outside/secret",
        ])
        .arg(&o)
        .output()
        .expect("tftp");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.to_lowercase().contains("access violation"),
        "tftp-hpa output: {text}"
    );
    assert_ne!(std::fs::read(&o).unwrap_or_default(), b"secret");
    assert_eq!(
        Metrics::get(&env.metrics.tftp_refused_paths),
        cases.len() as u64 + 1
    );
    assert_eq!(Metrics::get(&env.metrics.tftp_started), 0);
    assert_eq!(raw_get(env.tftp(), b"missing", &[]).err(), Some(1));
    assert_eq!(
        raw_get(env.tftp(), b"ok", &[]).map(|x| x.0),
        Ok(b"fine".to_vec())
    );
}

#[test]
fn malformed_and_write_requests_are_dropped_or_refused() {
    let env = Env::start("tftp-bad", BootConfig::default());
    env.put("tftp/ok", b"fine");
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    for junk in [
        &b""[..],
        b"\x00",
        b"\x00\x01noterm",
        b"\x00\x09xx",
        b"\x00\x01f\x00octet\x00blksize\x00",
        b"\x00\x04\x00\x01",
    ] {
        s.send_to(junk, env.tftp()).expect("send");
    }
    s.send_to(b"\x00\x02up.bin\x00octet\x00", env.tftp())
        .expect("wrq");
    let mut buf = [0u8; 600];
    let (n, _) = s
        .recv_from(&mut buf)
        .expect("an error for the write request");
    assert_eq!(&buf[..4], &[0, 5, 0, 2], "{:?}", &buf[..n]);
    assert!(!env.dir.join("tftp/up.bin").exists());
    assert_eq!(
        raw_get(env.tftp(), b"ok", &[]).map(|x| x.0),
        Ok(b"fine".to_vec())
    );
    // the empty datagram may not even be delivered as one; the others are counted
    assert!(
        Metrics::get(&env.metrics.tftp_malformed) >= 5,
        "{}",
        Metrics::get(&env.metrics.tftp_malformed)
    );
}

#[test]
fn two_hundred_concurrent_transfers_complete() {
    let env = Env::start("tftp-conc", BootConfig::default());
    let data = bytes(150_000, 3);
    env.put("tftp/c.bin", &data);
    let server = env.tftp();
    let start = std::sync::Arc::new(std::sync::Barrier::new(200));
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                raw_get(server, b"c.bin", &[])
            })
        })
        .collect();
    for h in handles {
        let got = h.join().expect("client thread").expect("transfer");
        assert!(got.0 == data, "a concurrent transfer differs");
    }
    // A client is done once it has sent its last ACK; the server counts
    // the transfer when that ACK arrives, a moment later.
    let t0 = std::time::Instant::now();
    while Metrics::get(&env.metrics.tftp_completed) < 200 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(Metrics::get(&env.metrics.tftp_completed), 200);
    assert_eq!(Metrics::get(&env.metrics.tftp_failed), 0);
}
