//! Deployment end to end in qemu, against a stub of the region's boot
//! endpoints (`maas-task` is the region's next piece): the ephemeral
//! environment streams the tiny image (gz) onto the VM's disk, re-reads the
//! partition table, writes the datasource into the partition and reboots;
//! the disk then boots by itself (SeaBIOS → syslinux) and the deployed OS
//! reads its keys and user data with the token the agent wrote.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maas_lab::{DirectSpec, Link, Proc, can_make_namespaces, which};
use maas_testkit::tempdir;
use serde_json::json;
use sha2::{Digest, Sha256};

const MAC: &str = "52:54:00:5a:00:02";
const KEYS: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheLab lab@test\n";
const USER_DATA: &str = "#!/bin/sh\necho hello from user data\n";

/// One request as the stub saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    auth: String,
    body: String,
}

struct Stub {
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn handle(mut s: TcpStream, task: &str, image: &[u8], seen: &Mutex<Vec<Seen>>) {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let (mut len, mut auth) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or(("", ""));
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0),
            "authorization" => auth = v.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        auth,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let reply: (u16, Vec<u8>) = match path.as_str() {
        "/MAAS/metadata/latest/maas-task" => (200, task.as_bytes().to_vec()),
        "/images/tiny" => (200, image.to_vec()),
        "/MAAS/metadata/latest/meta-data/local-hostname" => (200, b"tiny1".to_vec()),
        "/MAAS/metadata/latest/meta-data/public-keys" => (200, KEYS.as_bytes().to_vec()),
        "/MAAS/metadata/latest/user-data" => (200, USER_DATA.as_bytes().to_vec()),
        p if method == "POST" && p.starts_with("/MAAS/metadata/latest/?op=") => {
            (200, b"OK".to_vec())
        }
        _ => (404, b"not here".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.0,
        reply.1.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(&reply.1);
}

/// The stub listens on `addr` inside `ns`.
fn stub(ns: &maas_lab::Netns, addr: &str, task: String, image: Vec<u8>) -> Stub {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let (seen2, stop2, addr) = (seen.clone(), stop.clone(), addr.to_string());
    ns.spawn(move || {
        let l = TcpListener::bind(&addr).unwrap();
        l.set_nonblocking(true).unwrap();
        tx.send(()).unwrap();
        let image = Arc::new(image);
        while !stop2.load(Ordering::Relaxed) {
            match l.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    let (task, image, seen) = (task.clone(), image.clone(), seen2.clone());
                    std::thread::spawn(move || handle(s, &task, &image, &seen));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    })
    .unwrap();
    rx.recv().unwrap();
    Stub { seen, stop }
}

fn wait_exit(vm: &mut Proc, spec: &DirectSpec, what: &str) {
    if vm.wait_timeout(Duration::from_secs(280)).is_err() {
        panic!(
            "{what}: the VM is still running; console:\n{}",
            spec.console()
        );
    }
}

#[test]
fn deployment_writes_the_image_and_the_deployed_os_reads_its_datasource() {
    if !can_make_namespaces() {
        eprintln!("SKIP: needs root and iproute2 for network namespaces");
        return;
    }
    for tool in ["qemu-system-x86_64", "dnsmasq"] {
        assert!(which(tool).is_some(), "{tool} is missing (.ci/packages)");
    }
    let tmp = tempdir::Dir::new();
    let (eph, tiny) = (tmp.0.join("ephemeral"), tmp.0.join("tiny"));
    common::build("build-ephemeral", &eph, &[]);
    common::build(
        "build-tiny-image",
        &tiny,
        &["--append", "maas_test_poweroff"],
    );
    let image = std::fs::read(tiny.join("root-dd.raw.gz")).unwrap();

    let p = "10.81.2";
    let l = Link::new(p).unwrap();
    let url = format!("http://{p}.1:5248/MAAS/metadata/");
    let task = json!({
        "purpose": "deploying", "system_id": "abc123", "hostname": "tiny1", "domain": "maas",
        "deploy": {
            "osystem": "custom", "distro_series": "tiny",
            "image": {"url": "/images/tiny", "filetype": "root-dd.gz",
                      "sha256": hex::encode(Sha256::digest(&image)), "size": image.len()},
            "disk": {"name": "vda", "serial": "deploy-disk", "size": 268435456},
            "network": {"ethernets": {"eth0": {"match": {"macaddress": MAC}, "dhcp4": true}}},
            "datasource": {"metadata_url": url, "consumer_key": "ck2",
                           "token_key": "tk2", "token_secret": "ts2"}
        }
    });
    let stub = stub(&l.srv, &format!("{p}.1:5248"), task.to_string(), image);
    let mut dnsmasq = l.srv.cmd("dnsmasq");
    dnsmasq
        .args(["-k", "-C", "/dev/null", "--port=0", "--interface=eth0"])
        .args(["--bind-interfaces", "--no-ping", "--dhcp-authoritative"])
        .arg(format!("--dhcp-range={p}.100,{p}.199,255.255.255.0,10m"))
        .arg(format!(
            "--dhcp-leasefile={}",
            tmp.0.join("leases").display()
        ))
        .arg("--user=root")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _dhcp = Proc::spawn(dnsmasq).unwrap();
    l.cli.bridge("br0").unwrap();
    l.cli.ip(&["link", "set", "eth0", "master", "br0"]).unwrap();
    l.cli.tap("tap0", "br0").unwrap();
    let disk = tmp.0.join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();

    // Boot 1: the ephemeral environment deploys and reboots (qemu exits).
    let mut spec = DirectSpec {
        kernel: Some(eph.join("vmlinux")),
        initrd: Some(eph.join("initrd")),
        append: format!(
            "console=ttyS0 panic=-1 quiet maas_url={url} maas_purpose=deploying \
             maas_system_id=abc123 maas_creds=ck1:tk1:ts1"
        ),
        mac: MAC.into(),
        tap: "tap0".into(),
        memory_mb: 512,
        cpus: 1,
        disk: Some((disk.clone(), "deploy-disk".into())),
        dir: tmp.0.join("vm1"),
        devices: vec![],
        time_limit: Duration::from_secs(300),
    };
    let mut vm = l.cli.start_direct(&spec).unwrap();
    wait_exit(&mut vm, &spec, "deploying");
    let console = spec.console();
    eprintln!("deploy console:\n{console}");
    assert!(console.contains("MAAS-AGENT: deploying done"), "{console}");
    assert!(console.contains("MAAS-AGENT: reboot now"), "{console}");
    let seen = stub.seen.lock().unwrap().clone();
    let signals: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.contains("op=signal"))
        .collect();
    assert!(
        signals
            .iter()
            .all(|s| s.auth.contains("oauth_token=\"tk1\""))
    );
    assert!(
        signals
            .iter()
            .any(|s| s.body.contains("Rebooting into the installed OS")),
        "{signals:?}"
    );
    assert!(
        !signals.iter().any(|s| s.body.contains("FAILED")),
        "{signals:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.method == "POST" && s.path.ends_with("op=netboot_off"))
    );

    // Boot 2: the disk alone; the deployed OS uses the token written to it.
    spec.kernel = None;
    spec.dir = tmp.0.join("vm2");
    let mut vm = l.cli.start_direct(&spec).unwrap();
    wait_exit(&mut vm, &spec, "deployed OS");
    let console = spec.console();
    eprintln!("deployed console:\n{console}");
    let want = format!(
        "MAAS-DEPLOYED: hostname=tiny1 keys_sha256={} user_data_sha256={}",
        hex::encode(Sha256::digest(KEYS)),
        hex::encode(Sha256::digest(USER_DATA))
    );
    assert!(console.contains(&want), "{want}\n{console}");
    assert!(console.contains("MAAS-DEPLOYED: user-data: #!/bin/sh"));
    let seen = stub.seen.lock().unwrap().clone();
    let ud = seen
        .iter()
        .find(|s| s.path.ends_with("/user-data"))
        .expect("user-data read");
    assert!(ud.auth.contains("oauth_token=\"tk2\""), "{ud:?}");
    assert!(ud.auth.contains("oauth_signature=\"&ts2\""), "{ud:?}");
}
