//! Recorded-response ("golden") test of the REST API on the wire. A fixed
//! script of requests runs against a fresh region; every request's method,
//! path+query, params, status, Content-Type (and cursor / auth headers) and
//! raw body text — byte for byte, so key order and number formatting count —
//! go into a transcript that must equal `tests/golden/wire.txt`.
//!
//! Only what varies between runs is normalised, textually: system ids
//! (→ SYSTEM_ID_n in order of first appearance), API token parts (→ KEY_n),
//! UUIDs the region made (→ UUID_n; those a request gave stay),
//! timestamps (→ <TIMESTAMP>) and the region's address (→ <REGION>). MACs
//! and hostnames are fixed in the requests; database ids are deterministic.
//!
//! After an intended API change, re-record and review the diff:
//!   MAAS_UPDATE_GOLDEN=1 cargo nextest run -p maas-region --test wire

use maas_testkit as common;

use common::{Api, TestRegion};
use serde_json::Value;
use sha2::{Digest, Sha256};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/wire.txt");
const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbR0G7v1y7l2uK0dC0yqyI1T4gWqI2m7a1Tt4bI5yTQ me@host";
const HARDWARE: &str = r#"{"cpu_count": 16, "memory": 65536, "disks": [{"name": "sda", "size": 500000000000, "tags": ["ssd"]}]}"#;

/// What a request carries besides its path.
enum Body<'a> {
    /// `a=1&b=2` (url-encoded): the query string for GET/DELETE, a form otherwise.
    Params(&'a str),
    /// Multipart text fields (url-encoded like `Params`) and an optional file.
    Multipart(&'a str, Option<(&'a str, &'a str)>),
    /// A raw body with its Content-Type.
    Raw(&'a str, &'a str),
}

/// One request and its response, before normalisation.
struct Exchange {
    head: String,
    status: u16,
    headers: String,
    body: String,
    /// Record only a digest and a prefix of the body (describe/).
    digest: bool,
}

struct Wire {
    clients: Vec<(&'static str, Api)>,
    addr: String,
    log: Vec<Exchange>,
    sids: Vec<String>,
    keys: Vec<String>,
    stamps: Vec<String>,
    uuids: Vec<String>,
    vars: Vec<(String, String)>,
}

fn pairs(s: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(s).expect("params are url-encoded")
}

fn is_timestamp(s: &str) -> bool {
    use chrono::NaiveDateTime as N;
    [
        "%a, %d %b. %Y %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .any(|f| N::parse_from_str(s, f).is_ok())
        || chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::DateTime::parse_from_rfc2822(s).is_ok()
}

/// Replace `needle` where it is not part of a longer alphanumeric word.
fn replace_word(text: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(needle) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + needle.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..i]);
        out.push_str(if word(before) || word(after) {
            needle
        } else {
            with
        });
        rest = &rest[i + needle.len()..];
    }
    out.push_str(rest);
    out
}

impl Wire {
    fn new(r: &TestRegion) -> Wire {
        let mut w = Wire {
            clients: vec![
                ("admin", r.admin.clone()),
                ("alice", r.alice.clone()),
                ("anon", r.anon.clone()),
            ],
            addr: r.running.as_ref().unwrap().addr.to_string(),
            log: Vec::new(),
            sids: Vec::new(),
            keys: Vec::new(),
            stamps: Vec::new(),
            uuids: Vec::new(),
            vars: Vec::new(),
        };
        for api in [&r.admin, &r.alice] {
            w.learn_token(api.key.as_deref().unwrap());
        }
        w
    }

    fn api(&self, who: &str) -> &Api {
        &self.clients.iter().find(|(n, _)| *n == who).unwrap().1
    }

    fn learn_token(&mut self, t: &str) {
        for part in t.split(':').filter(|p| !p.is_empty()) {
            if !self.keys.iter().any(|k| k == part) {
                self.keys.push(part.to_string());
            }
        }
    }

    /// Remember what varies between runs in a response.
    fn learn(&mut self, key: &str, v: &Value) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, v)| self.learn(k, v)),
            Value::Array(a) => a.iter().for_each(|v| self.learn(key, v)),
            Value::String(s) => {
                if ["system_id", "node"].contains(&key)
                    && maas_model::ids::is_valid_system_id(s)
                    && !self.sids.contains(s)
                {
                    self.sids.push(s.clone());
                } else if ["consumer_key", "token_key", "token_secret", "token"].contains(&key) {
                    self.learn_token(s);
                } else if is_timestamp(s) && !self.stamps.contains(s) {
                    self.stamps.push(s.clone());
                } else if key == "uuid" && s.len() == 36 && !self.uuids.contains(s) {
                    self.uuids.push(s.clone());
                }
            }
            _ => {}
        }
    }

    async fn send(
        &mut self,
        who: &str,
        method: &str,
        path: &str,
        body: Body<'_>,
        digest: bool,
    ) -> Value {
        let api = self.api(who).clone();
        let method: reqwest::Method = method.parse().unwrap();
        let mut rb = api.http.request(method.clone(), api.url(path));
        let mut shown = String::new();
        match body {
            Body::Params(p)
                if method == reqwest::Method::GET || method == reqwest::Method::DELETE =>
            {
                rb = rb.query(&pairs(p));
            }
            Body::Params(p) => {
                rb = rb.form(&pairs(p));
                if !p.is_empty() {
                    shown = format!("form: {p}\n");
                }
            }
            Body::Multipart(p, file) => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in pairs(p) {
                    form = form.text(k, v);
                }
                shown = format!("multipart: {p}\n");
                if let Some((name, data)) = file {
                    let part = reqwest::multipart::Part::bytes(data.as_bytes().to_vec());
                    form = form.part(name.to_string(), part.file_name(name.to_string()));
                    shown.push_str(&format!("file {name}: {data}\n"));
                }
                rb = rb.multipart(form);
            }
            Body::Raw(ct, b) => {
                rb = rb.header("content-type", ct).body(b.to_string());
                shown = format!("{ct}: {b}\n");
            }
        }
        if let Some(h) = api.auth_header() {
            rb = rb.header("Authorization", h);
        }
        let req = rb.build().unwrap();
        let url = req.url().clone();
        let pq = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let resp = api.http.execute(req).await.expect("request sent");
        let status = resp.status().as_u16();
        let mut headers = String::new();
        for h in [
            "content-type",
            "x-maas-next-cursor",
            "www-authenticate",
            "allow",
        ] {
            if let Some(v) = resp.headers().get(h) {
                headers.push_str(&format!(" {h}: {}", v.to_str().unwrap()));
            }
        }
        let text = resp.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.learn("", &v);
        self.log.push(Exchange {
            head: format!(">>> {who} {method} {pq}\n{shown}"),
            status,
            headers,
            body: text,
            digest,
        });
        v
    }

    fn var(&self, name: &str) -> String {
        let v = self.vars.iter().find(|(n, _)| n == name);
        v.unwrap_or_else(|| panic!("no {{{name}}} yet")).1.clone()
    }

    /// Run a script (see `USERS_AND_PLACES`).
    async fn script(&mut self, script: &str) {
        for line in script
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (req, keep) = line.split_once(" => ").unwrap_or((line, ""));
            let mut req = req.to_string();
            for (name, v) in &self.vars {
                req = req.replace(&format!("{{{name}}}"), v);
            }
            let mut f = req.split_whitespace();
            let (who, method, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let params = f.next().unwrap_or("");
            let v = self
                .send(who, method, path, Body::Params(params), false)
                .await;
            if let Some((name, field)) = keep.split_once('=') {
                let got = match &v[field] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("{line}: no {field} in {other}"),
                };
                self.vars.push((name.to_string(), got));
            }
        }
    }

    /// The whole transcript, normalised.
    fn transcript(&self) -> String {
        let raw: String = self
            .log
            .iter()
            .map(|e| format!("{}{}", e.head, e.body))
            .collect();
        // Placeholders are numbered by first appearance in the transcript.
        let first = |s: &String| replace_word(&raw, s, "\u{0}").find('\u{0}');
        let mut sids = self.sids.clone();
        sids.sort_by_key(first);
        let mut keys = self.keys.clone();
        keys.sort_by_key(first);
        let mut uuids: Vec<String> = self
            .uuids
            .iter()
            .filter(|u| !self.log.iter().any(|e| e.head.contains(u.as_str())))
            .cloned()
            .collect();
        uuids.sort_by_key(first);
        let mut subs: Vec<(String, String)> = vec![(self.addr.clone(), "<REGION>".into())];
        subs.extend(
            self.stamps
                .iter()
                .map(|s| (s.clone(), "<TIMESTAMP>".into())),
        );
        subs.extend(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), format!("KEY_{}", i + 1))),
        );
        subs.extend(
            sids.iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), format!("SYSTEM_ID_{}", i + 1))),
        );
        subs.extend(
            uuids
                .iter()
                .enumerate()
                .map(|(i, u)| (u.clone(), format!("UUID_{}", i + 1))),
        );
        let norm = |t: &str| {
            subs.iter()
                .fold(t.to_string(), |t, (from, to)| replace_word(&t, from, to))
        };
        let mut out = String::new();
        for e in &self.log {
            let mut body = norm(&e.body);
            let len = body.len();
            if e.digest {
                let hash = hex::encode(Sha256::digest(body.as_bytes()));
                let prefix: String = body.chars().take(300).collect();
                body = format!("sha256 {hash}; starts: {prefix}");
            }
            out.push_str(&norm(&e.head));
            out.push_str(&format!(
                "<<< {}{} ({} bytes)\n{body}\n\n",
                e.status, e.headers, len
            ));
        }
        out
    }
}

/// Up to a few differing lines, with context; long lines are cut around the
/// first differing column.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let i = (0..w.len().max(g.len()))
        .find(|&i| w.get(i) != g.get(i))
        .unwrap_or(0);
    let cut = |l: &str, col: usize| -> String {
        let start = l.floor_char_boundary(col.saturating_sub(120));
        let end = l.ceil_char_boundary((col + 120).min(l.len()));
        format!(
            "{}{}{}",
            if start > 0 { "…" } else { "" },
            &l[start..end],
            if end < l.len() { "…" } else { "" }
        )
    };
    let mut out = format!("first difference at line {} of {GOLDEN}:\n", i + 1);
    for l in &w[i.saturating_sub(4)..i.min(w.len())] {
        out.push_str(&format!("  {}\n", cut(l, 0)));
    }
    for j in i..(i + 6).min(w.len().max(g.len())) {
        let (a, b) = (w.get(j).copied(), g.get(j).copied());
        if a == b {
            out.push_str(&format!("  {}\n", cut(a.unwrap_or(""), 0)));
            continue;
        }
        let col = a
            .unwrap_or("")
            .bytes()
            .zip(b.unwrap_or("").bytes())
            .take_while(|(x, y)| x == y)
            .count();
        if let Some(a) = a {
            out.push_str(&format!("- {}\n", cut(a, col)));
        }
        if let Some(b) = b {
            out.push_str(&format!("+ {}\n", cut(b, col)));
        }
    }
    out
}

/// The script: one request per line, `who METHOD path [params]`; params are
/// url-encoded (the query for GET/DELETE, a form otherwise). `=> name=field`
/// keeps a field of the JSON response; `{name}` uses it in later lines;
/// `#` starts a comment line.
const USERS_AND_PLACES: &str = "
anon GET version/
anon GET machines/
admin GET users/?op=whoami
alice GET users/?op=whoami
anon POST /MAAS/accounts/authenticate/ username=alice&password=wrong
admin POST users/ username=carol&email=c%40example.com&password=x&is_superuser=0
admin POST users/ username=carol&email=c%40example.com&password=x
admin POST users/ username=dave
admin POST users/ username=bad+name!&email=b%40example.com&password=x
alice POST users/ username=eve&email=e%40example.com&password=x
alice GET users/
admin GET users/carol/
admin GET users/nobody/
admin DELETE users/carol/
admin DELETE users/admin/
alice POST account/?op=create_authorisation_token name=cli
alice GET account/?op=list_authorisation_tokens
alice POST account/?op=delete_authorisation_token token_key=nope
alice POST account/prefs/sshkeys/ key={sshkey} => key=id
alice POST account/prefs/sshkeys/ key={sshkey}
alice POST account/prefs/sshkeys/ key=ssh-rsa+!!!!
alice GET account/prefs/sshkeys/
admin GET account/prefs/sshkeys/{key}/
admin POST zones/ name=rack-a&description=first
admin POST zones/ name=bad+zone
alice POST zones/ name=mine
admin PUT zones/rack-a/ description=First+rack
alice GET zones/
admin DELETE zones/default/
alice GET domains/
alice GET domains/0/
alice GET domains/99/
alice POST domains/0/?op=set_default
admin POST resourcepools/ name=gpu-pool&description=GPUs
alice GET resourcepools/
admin GET resourcepool/abc/
admin POST tags/ name=fast&comment=NVMe
admin POST tags/ name=no+spaces
";

const NETWORKS: &str = "
admin POST fabrics/ name=lab&class_type=10g&description=x => fabric=id
admin POST fabrics/ name=lab
alice GET fabrics/
admin POST fabrics/{fabric}/vlans/ vid=10&name=ten&mtu=9000 => vlan=id
admin POST fabrics/{fabric}/vlans/ vid=ten&mtu=551
admin POST spaces/ name=storage&description=disks
admin PUT vlans/{vlan}/ space=storage&description=storage+vlan
alice GET fabrics/{fabric}/vlans/10/
admin POST subnets/ cidr=10.5.0.0%2F24&name=store&vlan={vlan}&gateway_ip=10.5.0.1&dns_servers=10.5.0.2 => subnet=id
admin POST subnets/ cidr=10.5.0.0%2F33
admin POST subnets/ cidr=fd00%3A8%3A%3A%2F64
alice GET subnets/{subnet}/
admin POST ipranges/ type=dynamic&start_ip=10.5.0.100&end_ip=10.5.0.199&comment=pool => range=id
admin POST ipranges/ type=reserved&start_ip=10.5.0.10&end_ip=10.5.0.19
admin POST ipranges/ type=reserved&start_ip=10.5.0.150&end_ip=10.5.0.160
admin POST ipranges/ type=sometimes&start_ip=10.5.0.20&end_ip=10.5.0.1
admin PUT ipranges/{range}/ comment=dhcp
alice GET ipranges/
alice GET subnets/{subnet}/?op=reserved_ip_ranges
alice GET subnets/{subnet}/?op=unreserved_ip_ranges
alice GET subnets/{subnet}/?op=statistics include_ranges=true
alice GET subnets/{subnet}/?op=statistics include_ranges=sometimes
admin POST reservedips/ ip=10.5.0.50&mac_address=52-54-00-AA-BB-CC&comment=bmc
admin POST reservedips/ ip=10.9.9.9&mac_address=zz
alice GET reservedips/
alice GET spaces/
alice GET subnets/
alice GET vlans/
";

/// Machines: create (and refuse bad input), then commissioning, which the
/// metadata signals below complete.
const MACHINES: &str = "
admin POST machines/ architecture=amd64&mac_addresses=52:54:00:00:01:01&hostname=web1&power_type=manual&zone=rack-a&pool=gpu-pool&description=front => web1=system_id
admin POST machines/ architecture=arm64%2Fgeneric&mac_addresses=52:54:00:00:02:02&hostname=db1&power_type=ipmi&power_parameters_power_address=10.0.0.5&power_parameters_power_pass=s3cret&cpu_count=2&memory=4096&commission=false => db1=system_id
admin POST machines/ architecture=amd64&mac_addresses=52:54:00:00:01:01
admin POST machines/ architecture=amd64&mac_addresses=not-a-mac&hostname=-bad-
admin POST machines/ mac_addresses=52:54:00:00:03:03&power_type=telepathy
admin POST machines/ architecture=amd64&mac_addresses=52:54:00:00:03:03&cpu_count=lots&commission=maybe
anon POST machines/ architecture=amd64&mac_addresses=52:54:00:00:04:04&hostname=enl1
anon GET machines/?op=is_registered mac_address=52-54-00-00-04-04
admin POST machines/{web1}/?op=abort
admin POST machines/{web1}/?op=commission
";

const LIFECYCLE: &str = "
admin GET machines/{web1}/
admin GET nodes/{web1}/
admin POST machines/{web1}/?op=mark_broken comment=smoke
admin POST machines/{web1}/?op=mark_fixed
admin PUT machines/{web1}/ hostname=web2&cpu_count=8&memory=16384&description=front+end
admin PUT machines/{web1}/ cpu_count=-1&memory=1.5
alice PUT machines/{db1}/ hostname=mine
admin GET machines/{db1}/?op=power_parameters
# Its keys are system ids, so with several machines their order would be
# random: ask for one.
admin GET machines/?op=power_parameters id={db1}
alice GET machines/{db1}/?op=power_parameters
alice GET machines/{db1}/?op=query_power_state
admin POST nodes/{web1}/interfaces/?op=create_physical mac_address=52:54:00:00:01:02&name=eth1&vlan={vlan}&link_speed=1000
admin POST nodes/{web1}/interfaces/?op=create_physical mac_address=52-54-00-00-01-02
alice GET nodes/{web1}/interfaces/
admin POST nodes/{web1}/blockdevices/ name=sdb&size=1000000000&model=QEMU&serial=S1&tags=hdd
admin POST nodes/{web1}/blockdevices/ name=sdc&size=1024&block_size=7
alice GET nodes/{web1}/blockdevices/
admin POST nodes/{web1}/blockdevices/sdb/partitions/ size=100M&uuid=6b1a2b8e-4e4c-4f7e-9b5e-1f1c2d3e4f50
admin POST nodes/{web1}/blockdevices/sdb/partition/sdb-part2?op=format fstype=ext4&label=data&uuid=0b1a2b8e-4e4c-4f7e-9b5e-1f1c2d3e4f51
admin POST nodes/{web1}/blockdevices/sdb/partition/sdb-part2?op=mount mount_point=/srv
admin POST nodes/{web1}/blockdevices/sdb/partitions/ size=10G
alice GET nodes/{web1}/blockdevices/sdb/
alice GET nodes/{web1}/volume-groups/
admin POST tags/fast/?op=update_nodes add={web1}
admin POST tags/fast/?op=update_nodes add=xxxxxx
admin PUT tags/fast/ comment=NVMe+disks
alice GET tags/
alice GET tags/fast/?op=machines
alice POST machines/?op=allocate cpu_count=999
alice POST machines/?op=allocate tags=nosuch
alice POST machines/?op=allocate cpu_count=4&mem=8192&tags=fast&zone=rack-a
alice POST machines/{web1}/?op=set_owner_data owner=alice&purpose=ci
alice POST machines/{web1}/?op=deploy distro_series=ubuntu%2Fnoble&user_data=aGVsbG8%3D
alice POST machines/{web1}/?op=deploy
node GET /MAAS/metadata/latest/
node GET /MAAS/metadata/latest/meta-data/
node GET /MAAS/metadata/latest/meta-data/instance-id
node GET /MAAS/metadata/latest/meta-data/public-keys
node GET /MAAS/metadata/latest/user-data
node GET /MAAS/metadata/latest/meta-data/nonsense
node POST /MAAS/metadata/status/{web1} event_type=finish&name=cmd&result=SUCCESS&description=done
alice GET machines/?op=list_allocated
alice POST machines/{web1}/?op=release
admin GET machines/
admin GET machines/ hostname=web2&zone=rack-a
admin GET machines/ limit=1
admin GET machines/ status=sleeping
admin GET machines/xxxxxx/
admin POST machines/{web1}/?op=fly
admin GET machines/?op=fly
admin PUT machines/
admin GET no-such-thing/
alice DELETE machines/{db1}/
admin DELETE machines/{db1}/
admin GET machines/{db1}/
admin GET events/?op=query limit=8
alice GET events/?op=query id={web1}&limit=3&level=DEBUG
admin GET events/?op=query level=LOUD
admin GET rackcontrollers/
admin GET rackcontrollers/rk4444/
alice GET maas/?op=get_config name=maas_name
admin POST maas/?op=set_config name=maas_name&value=lab
admin POST maas/?op=set_config name=node_timeout&value=soon
alice POST maas/?op=set_config name=maas_name&value=mine
admin GET maas/?op=get_config name=nonsense
admin GET maas/?op=get_config name=maas_name
";

#[tokio::test]
async fn responses_match_the_recording() {
    let r = TestRegion::start().await;
    // A rack controller row as enrolment writes it (no rack process).
    sqlx::query("INSERT INTO racks (system_id, hostname) VALUES ('rk4444', 'rack1')")
        .execute(r.db())
        .await
        .unwrap();
    let mut w = Wire::new(&r);
    w.vars.push(("sshkey".into(), enc(SSH_KEY)));
    w.send("anon", "GET", "describe/", Body::Params(""), true)
        .await;
    w.script(USERS_AND_PLACES).await;
    w.script(NETWORKS).await;
    w.script(MACHINES).await;
    // The machine's own token drives the metadata API.
    let web1 = w.var("web1");
    let t = w
        .send(
            "admin",
            "GET",
            &format!("machines/{web1}/?op=get_token"),
            Body::Params(""),
            false,
        )
        .await;
    let key = ["consumer_key", "token_key", "token_secret"].map(|k| t[k].as_str().unwrap());
    w.clients
        .push(("node", Api::new(&r.url(), Some(key.join(":")))));
    w.script("node GET machines/").await;
    let signal = "/MAAS/metadata/latest/?op=signal";
    for (who, fields, file) in [
        ("node", "status=WORKING", None),
        ("node", "status=OK", Some(("hardware.json", HARDWARE))),
        ("node", "status=MAYBE", None),
        ("admin", "status=OK", None),
    ] {
        w.send(who, "POST", signal, Body::Multipart(fields, file), false)
            .await;
    }
    // Malformed bodies.
    for (ct, body) in [
        ("application/json", "{\"architecture\":"),
        ("text/xml", "<machine/>"),
    ] {
        w.send("admin", "POST", "machines/", Body::Raw(ct, body), false)
            .await;
    }
    w.script(LIFECYCLE).await;

    let got = w.transcript();
    r.stop().await;
    if std::env::var("MAAS_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(GOLDEN, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(GOLDEN).unwrap_or_default();
    assert!(
        want == got,
        "API responses differ from the recording.\n{}\nIf the change is intended, re-record \
         with MAAS_UPDATE_GOLDEN=1 and review the diff of tests/golden/wire.txt.",
        first_difference(&want, &got)
    );
}

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_string()
}
