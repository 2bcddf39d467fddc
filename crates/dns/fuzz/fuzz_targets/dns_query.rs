//! The whole request path on arbitrary bytes: the fast-path parser, the
//! table lookup and patching, hickory's slow path; over UDP and TCP, from a
//! client allowed to recurse and one that is not. Never panics; every
//! response we send parses as a DNS message with the query's ID.

#![no_main]

use std::sync::OnceLock;

use hickory_proto::op::Message;
use libfuzzer_sys::fuzz_target;
use maas_dns::{Action, DnsConfig, Metrics, RecordConfig, Served, Transport, ZoneConfig};

fn served() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let mut z = ZoneConfig::new("maas");
        for (n, t, d) in [
            ("web", "A", "10.1.2.3"),
            ("web", "AAAA", "2001:db8::3"),
            ("www", "CNAME", "web"),
            ("loop", "CNAME", "loop"),
            ("@", "MX", "10 web"),
            ("_ldap._tcp", "SRV", "0 5 389 web"),
            ("web", "TXT", "\"hello\""),
            ("sub", "NS", "ns.elsewhere."),
            ("*.wild", "A", "10.9.9.9"),
        ] {
            z.records.push(RecordConfig::new(n, t, d));
        }
        let cfg = DnsConfig {
            zones: vec![z],
            reverse_subnets: vec!["10.1.2.0/24".parse().expect("cidr")],
            recursion_allowed: vec!["127.0.0.1/32".parse().expect("cidr")],
            forwarders: vec!["127.0.0.1:9".parse().expect("addr")],
            ..DnsConfig::default()
        };
        Served::build(&cfg).expect("fuzz config builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let s = served();
    let m = Metrics::default();
    let _ = maas_dns::wire::parse_query(data);
    let mut out = Vec::new();
    for (client, transport) in [
        ([127, 0, 0, 1], Transport::Udp),
        ([192, 0, 2, 1], Transport::Udp),
        ([127, 0, 0, 1], Transport::Tcp),
    ] {
        let action = s.handle(data, std::net::IpAddr::from(client), transport, &mut out, &m);
        if action == Action::Respond {
            assert!(out.len() >= 12, "short response");
            assert_eq!(out[..2], data[..2], "ID echoed");
            assert!(Message::from_vec(&out).is_ok(), "response must parse");
            if transport == Transport::Udp {
                assert!(out.len() <= 1232, "UDP response over our payload size");
            }
        }
    }
});
