//! HTTP boot server with curl: Range, Content-Length, loaders, per-machine
//! iPXE scripts, a config swap, the metadata proxy, refused paths.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Env, bytes, run, same_file};
use maas_boot::{BootConfig, Machine, Metrics};

const M1: &str = "52:54:00:00:00:01";

fn machine(status: &str) -> Machine {
    Machine {
        system_id: "xyz789".into(),
        hostname: "node1".into(),
        status: status.into(),
        arch: "amd64/generic".into(),
        osystem: "ubuntu".into(),
        distro_series: "noble".into(),
        kernel_opts: "nosplash".into(),
        local_boot: false,
    }
}

fn config(machines: &[(&str, Machine)]) -> BootConfig {
    BootConfig {
        machines: machines
            .iter()
            .map(|(m, x)| (m.to_string(), x.clone()))
            .collect::<BTreeMap<_, _>>(),
        kernel_opts: "console=ttyS0".into(),
        ..Default::default()
    }
}

/// curl: (status line + headers, body).
fn get(url: &str, extra: &[&str]) -> (String, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-sS", "--path-as-is", "-D", "-", "-o", "/dev/stderr"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.stderr,
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The final status (after any `100 Continue`).
fn status(head: &str) -> u16 {
    let last = head.rfind("HTTP/").map_or(head, |i| &head[i..]);
    last.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn ranges_and_content_length() {
    maas_lab::require_tools(&["curl"]).expect("curl");
    let env = Env::start("http-range", BootConfig::default());
    let data = bytes(1_000_000, 11);
    env.put("img/ephemeral/amd64/kernel", &data);
    let url = format!("{}/images/ephemeral/amd64/kernel", env.http());
    let (h, b) = get(&url, &[]);
    assert_eq!(status(&h), 200, "{h}");
    assert_eq!(header(&h, "content-length"), Some("1000000"));
    assert_eq!(header(&h, "accept-ranges"), Some("bytes"));
    assert!(b == data);
    let cases: [(&str, usize, usize); 4] = [
        ("10-99", 10, 99),
        ("999990-", 999_990, 999_999),
        ("-5", 999_995, 999_999),
        ("0-0", 0, 0),
    ];
    for (r, a, z) in cases {
        let (h, b) = get(&url, &["-r", r]);
        assert_eq!(status(&h), 206, "{r}: {h}");
        assert_eq!(
            header(&h, "content-range"),
            Some(format!("bytes {a}-{z}/1000000").as_str()),
            "{r}"
        );
        assert_eq!(
            header(&h, "content-length"),
            Some((z - a + 1).to_string().as_str()),
            "{r}"
        );
        assert!(b == data[a..=z], "{r}: body differs");
    }
    let (h, _) = get(&url, &["-r", "1000000-"]);
    assert_eq!(status(&h), 416, "{h}");
    assert_eq!(header(&h, "content-range"), Some("bytes */1000000"));
    // HEAD: length without a body (curl -I writes only the headers)
    let (h, b) = get(&url, &["-I"]);
    assert_eq!(header(&h, "content-length"), Some("1000000"));
    assert!(b.len() < 1000, "HEAD returned {} bytes", b.len());
    // loaders over HTTP, byte-identical
    let o = env.dir.join("snponly.efi");
    run(Command::new("curl")
        .args(["-sSf", "-o"])
        .arg(&o)
        .arg(format!("{}/boot/snponly.efi", env.http())));
    same_file(std::path::Path::new("/usr/lib/ipxe/snponly.efi"), &o);
    let (h, _) = get(&format!("{}/boot/nope.efi", env.http()), &[]);
    assert_eq!(status(&h), 404);
}

#[test]
fn refused_paths_over_http() {
    let env = Env::start("http-trav", BootConfig::default());
    env.put("outside/secret", b"secret");
    std::os::unix::fs::symlink(env.dir.join("outside/secret"), env.dir.join("img/link"))
        .expect("symlink");
    for p in [
        "/images/../outside/secret",
        "/images/a/../../outside/secret",
        "/images/link",
        "/images/%2e%2e/outside/secret",
    ] {
        let (h, b) = get(&format!("{}{p}", env.http()), &[]);
        assert!(matches!(status(&h), 403 | 404), "{p}: {h}");
        assert!(b != b"secret", "{p} leaked the file");
    }
    assert!(
        Metrics::get(&env.metrics.http_refused_paths) >= 3,
        "{}",
        Metrics::get(&env.metrics.http_refused_paths)
    );
}

#[test]
fn per_machine_scripts_follow_the_machine_state() {
    let mut env = Env::start("http-scripts", config(&[(M1, machine("commissioning"))]));
    let script = |mac: &str| {
        let (h, b) = get(&format!("{}/ipxe.cfg-{mac}", env.http()), &[]);
        assert_eq!(status(&h), 200, "{h}");
        String::from_utf8(b).expect("utf-8")
    };
    let base = env.http();
    // the generic script chains by MAC
    let (_, g) = get(&format!("{base}/ipxe.cfg"), &[]);
    assert!(
        String::from_utf8_lossy(&g)
            .contains(&format!("chain --replace {base}/ipxe.cfg-${{mac:hexhyp}}"))
    );
    // unknown MAC: enlistment
    let s = script("52-54-00-99-99-99");
    assert!(
        s.contains("maas_purpose=enlist") && !s.contains("maas_system_id"),
        "{s}"
    );
    assert!(
        s.contains(&format!("maas_url={base}/MAAS/metadata/")),
        "{s}"
    );
    // commissioning, iPXE's hexhyp spelling
    let s = script("52-54-00-00-00-01");
    assert!(
        s.contains(&format!(
            "kernel {base}/images/ephemeral/amd64/kernel initrd=initrd "
        )),
        "{s}"
    );
    assert!(s.contains("maas_purpose=commissioning maas_system_id=xyz789 maas_hostname=node1 console=ttyS0 nosplash"), "{s}");
    assert!(
        s.contains(&format!(
            "initrd {base}/images/ephemeral/amd64/initrd\nboot\n"
        )),
        "{s}"
    );
    // deploying, then deployed: the swap applies to the very next request
    env.config.store(config(&[(M1, machine("deploying"))]));
    assert!(script(M1).contains("maas_purpose=deploying"));
    env.config.store(config(&[(M1, machine("deployed"))]));
    let s = script(M1);
    assert!(s.contains("exit") && !s.contains("kernel"), "{s}");
    env.config.store(config(&[(M1, machine("ready"))]));
    assert!(!script(M1).contains("kernel"));
    // a configured rack URL wins over the Host header
    env.config.store(BootConfig {
        rack_url: Some("http://10.9.9.9:5248/".into()),
        ..config(&[])
    });
    assert!(script(M1).contains("http://10.9.9.9:5248/images/ephemeral/amd64/kernel"));
    // events: one per script, with MAC and purpose
    let mut evs = Vec::new();
    while let Ok(e) = env.events.try_recv() {
        evs.push(e);
    }
    let purposes: Vec<_> = evs.iter().map(|e| e.purpose.as_str()).collect();
    assert_eq!(
        purposes,
        [
            "enlist",
            "commissioning",
            "deploying",
            "local",
            "local",
            "enlist"
        ],
        "{evs:?}"
    );
    assert_eq!(evs[1].mac, M1);
    assert_eq!(evs[1].arch, "amd64/generic");
    assert_eq!(evs[1].remote_ip, "127.0.0.1");
}

#[test]
fn metadata_is_proxied_to_the_region() {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    let env = Env::start("http-proxy", BootConfig::default());
    // A tiny region: echoes what it saw.
    let upstream = env.rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        let app = axum::Router::new().fallback(
            |m: Method, u: Uri, h: HeaderMap, body: Bytes| async move {
                let xff = h
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                (
                    [("x-region", "yes")],
                    format!("{m} {u} xff={xff} body={}", body.len()),
                )
            },
        );
        tokio::spawn(async move { axum::serve(l, app).await });
        addr
    });
    let url = format!("{}/MAAS/metadata/2012-03-01/meta-data/?op=x", env.http());
    let (h, _) = get(&url, &[]);
    assert_eq!(status(&h), 503, "no region configured yet: {h}");
    env.config.store(BootConfig {
        region_url: Some(format!("http://{upstream}")),
        ..Default::default()
    });
    let (h, b) = get(&url, &[]);
    assert_eq!(status(&h), 200, "{h}");
    assert_eq!(header(&h, "x-region"), Some("yes"));
    assert_eq!(
        String::from_utf8_lossy(&b),
        "GET /MAAS/metadata/2012-03-01/meta-data/?op=x xff=127.0.0.1 body=0"
    );
    // a streamed upload
    let big = env.put("upload.bin", &bytes(1_500_000, 5));
    let (h, b) = get(
        &format!("{}/MAAS/metadata/status/abc", env.http()),
        &[
            "-X",
            "POST",
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            &format!("@{}", big.display()),
        ],
    );
    assert_eq!(status(&h), 200, "{h}");
    assert_eq!(
        String::from_utf8_lossy(&b),
        "POST /MAAS/metadata/status/abc xff=127.0.0.1 body=1500000"
    );
    // enlistment (`machines/`) is proxied, the rest of the API is not
    let (h, _) = get(&format!("{}/MAAS/api/2.0/machines/", env.http()), &[]);
    assert_eq!(status(&h), 200, "{h}");
    let (h, _) = get(&format!("{}/MAAS/api/2.0/users/", env.http()), &[]);
    assert_eq!(status(&h), 404, "{h}");
    // region down: 502
    env.config.store(BootConfig {
        region_url: Some("http://127.0.0.1:1".into()),
        ..Default::default()
    });
    let (h, _) = get(&url, &[]);
    assert_eq!(status(&h), 502, "{h}");
    assert_eq!(
        env.metrics
            .http_requests_for(maas_boot::metrics::Route::Metadata),
        5,
        "four metadata requests and one enlistment"
    );
}
