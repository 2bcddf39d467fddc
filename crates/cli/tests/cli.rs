//! Black-box tests of the `maas` binary against a tiny in-process HTTP server
//! (std::net only) that serves a canned describe document and records requests.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

const KEY: &str = "ck123:tk456:ts789";

#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

struct Server {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Server {
            base: format!("http://{addr}"),
            requests,
        }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn last(&self) -> Recorded {
        self.requests().last().cloned().expect("a request was made")
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Recorded>>) {
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(req.clone());
    let (status, ctype, body) = respond(&req);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn json(v: serde_json::Value) -> (&'static str, &'static str, Vec<u8>) {
    ("200 OK", "application/json", v.to_string().into_bytes())
}

fn respond(req: &Recorded) -> (&'static str, &'static str, Vec<u8>) {
    let authorized = req
        .header("authorization")
        .and_then(parse_oauth)
        .is_some_and(|f| f["oauth_token"] == "tk456" && f["oauth_signature"] == "&ts789");
    match (req.method.as_str(), req.target.as_str()) {
        ("GET", "/MAAS/api/2.0/describe/") => json(describe()),
        (_, t) if !authorized && t.starts_with("/MAAS/api/2.0/") => (
            "401 Unauthorized",
            "text/plain",
            b"Authorization Error: Invalid API key.".to_vec(),
        ),
        ("GET", "/MAAS/api/2.0/users/?op=whoami") => json(serde_json::json!({"username": "admin"})),
        ("POST", "/MAAS/api/2.0/machines/?op=allocate") => (
            "409 Conflict",
            "text/plain",
            b"No available machine matches constraints: [('tags', ['gpu'])]".to_vec(),
        ),
        ("GET", t)
            if t.starts_with("/MAAS/api/2.0/machines/?") || t == "/MAAS/api/2.0/machines/" =>
        {
            json(serde_json::json!([
                {"hostname": "zeta", "system_id": "s2", "status_name": "Deployed", "power_state": "on",
                 "owner": "admin", "architecture": "amd64/generic", "cpu_count": 8, "memory": 16384,
                 "zone": {"name": "default"}, "pool": {"name": "default"}, "tag_names": ["gpu", "ssd"]},
                {"hostname": "alpha", "system_id": "s1", "status_name": "Ready", "power_state": "off",
                 "owner": null, "architecture": "arm64/generic", "cpu_count": 2, "memory": 3072,
                 "zone": {"name": "z1"}, "pool": {"name": "p1"}, "tag_names": []}
            ]))
        }
        ("GET", "/MAAS/api/2.0/rackcontrollers/") => json(serde_json::json!([
            {"hostname": "rack-a", "system_id": "r1", "version": "0.1.0",
             "connected_region": "region-1", "last_seen": "2026-05-01T10:00:00"}
        ])),
        // Anything else: echo the request back as JSON.
        _ => json(serde_json::json!({
            "method": req.method,
            "target": req.target,
            "content_type": req.header("content-type"),
            "body_len": req.body.len(),
        })),
    }
}

fn describe() -> serde_json::Value {
    // `uri` points at another host on purpose: the CLI must use the profile's.
    let handler = |name: &str, path: &str, params: &[&str], actions: serde_json::Value| {
        serde_json::json!({
            "name": name, "doc": format!("{name} doc.\n\n    More text."),
            "path": path, "uri": format!("http://elsewhere.invalid:5240{path}"),
            "params": params, "actions": actions,
        })
    };
    let a = |name: &str, method: &str, restful: bool| {
        serde_json::json!({"name": name, "method": method,
            "op": if restful { serde_json::Value::Null } else { name.into() },
            "restful": restful, "doc": format!("Do {name}.")})
    };
    serde_json::json!({
        "doc": "MAAS API",
        "resources": [
            {"name": "MachineHandler", "anon": null, "auth": handler(
                "MachineHandler", "/MAAS/api/2.0/machines/{system_id}/", &["system_id"],
                serde_json::json!([a("deploy", "POST", false), a("read", "GET", true),
                                   a("query_power_state", "GET", false), a("delete", "DELETE", true),
                                   a("update", "PUT", true)]))},
            {"name": "MachinesHandler", "anon": null, "auth": handler(
                "MachinesHandler", "/MAAS/api/2.0/machines/", &[],
                serde_json::json!([a("read", "GET", true), a("allocate", "POST", false)]))},
            {"name": "RackControllersHandler", "anon": null, "auth": handler(
                "RackControllersHandler", "/MAAS/api/2.0/rackcontrollers/", &[],
                serde_json::json!([a("read", "GET", true)]))},
            {"name": "UsersHandler", "anon": null, "auth": handler(
                "UsersHandler", "/MAAS/api/2.0/users/", &[],
                serde_json::json!([a("read", "GET", true), a("whoami", "GET", false)]))}
        ],
        "handlers": []
    })
}

fn parse_oauth(header: &str) -> Option<BTreeMap<String, String>> {
    let rest = header.strip_prefix("OAuth ")?;
    let mut out = BTreeMap::new();
    for field in rest.split(',') {
        let (k, v) = field.trim().split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        out.insert(k.to_string(), percent_decode(v));
    }
    Some(out)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// (name, filename, content) of each multipart part, in order.
fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<(String, Option<String>, Vec<u8>)> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart content type");
    let delim = format!("--{boundary}");
    let text = body.to_vec();
    let mut parts = Vec::new();
    let mut pos = 0;
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let first = find(&text, delim.as_bytes(), 0).expect("first boundary");
    assert_eq!(first, 0, "body starts with the boundary");
    pos += delim.len();
    loop {
        if text[pos..].starts_with(b"--") {
            assert_eq!(&text[pos..], b"--\r\n", "closing boundary ends the body");
            break;
        }
        assert!(text[pos..].starts_with(b"\r\n"));
        pos += 2;
        let head_end = find(&text, b"\r\n\r\n", pos).unwrap();
        let head = String::from_utf8(text[pos..head_end].to_vec()).unwrap();
        let next = find(&text, format!("\r\n{delim}").as_bytes(), head_end).unwrap();
        let content = text[head_end + 4..next].to_vec();
        let disp = head
            .lines()
            .find(|l| l.starts_with("Content-Disposition: form-data;"))
            .unwrap();
        let attr = |a: &str| {
            disp.split(';').map(str::trim).find_map(|kv| {
                kv.strip_prefix(&format!("{a}=\""))
                    .and_then(|v| v.strip_suffix('"'))
                    .map(str::to_string)
            })
        };
        parts.push((attr("name").unwrap(), attr("filename"), content));
        pos = next + 2 + delim.len();
    }
    parts
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("maas-cli-it-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn maas(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maas"));
    cmd.args(args)
        .env("MAAS_CLI_CONFIG", config)
        .env("MAAS_CLI_TIMEOUT", "20")
        .env_remove("MAAS_CLI_DEBUG");
    for v in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn login(server: &Server, config: &Path) {
    let out = maas(
        config,
        &["login", "admin", &format!("{}/MAAS", server.base), KEY],
        None,
    );
    assert!(out.status.success(), "login failed: {}", text(&out.stderr));
}

#[test]
fn login_then_generic_post_is_signed_multipart() {
    let server = Server::start();
    let dir = temp_dir("post");
    let config = dir.join("conf/profiles.json");
    login(&server, &config);

    // login: anonymous describe, then a signed whoami
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].target, "/MAAS/api/2.0/describe/");
    assert!(reqs[0].header("authorization").is_none());
    assert_eq!(reqs[1].target, "/MAAS/api/2.0/users/?op=whoami");

    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let p = &stored["profiles"]["admin"];
    assert_eq!(p["url"], format!("{}/MAAS/api/2.0/", server.base));
    assert_eq!(p["apikey"], KEY);
    assert_eq!(p["description"], describe());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let user_data = dir.join("user-data");
    std::fs::write(&user_data, "#cloud-config\npackages: [jq]\n").unwrap();
    let ud_arg = format!("user_data@={}", user_data.display());
    let out = maas(
        &config,
        &[
            "admin",
            "machine",
            "deploy",
            "abc123",
            "distro_series=jammy",
            "tags=a",
            "tags=b",
            "comment=x=y",
            &ud_arg,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // the echoed JSON is pretty-printed with 4-space indents
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\n    \"method\": \"POST\""), "{stdout}");
    let echoed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(echoed["target"], "/MAAS/api/2.0/machines/abc123/?op=deploy");

    let req = server.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/MAAS/api/2.0/machines/abc123/?op=deploy");
    assert_eq!(
        req.header("host").unwrap(),
        server.base.trim_start_matches("http://")
    );
    let parts = parse_multipart(req.header("content-type").unwrap(), &req.body);
    let want: Vec<(String, Option<String>, Vec<u8>)> = vec![
        ("distro_series".into(), None, b"jammy".to_vec()),
        ("tags".into(), None, b"a".to_vec()),
        ("tags".into(), None, b"b".to_vec()),
        ("comment".into(), None, b"x=y".to_vec()),
        (
            "user_data".into(),
            Some("user-data".into()),
            b"#cloud-config\npackages: [jq]\n".to_vec(),
        ),
    ];
    assert_eq!(parts, want);

    let auth = req.header("authorization").unwrap();
    assert!(auth.starts_with("OAuth realm=\"\", "), "{auth}");
    assert!(auth.contains("oauth_signature=\"%26ts789\""), "{auth}");
    let f = parse_oauth(auth).unwrap();
    assert_eq!(f["oauth_consumer_key"], "ck123");
    assert_eq!(f["oauth_token"], "tk456");
    assert_eq!(f["oauth_signature"], "&ts789");
    assert_eq!(f["oauth_signature_method"], "PLAINTEXT");
    assert_eq!(f["oauth_version"], "1.0");
    assert!(!f["oauth_nonce"].is_empty());
    let ts: u64 = f["oauth_timestamp"].parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(ts) < 120);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn get_put_delete_shapes() {
    let server = Server::start();
    let dir = temp_dir("shapes");
    let config = dir.join("profiles.json");
    login(&server, &config);

    let out = maas(
        &config,
        &["admin", "machine", "query-power-state", "abc"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let req = server.last();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("GET", "/MAAS/api/2.0/machines/abc/?op=query_power_state")
    );
    assert!(req.body.is_empty());

    let out = maas(
        &config,
        &["admin", "machine", "delete", "abc", "force=true"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let req = server.last();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("DELETE", "/MAAS/api/2.0/machines/abc/?force=true")
    );

    let out = maas(
        &config,
        &["admin", "machine", "update", "abc", "hostname=new name"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let req = server.last();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("PUT", "/MAAS/api/2.0/machines/abc/")
    );
    let parts = parse_multipart(req.header("content-type").unwrap(), &req.body);
    assert_eq!(
        parts,
        vec![("hostname".to_string(), None, b"new name".to_vec())]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn conflict_exits_2_with_message_on_stderr() {
    let server = Server::start();
    let dir = temp_dir("conflict");
    let config = dir.join("profiles.json");
    login(&server, &config);

    let out = maas(
        &config,
        &["admin", "machines", "allocate", "tags=gpu"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("HTTP 409 Conflict"), "{stderr}");
    assert!(
        stderr.contains("No available machine matches constraints"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let req = server.last();
    assert_eq!(req.target, "/MAAS/api/2.0/machines/?op=allocate");
    let parts = parse_multipart(req.header("content-type").unwrap(), &req.body);
    assert_eq!(parts, vec![("tags".to_string(), None, b"gpu".to_vec())]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn login_rejections_and_key_from_stdin() {
    let server = Server::start();
    let dir = temp_dir("login");
    let config = dir.join("profiles.json");
    let url = format!("{}/MAAS/", server.base);

    let out = maas(&config, &["login", "admin", &url, "ck:tk:wrong"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("rejected the API key (401)"),
        "{}",
        text(&out.stderr)
    );
    assert!(!config.exists(), "nothing stored for a rejected key");

    let out = maas(&config, &["login", "admin", &url, "only:two"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid API key"));

    let out = maas(
        &config,
        &["login", "admin", "https://example.com/MAAS", KEY],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not supported yet"));

    // the key may come from stdin; the URL may already name api/2.0
    let out = maas(
        &config,
        &[
            "login",
            "viaStdin",
            &format!("{}/MAAS/api/2.0", server.base),
            "-",
        ],
        Some(&format!("{KEY}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("maas viaStdin --help"));

    let out = maas(&config, &["list"], None);
    assert_eq!(
        text(&out.stdout),
        format!("viaStdin {}/MAAS/api/2.0/\n", server.base)
    );
    let out = maas(&config, &["refresh"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = maas(&config, &["logout", "viaStdin"], None);
    assert!(out.status.success());
    assert_eq!(text(&maas(&config, &["list"], None).stdout), "");
    let out = maas(&config, &["logout", "viaStdin"], None);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unreachable_region_exits_1_naming_the_url() {
    // Bind then drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = temp_dir("unreachable");
    let url = format!("http://127.0.0.1:{port}/MAAS");
    let out = maas(&dir.join("p.json"), &["login", "admin", &url, KEY], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot reach the region") && stderr.contains(&url),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn usage_errors_list_what_exists() {
    let server = Server::start();
    let dir = temp_dir("usage");
    let config = dir.join("profiles.json");
    login(&server, &config);
    let before = server.requests().len();

    let out = maas(&config, &["nosuch", "machines", "read"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown profile 'nosuch'")
            && text(&out.stderr).contains("admin")
    );

    let out = maas(&config, &["admin", "gizmos", "read"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown resource 'gizmos'"), "{stderr}");
    assert!(
        stderr.contains("machine, machines, rack-controllers, users"),
        "{stderr}"
    );

    let out = maas(&config, &["admin", "machine", "explode", "x"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown action 'explode'") && stderr.contains("query-power-state"),
        "{stderr}"
    );

    let out = maas(&config, &["admin", "machine", "deploy"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("missing argument(s): <system_id>"),
        "{stderr}"
    );

    let out = maas(&config, &["admin", "machines", "read", "extra"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument 'extra'"));

    // help listings come from the describe document
    let out = maas(&config, &["admin", "--help"], None);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("rack-controllers")
            && text(&out.stdout).contains("MachinesHandler doc.")
    );
    let out = maas(&config, &["admin", "machine", "--help"], None);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("query-power-state") && text(&out.stdout).contains("Do deploy.")
    );
    let out = maas(&config, &["admin", "machine", "deploy", "--help"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("usage: maas admin machine deploy <system_id>"));
    let out = maas(&config, &["admin"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("machines"));

    assert_eq!(
        server.requests().len(),
        before,
        "usage errors make no requests"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn list_tables() {
    let server = Server::start();
    let dir = temp_dir("tables");
    let config = dir.join("profiles.json");
    login(&server, &config);

    let out = maas(
        &config,
        &["admin", "machines", "list", "status=ready", "tags=gpu"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        server.last().target,
        "/MAAS/api/2.0/machines/?status=ready&tags=gpu"
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for col in [
        "HOSTNAME",
        "SYSTEM_ID",
        "STATUS",
        "POWER",
        "OWNER",
        "ARCH",
        "CPUS",
        "RAM",
        "ZONE",
        "POOL",
        "TAGS",
    ] {
        assert!(lines[0].contains(col), "{col} missing: {stdout}");
    }
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        row,
        [
            "alpha",
            "s1",
            "Ready",
            "off",
            "-",
            "arm64/generic",
            "2",
            "3",
            "GiB",
            "z1",
            "p1",
            "-"
        ]
    );
    assert!(
        lines[2].starts_with("zeta") && lines[2].contains("16 GiB") && lines[2].contains("gpu,ssd")
    );

    let out = maas(&config, &["admin", "machines", "list", "--json"], None);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);

    let out = maas(&config, &["admin", "rack-controllers", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("VERSION") && stdout.contains("REGION") && stdout.contains("LAST_SEEN")
    );
    assert!(
        stdout.contains("rack-a")
            && stdout.contains("region-1")
            && stdout.contains("2026-05-01T10:00:00")
    );
    std::fs::remove_dir_all(dir).unwrap();
}
