//! dig and kdig against maas-dns on loopback (port 0): every record type,
//! reverse, NXDOMAIN, TCP, EDNS and truncation, forwarding to a second
//! instance, refused recursion, swaps under load, malformed input.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use maas_dns::{DnsConfig, DnsServer, RecordConfig, ServerOptions, ZoneConfig};

fn tools() {
    maas_lab::require_tools(&["dig", "kdig"]).expect("interop tools");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn maas_zone(web_ip: &str) -> ZoneConfig {
    let mut z = ZoneConfig::new("maas");
    z.serial = 7;
    let big_txt: String = (0..40)
        .map(|i| format!("\"chunk-{i:02}-{}\" ", "x".repeat(20)))
        .collect();
    for (n, t, d) in [
        ("web", "A", web_ip),
        ("web", "AAAA", "2001:db8::3"),
        ("www", "CNAME", "web"),
        ("@", "MX", "10 web"),
        ("_ldap._tcp", "SRV", "0 5 389 web"),
        (
            "web",
            "SSHFP",
            "1 1 0123456789abcdef0123456789abcdef01234567",
        ),
        ("web", "TXT", "\"hello world\""),
        ("sub", "NS", "ns.elsewhere.example."),
        ("ptrname", "PTR", "web.maas."),
        ("big", "TXT", big_txt.as_str()),
        ("ext", "CNAME", "target.other.test."),
    ] {
        z.records.push(RecordConfig::new(n, t, d));
    }
    z
}

fn config(web_ip: &str) -> DnsConfig {
    DnsConfig {
        zones: vec![maas_zone(web_ip)],
        reverse_subnets: vec![
            "10.1.2.0/24".parse().expect("cidr"),
            "2001:db8::/64".parse().expect("cidr"),
        ],
        recursion_allowed: vec!["127.0.0.1/32".parse().expect("cidr")],
        primary_ns_addresses: vec!["10.1.2.1".parse().expect("ip")],
        ..DnsConfig::default()
    }
}

fn start(rt: &tokio::runtime::Runtime, cfg: &DnsConfig) -> DnsServer {
    let _g = rt.enter();
    let mut opts = ServerOptions::new("127.0.0.1:0".parse().expect("addr"));
    opts.udp_threads = 2;
    opts.forward_timeout = Duration::from_millis(500);
    DnsServer::start(cfg, opts).expect("server starts")
}

fn run(prog: &str, addr: SocketAddr, args: &[&str]) -> String {
    let out = Command::new(prog)
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string()])
        .args(if prog == "kdig" {
            ["+timeout=2", "+retry=0"]
        } else {
            ["+time=2", "+tries=1"]
        })
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {prog}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dig(addr: SocketAddr, args: &[&str]) -> String {
    run("dig", addr, args)
}

fn status(out: &str) -> &str {
    out.split("status: ")
        .nth(1)
        .and_then(|s| s.split([',', ';']).next())
        .unwrap_or("")
}

fn flags(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(";; flags:"))
        .unwrap_or("")
        .to_string()
}

fn short(addr: SocketAddr, name: &str, rtype: &str) -> Vec<String> {
    let out = dig(addr, &["+short", name, rtype]);
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn dig_every_record_type_forward_and_reverse() {
    tools();
    let rt = rt();
    let srv = start(&rt, &config("10.1.2.3"));
    let a = srv.local_addr();
    assert_eq!(short(a, "web.maas", "A"), ["10.1.2.3"]);
    assert_eq!(short(a, "WEB.Maas", "AAAA"), ["2001:db8::3"]);
    assert_eq!(short(a, "www.maas", "A"), ["10.1.2.3", "web.maas."]);
    assert_eq!(short(a, "maas", "MX"), ["10 web.maas."]);
    assert_eq!(short(a, "maas", "NS"), ["ns.maas."]);
    assert_eq!(short(a, "_ldap._tcp.maas", "SRV"), ["0 5 389 web.maas."]);
    assert_eq!(
        short(a, "web.maas", "SSHFP"),
        ["1 1 0123456789ABCDEF0123456789ABCDEF01234567"]
    );
    assert_eq!(short(a, "web.maas", "TXT"), ["\"hello world\""]);
    assert_eq!(short(a, "ptrname.maas", "PTR"), ["web.maas."]);
    let soa = short(a, "maas", "SOA");
    assert_eq!(soa.len(), 1);
    assert!(soa[0].starts_with("ns.maas. nomail.maas. 7 "), "{soa:?}");
    // Reverse zones derived from the A/AAAA records.
    assert_eq!(dig(a, &["+short", "-x", "10.1.2.3"]).trim(), "web.maas.");
    assert_eq!(dig(a, &["+short", "-x", "2001:db8::3"]).trim(), "web.maas.");
    assert_eq!(dig(a, &["+short", "-x", "10.1.2.1"]).trim(), "");
    // Authoritative, with the question's case preserved.
    let out = dig(a, &["+norec", "wEb.mAaS", "A"]);
    assert_eq!(status(&out), "NOERROR");
    assert!(flags(&out).contains(" aa"), "{out}");
    assert!(out.contains("wEb.mAaS."), "0x20 case kept: {out}");
    // MX target's addresses in the additional section.
    let out = dig(a, &["maas", "MX"]);
    assert!(out.contains("ADDITIONAL: 3"), "{out}");
    // kdig agrees.
    let k = run("kdig", a, &["+short", "web.maas", "A"]);
    assert_eq!(k.trim(), "10.1.2.3");
}

#[test]
fn negative_answers_carry_the_soa() {
    tools();
    let rt = rt();
    let srv = start(&rt, &config("10.1.2.3"));
    let a = srv.local_addr();
    let out = dig(a, &["nope.maas", "A"]);
    assert_eq!(status(&out), "NXDOMAIN", "{out}");
    assert!(flags(&out).contains(" aa"));
    assert!(out.contains("AUTHORITY: 1"), "{out}");
    assert!(
        out.contains("maas.\t\t\t30\tIN\tSOA\tns.maas. nomail.maas. 7"),
        "{out}"
    );
    // NODATA: the name exists, the type does not.
    let out = dig(a, &["web.maas", "MX"]);
    assert_eq!(status(&out), "NOERROR");
    assert!(out.contains("ANSWER: 0, AUTHORITY: 1"), "{out}");
    // Empty non-terminal.
    let out = dig(a, &["_tcp.maas", "A"]);
    assert_eq!(status(&out), "NOERROR");
    // Delegation below the zone: a referral, not authoritative.
    let out = dig(a, &["+norec", "host.sub.maas", "A"]);
    assert_eq!(status(&out), "NOERROR");
    assert!(!flags(&out).contains(" aa"), "{out}");
    assert!(out.contains("ns.elsewhere.example."), "{out}");
    // Transfers refused; other classes refused.
    let out = dig(a, &["maas", "CH", "TXT"]);
    assert_eq!(status(&out), "REFUSED");
}

#[test]
fn tcp_edns_and_truncation() {
    tools();
    let rt = rt();
    let srv = start(&rt, &config("10.1.2.3"));
    let a = srv.local_addr();
    let out = dig(a, &["+tcp", "www.maas", "A"]);
    assert_eq!(status(&out), "NOERROR");
    assert!(out.contains("web.maas.\t\t30\tIN\tA\t10.1.2.3"), "{out}");
    let k = run("kdig", a, &["+tcp", "web.maas", "AAAA"]);
    assert!(k.contains("2001:db8::3"), "{k}");
    // EDNS: our payload size, DO echoed.
    let k = run("kdig", a, &["+dnssec", "web.maas", "A"]);
    assert!(k.contains("flags: do; UDP size: 1232"), "{k}");
    let out = dig(a, &["+noedns", "web.maas", "A"]);
    assert!(!out.contains("OPT PSEUDOSECTION"), "{out}");
    // A ~1.1 kB answer: truncated without EDNS and with a 512-byte buffer,
    // whole with EDNS 1232 and over TCP; dig falls back to TCP by itself.
    let out = dig(a, &["+noedns", "+ignore", "big.maas", "TXT"]);
    assert!(flags(&out).contains(" tc"), "{out}");
    let out = dig(a, &["+bufsize=512", "+ignore", "big.maas", "TXT"]);
    assert!(flags(&out).contains(" tc"), "{out}");
    let out = dig(a, &["+bufsize=1232", "big.maas", "TXT"]);
    assert!(
        !flags(&out).contains(" tc") && out.contains("chunk-39"),
        "{out}"
    );
    let out = dig(a, &["+noedns", "big.maas", "TXT"]);
    assert!(out.contains("chunk-39") && out.contains("(TCP)"), "{out}");
    assert!(srv.metrics().truncated.get() >= 2);
    assert!(srv.metrics().queries_tcp.get() >= 2);
}

#[test]
fn forwarding_for_allowed_clients_refused_for_others() {
    tools();
    let rt = rt();
    let mut other = ZoneConfig::new("other.test");
    other
        .records
        .push(RecordConfig::new("target", "A", "192.0.2.7"));
    let upstream = start(
        &rt,
        &DnsConfig {
            zones: vec![other],
            ..DnsConfig::default()
        },
    );
    let mut cfg = config("10.1.2.3");
    cfg.forwarders = vec![upstream.local_addr()];
    let srv = start(&rt, &cfg);
    let a = srv.local_addr();
    let out = dig(a, &["target.other.test", "A"]);
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(out.contains("192.0.2.7"), "{out}");
    let f = flags(&out);
    assert!(f.contains(" ra") && !f.contains(" aa"), "{out}");
    let out = dig(a, &["+tcp", "target.other.test", "A"]);
    assert!(out.contains("192.0.2.7"), "{out}");
    // CNAME out of our zones: our part answered, the resolver follows.
    let out = dig(a, &["+short", "ext.maas", "A"]);
    assert_eq!(out.trim(), "target.other.test.");
    // A client outside recursion_allowed.
    let out = dig(a, &["-b", "127.0.0.2", "target.other.test", "A"]);
    assert_eq!(status(&out), "REFUSED", "{out}");
    let out = dig(a, &["-b", "127.0.0.2", "+tcp", "target.other.test", "A"]);
    assert_eq!(status(&out), "REFUSED", "{out}");
    // ...who still gets our own zones.
    let out = dig(a, &["-b", "127.0.0.2", "+short", "web.maas", "A"]);
    assert_eq!(out.trim(), "10.1.2.3");
    assert!(srv.metrics().forwarded.get() >= 2);
    assert!(srv.metrics().refused_recursion.get() >= 2);
    // An upstream that never answers: SERVFAIL after the retries.
    let dead = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut cfg2 = cfg.clone();
    cfg2.forwarders = vec![dead.local_addr().expect("addr")];
    srv.swap(&cfg2).expect("swap");
    let out = run("dig", a, &["+time=4", "target.other.test", "A"]);
    assert_eq!(status(&out), "SERVFAIL", "{out}");
    assert!(srv.metrics().forward_timeouts.get() >= 1);
}

fn query_bytes(id: u16, name: &str, t: RecordType) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), t));
    m.to_vec().expect("encode")
}

#[test]
fn swaps_while_queries_run_give_old_or_new_never_errors() {
    tools();
    let rt = rt();
    let cfg_a = config("10.1.2.3");
    let cfg_b = config("10.1.2.4");
    let srv = start(&rt, &cfg_a);
    let a = srv.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let mut blasters = Vec::new();
    for t in 0..2u16 {
        let (stop, seen) = (stop.clone(), seen.clone());
        blasters.push(std::thread::spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
            s.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let mut buf = [0u8; 1500];
            let mut id = t * 30000;
            let mut which = [0usize; 2];
            while !stop.load(Ordering::Relaxed) {
                id = id.wrapping_add(1);
                let name = if id % 2 == 0 {
                    "web.maas."
                } else {
                    "www.maas."
                };
                s.send_to(&query_bytes(id, name, RecordType::A), a)
                    .expect("send");
                let n = s.recv(&mut buf).expect("an answer to every query");
                let m = Message::from_vec(&buf[..n]).expect("well-formed answer");
                assert_eq!(m.metadata.id, id);
                assert_eq!(m.metadata.response_code, ResponseCode::NoError);
                let ip = m
                    .answers
                    .iter()
                    .find_map(|r| match &r.data {
                        RData::A(ip) => Some(ip.0.to_string()),
                        _ => None,
                    })
                    .expect("an address");
                match ip.as_str() {
                    "10.1.2.3" => which[0] += 1,
                    "10.1.2.4" => which[1] += 1,
                    other => panic!("answer from neither version: {other}"),
                }
                seen.fetch_add(1, Ordering::Relaxed);
                // Thousands of queries a second, without starving the
                // tests running beside this one.
                std::thread::sleep(Duration::from_micros(200));
            }
            which
        }));
    }
    let mut digs = 0;
    for i in 0..30 {
        srv.swap(if i % 2 == 0 { &cfg_b } else { &cfg_a })
            .expect("swap");
        let out = dig(a, &["+short", "web.maas", "A"]);
        let ip = out.trim();
        assert!(ip == "10.1.2.3" || ip == "10.1.2.4", "dig got {out:?}");
        digs += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let mut totals = [0usize; 2];
    for b in blasters {
        let w = b.join().expect("blaster ok");
        totals[0] += w[0];
        totals[1] += w[1];
    }
    assert_eq!(digs, 30);
    assert!(
        totals[0] > 0 && totals[1] > 0,
        "both versions served: {totals:?}"
    );
    assert!(seen.load(Ordering::Relaxed) > 100);
    assert_eq!(srv.metrics().zone_swaps.get(), 30);
    assert_eq!(srv.metrics().rcode_servfail.get(), 0);
}

#[test]
fn malformed_packets_are_counted_and_the_server_keeps_answering() {
    tools();
    let rt = rt();
    let srv = start(&rt, &config("10.1.2.3"));
    let a = srv.local_addr();
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    // Too short: dropped silently.
    s.send_to(&[1, 2, 3], a).expect("send");
    // A header claiming a question that is not there: FORMERR.
    s.send_to(&[0xab, 0xcd, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0], a)
        .expect("send");
    let mut buf = [0u8; 512];
    let n = s.recv(&mut buf).expect("a FORMERR");
    assert_eq!(&buf[..2], &[0xab, 0xcd]);
    assert_eq!(buf[3] & 0x0f, 1, "FORMERR");
    assert!(n >= 12);
    // A response sent to us: never answered (no loops).
    s.send_to(&[0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0], a)
        .expect("send");
    assert!(s.recv(&mut buf).is_err());
    // An unknown opcode: NOTIMP.
    let mut q = query_bytes(9, "web.maas.", RecordType::A);
    q[2] |= 0x10; // opcode 2 (STATUS)
    s.send_to(&q, a).expect("send");
    let _ = s.recv(&mut buf).expect("NOTIMP");
    assert_eq!(buf[3] & 0x0f, 4);
    assert!(srv.metrics().malformed_dropped.get() >= 3);
    assert_eq!(dig(a, &["+short", "web.maas", "A"]).trim(), "10.1.2.3");
    let mut text = String::new();
    srv.metrics().render_prometheus(&mut text);
    assert!(text.contains("maas_dns_malformed_total 3"), "{text}");
    assert!(
        text.contains("maas_dns_queries_total{transport=\"udp\"}"),
        "{text}"
    );
}

#[test]
fn ipv6_listener_answers_udp_and_tcp() {
    tools();
    let rt = rt();
    let _g = rt.enter();
    let mut opts = ServerOptions::new("[::1]:0".parse().expect("addr"));
    opts.udp_threads = 2;
    let srv = DnsServer::start(&config("10.1.2.3"), opts).expect("server on ::1");
    let a = srv.local_addr();
    assert!(a.is_ipv6());
    assert_eq!(
        dig(a, &["+short", "web.maas", "AAAA"]).trim(),
        "2001:db8::3"
    );
    assert_eq!(
        dig(a, &["+short", "+tcp", "web.maas", "A"]).trim(),
        "10.1.2.3"
    );
    // ::1 is not in recursion_allowed (127.0.0.1/32): no forwarding for it.
    assert_eq!(status(&dig(a, &["example.com", "A"])), "REFUSED");
}
