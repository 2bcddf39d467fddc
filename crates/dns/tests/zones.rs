//! Authoritative semantics of `ZoneSet::resolve`, without sockets.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use maas_dns::zones::Outcome;
use maas_dns::{DnsConfig, RecordConfig, ZoneConfig, ZoneSet};

fn set(records: &[(&str, &str, &str)]) -> ZoneSet {
    let mut z = ZoneConfig::new("maas");
    for (n, t, d) in records {
        z.records.push(RecordConfig::new(n, t, d));
    }
    let mut other = ZoneConfig::new("other.maas");
    other
        .records
        .push(RecordConfig::new("deep", "A", "10.0.0.9"));
    ZoneSet::build(&DnsConfig {
        zones: vec![z, other],
        ..DnsConfig::default()
    })
    .expect("zones build")
}

fn ask(s: &ZoneSet, name: &str, t: RecordType) -> maas_dns::zones::Answer {
    match s.resolve(&Name::from_ascii(name).expect("name"), t) {
        Outcome::Answer(a) => a,
        Outcome::NotOurs => panic!("{name} not ours"),
    }
}

#[test]
fn cname_chains_are_chased_across_our_zones() {
    let s = set(&[
        ("a", "CNAME", "b"),
        ("b", "CNAME", "deep.other.maas."),
        ("dangling", "CNAME", "missing"),
        ("loop1", "CNAME", "loop2"),
        ("loop2", "CNAME", "loop1"),
    ]);
    let a = ask(&s, "a.maas.", RecordType::A);
    assert_eq!(a.answers.len(), 3);
    assert!(matches!(a.answers[2].data, RData::A(ip) if ip.0.to_string() == "10.0.0.9"));
    assert_eq!(a.rcode.0, ResponseCode::NoError);
    // CNAME asked for directly: not chased.
    assert_eq!(ask(&s, "a.maas.", RecordType::CNAME).answers.len(), 1);
    // The chain ends in a missing name: NXDOMAIN with the CNAME kept.
    let d = ask(&s, "dangling.maas.", RecordType::A);
    assert_eq!(d.rcode.0, ResponseCode::NXDomain);
    assert_eq!(d.answers.len(), 1);
    assert_eq!(d.authority[0].record_type(), RecordType::SOA);
    // A loop stops after each link once.
    let l = ask(&s, "loop1.maas.", RecordType::A);
    assert_eq!(l.answers.len(), 2);
}

#[test]
fn wildcards_synthesise_the_asked_name_but_not_over_existing_ones() {
    let s = set(&[("*", "A", "10.9.9.9"), ("real", "TXT", "\"x\"")]);
    let w = ask(&s, "anything.maas.", RecordType::A);
    assert_eq!(
        w.answers[0].name,
        Name::from_ascii("anything.maas.").expect("name")
    );
    // An existing name does not get the wildcard's data (NODATA).
    let r = ask(&s, "real.maas.", RecordType::A);
    assert!(r.answers.is_empty());
    assert_eq!(r.rcode.0, ResponseCode::NoError);
}

#[test]
fn longest_zone_wins_and_outside_names_are_not_ours() {
    let s = set(&[("x", "A", "10.0.0.1")]);
    let deep = ask(&s, "DEEP.other.maas.", RecordType::A);
    assert_eq!(deep.answers.len(), 1);
    assert!(deep.authoritative);
    assert_eq!(
        s.resolve(
            &Name::from_ascii("example.com.").expect("name"),
            RecordType::A
        ),
        Outcome::NotOurs
    );
}

#[test]
fn bad_records_are_skipped_not_fatal() {
    let s = set(&[
        ("ok", "A", "10.0.0.1"),
        ("bad", "A", "not-an-ip"),
        ("bad2", "MX", "mail"),
        ("inject\n@", "A", "10.0.0.2"),
        ("bad3", "BOGUS", "x"),
    ]);
    let z = s
        .find_zone(&Name::from_ascii("maas.").expect("name"))
        .expect("zone");
    assert_eq!(z.rejected, 4);
    assert_eq!(ask(&s, "ok.maas.", RecordType::A).answers.len(), 1);
    assert_eq!(
        ask(&s, "bad.maas.", RecordType::A).rcode.0,
        ResponseCode::NXDomain
    );
}

#[test]
fn zones_come_from_the_regions_desired_state() {
    let model = maas_model::desired::DnsZone {
        name: "maas".into(),
        ttl: 60,
        serial: 7,
        authoritative: true,
        records: vec![maas_model::desired::DnsRecord {
            name: "node1".into(),
            rtype: "A".into(),
            data: "10.0.0.5".into(),
            ttl: 120,
        }],
    };
    let z = ZoneConfig::from_model(&model, 42);
    let s = ZoneSet::build(&DnsConfig {
        zones: vec![z],
        reverse_subnets: vec!["10.0.0.0/24".parse().expect("cidr")],
        ..DnsConfig::default()
    })
    .expect("zones");
    let a = ask(&s, "node1.maas.", RecordType::A);
    assert_eq!(a.answers[0].ttl, 120);
    let p = ask(&s, "5.0.0.10.in-addr.arpa.", RecordType::PTR);
    assert!(matches!(&p.answers[0].data, RData::PTR(n) if n.0.to_ascii() == "node1.maas."));
    let soa = ask(&s, "maas.", RecordType::SOA);
    assert!(matches!(&soa.answers[0].data, RData::SOA(soa) if soa.serial == 42));
}
