use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn c(s: &str) -> Cidr {
    Cidr::parse(s).unwrap()
}

#[test]
fn cidrs_parse_and_normalise() {
    assert_eq!(c("10.0.0.7/24").to_string(), "10.0.0.0/24");
    assert_eq!(c(" 10.1.2.3/8 ").to_string(), "10.0.0.0/8");
    assert_eq!(c("192.168.1.1/255.255.255.0").to_string(), "192.168.1.0/24");
    assert_eq!(c("fd00:1:2:3::9/64").to_string(), "fd00:1:2:3::/64");
    assert_eq!(c("2001:db8::1/128").to_string(), "2001:db8::1/128");
    assert_eq!(c("0.0.0.0/0").to_string(), "0.0.0.0/0");
    assert_eq!(c("::/0").size(), u128::MAX);
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "fd00::/129",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0/24",
        "x/24",
        "10.0.0.0/255.0.255.0",
        "fd00::/255.255.0.0",
        "",
        "/",
        "10.0.0.0/",
        "10.0.0.0/0024",
    ] {
        assert!(Cidr::parse(bad).is_err(), "{bad}");
    }
    let (h, n) = Cidr::parse_with_host("10.0.0.2/24").unwrap();
    assert_eq!(h, ip("10.0.0.2"));
    assert_eq!(n, c("10.0.0.0/24"));
    assert_eq!(c("10.0.0.0/24").version(), 4);
    assert_eq!(c("fd00::/64").version(), 6);
}

#[test]
fn containment_and_bounds() {
    let n = c("10.0.0.0/24");
    assert!(n.contains(&ip("10.0.0.0")));
    assert!(n.contains(&ip("10.0.0.255")));
    assert!(!n.contains(&ip("10.0.1.0")));
    assert!(!n.contains(&ip("::ffff:10.0.0.1")));
    assert_eq!(n.size(), 256);
    assert_eq!(
        n.usable(),
        (ip_to_u128(ip("10.0.0.1")), ip_to_u128(ip("10.0.0.254")))
    );
    assert!(c("10.0.0.0/8").contains_cidr(&n));
    assert!(!n.contains_cidr(&c("10.0.0.0/8")));
    let n31 = c("10.0.0.0/31");
    assert_eq!(n31.usable(), (n31.first(), n31.last()));
    let n32 = c("10.0.0.9/32");
    assert_eq!(n32.size(), 1);
    assert!(n32.is_host());
    let v6 = c("fd00::/64");
    assert!(v6.contains(&ip("fd00::ffff:1")));
    assert!(!v6.contains(&ip("fd00:0:0:1::1")));
    assert!(!v6.contains(&ip("10.0.0.1")));
    assert_eq!(v6.usable().0, v6.first() + 1);
    assert_eq!(v6.usable().1, v6.last());
    let v127 = c("fd00::/127");
    assert_eq!(v127.usable(), (v127.first(), v127.last()));
    assert!(c("0.0.0.0/0").contains(&ip("255.255.255.255")));
    assert!(c("::/0").contains(&ip("ffff::1")));
}

#[test]
fn local_only_addresses() {
    for a in [
        "127.0.0.1",
        "169.254.3.4",
        "fe80::1",
        "febf::1",
        "::1",
        "0.0.0.0",
        "224.0.0.1",
        "ff02::1",
    ] {
        assert!(is_local_only(&ip(a)), "{a}");
    }
    for a in [
        "10.0.0.1",
        "fd00::1",
        "2001:db8::1",
        "fec0::1",
        "192.168.0.1",
    ] {
        assert!(!is_local_only(&ip(a)), "{a}");
    }
}

#[test]
fn range_shapes() {
    let n = c("10.0.0.0/24");
    assert!(range_problems(&n, &ip("10.0.0.10"), &ip("10.0.0.20")).is_empty());
    assert!(range_problems(&n, &ip("10.0.0.10"), &ip("10.0.0.10")).is_empty());
    let p = range_problems(&n, &ip("10.0.0.20"), &ip("10.0.0.10"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, "end_ip");
    let p = range_problems(&n, &ip("10.0.1.1"), &ip("10.0.2.1"));
    assert_eq!(
        p.iter().map(|x| x.0).collect::<Vec<_>>(),
        vec!["start_ip", "end_ip"]
    );
    let p = range_problems(&n, &ip("10.0.0.1"), &ip("fd00::1"));
    assert_eq!(p.len(), 1);
    assert!(p[0].1.contains("family"));
}

#[test]
fn sets_condense_like_maas() {
    let s = IpSet::new(
        true,
        vec![
            Span::new(10, 20, "dynamic"),
            Span::new(15, 25, "reserved"),
            Span::new(30, 30, "gateway-ip"),
            Span::new(31, 32, "gateway-ip"),
            Span::new(5, 4, "bogus"),
        ],
    );
    assert_eq!(s.spans.len(), 2);
    assert_eq!((s.spans[0].first, s.spans[0].last), (10, 25));
    assert_eq!(s.spans[0].purpose.len(), 2);
    assert_eq!((s.spans[1].first, s.spans[1].last), (30, 32));
}

fn usage(cidr: &str) -> SubnetUsage {
    SubnetUsage::new(c(cidr))
}

fn spans(set: &IpSet) -> Vec<(String, String)> {
    set.spans
        .iter()
        .map(|s| (set.ip(s.first).to_string(), set.ip(s.last).to_string()))
        .collect()
}

#[test]
fn reserved_and_unreserved_ipv4() {
    let mut u = usage("10.0.0.0/24");
    u.gateway = Some(ip("10.0.0.1"));
    u.dns_servers = vec![ip("10.0.0.2"), ip("8.8.8.8")];
    u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
    let used = u.in_use();
    assert_eq!(
        spans(&used),
        vec![
            ("10.0.0.1".into(), "10.0.0.1".into()),
            ("10.0.0.2".into(), "10.0.0.2".into()),
            ("10.0.0.100".into(), "10.0.0.199".into())
        ]
    );
    assert_eq!(
        spans(&u.not_in_use()),
        vec![
            ("10.0.0.3".into(), "10.0.0.99".into()),
            ("10.0.0.200".into(), "10.0.0.254".into())
        ]
    );
    let st = Statistics::of(&u);
    assert_eq!(st.total_addresses, 254);
    assert_eq!(st.num_unavailable, 102);
    assert_eq!(st.num_available, 152);
    assert_eq!(st.largest_available, 97);
    assert_eq!(percent_string(st.usage), "40%");
    assert_eq!(st.first_address, Some(ip("10.0.0.1")));
    assert_eq!(st.last_address, Some(ip("10.0.0.254")));
    assert_eq!(st.suggested_gateway, None);
    assert_eq!(st.suggested_dynamic_range, None);
}

#[test]
fn statistics_edges() {
    let st = Statistics::of(&usage("10.0.0.0/24"));
    assert_eq!(st.total_addresses, 254);
    assert_eq!(st.num_available, 254);
    assert_eq!(st.usage, 0.0);
    assert_eq!(percent_string(st.usage), "0%");
    assert_eq!(st.suggested_gateway, Some(ip("10.0.0.1")));
    let (a, b) = st.suggested_dynamic_range.unwrap();
    assert_eq!(b, ip("10.0.0.254"));
    assert_eq!(ip_to_u128(b) - ip_to_u128(a), 254 >> 2);

    let st = Statistics::of(&usage("10.0.0.0/31"));
    assert_eq!((st.total_addresses, st.num_available), (2, 2));
    let st = Statistics::of(&usage("10.0.0.5/32"));
    assert_eq!((st.total_addresses, st.num_available), (1, 1));
    assert_eq!(st.suggested_dynamic_range, None);
    let mut u = usage("10.0.0.4/32");
    u.gateway = Some(ip("10.0.0.4"));
    let st = Statistics::of(&u);
    assert_eq!(
        (st.total_addresses, st.num_unavailable, st.usage),
        (1, 1, 1.0)
    );
    assert_eq!(percent_string(st.usage), "100%");
    let st = Statistics::of(&usage("10.0.0.0/30"));
    assert_eq!(st.total_addresses, 2);

    // IPv6 /64: the anycast address and ::1-::ffff:ffff are MAAS's.
    let st = Statistics::of(&usage("fd00::/64"));
    assert_eq!(st.total_addresses, 1u128 << 64);
    assert_eq!(st.num_unavailable, 1 + 0xffff_ffff);
    assert_eq!(st.suggested_gateway, Some(ip("fd00::")));
    assert_eq!(percent_string(st.usage), "0%");
    let st = Statistics::of(&usage("fd00::/48"));
    assert_eq!(st.total_addresses, 1u128 << 80);
    assert_eq!(st.num_unavailable, 1);
    let st = Statistics::of(&usage("fd00::/127"));
    assert_eq!((st.total_addresses, st.num_available), (2, 2));
    let st = Statistics::of(&usage("fd00::1/128"));
    assert_eq!((st.total_addresses, st.num_available), (1, 1));
    let st = Statistics::of(&usage("::/0"));
    assert!(st.total_addresses > 1u128 << 127);
}

#[test]
fn new_ranges_on_managed_subnets() {
    let mut u = usage("10.0.0.0/24");
    u.gateway = Some(ip("10.0.0.1"));
    u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
    u.reserved_ips = vec![ip("10.0.0.50")];
    let d = RangeType::Dynamic;
    let r = RangeType::Reserved;
    assert!(
        u.check_new_range(d, &ip("10.0.0.200"), &ip("10.0.0.254"))
            .is_ok()
    );
    assert!(
        u.check_new_range(d, &ip("10.0.0.200"), &ip("10.0.0.255"))
            .is_err()
    );
    assert!(
        u.check_new_range(d, &ip("10.0.0.150"), &ip("10.0.0.220"))
            .is_err()
    );
    assert!(
        u.check_new_range(d, &ip("10.0.0.90"), &ip("10.0.0.100"))
            .is_err()
    );
    let e = u
        .check_new_range(d, &ip("10.0.0.1"), &ip("10.0.0.20"))
        .unwrap_err();
    assert!(e.contains("gateway"), "{e}");
    assert!(
        u.check_new_range(d, &ip("10.0.0.40"), &ip("10.0.0.60"))
            .is_err()
    );
    // Reserved ranges may cover the gateway and reserved IPs, not ranges.
    assert!(
        u.check_new_range(r, &ip("10.0.0.1"), &ip("10.0.0.60"))
            .is_ok()
    );
    assert!(
        u.check_new_range(r, &ip("10.0.0.199"), &ip("10.0.0.200"))
            .is_err()
    );
    assert!(
        u.check_new_range(r, &ip("10.0.0.0"), &ip("10.0.0.10"))
            .is_err()
    );
    // A full subnet.
    u.ranges
        .push((RangeType::Reserved, ip("10.0.0.1"), ip("10.0.0.99")));
    u.ranges
        .push((RangeType::Reserved, ip("10.0.0.200"), ip("10.0.0.254")));
    let e = u
        .check_new_range(r, &ip("10.0.0.5"), &ip("10.0.0.6"))
        .unwrap_err();
    assert!(e.contains("no room"), "{e}");
}

#[test]
fn new_ranges_on_unmanaged_and_ipv6_subnets() {
    let mut u = usage("10.0.0.0/24");
    u.managed = false;
    u.ranges = vec![(RangeType::Reserved, ip("10.0.0.10"), ip("10.0.0.50"))];
    let d = RangeType::Dynamic;
    assert!(
        u.check_new_range(d, &ip("10.0.0.20"), &ip("10.0.0.30"))
            .is_ok()
    );
    assert!(
        u.check_new_range(d, &ip("10.0.0.40"), &ip("10.0.0.60"))
            .is_err()
    );
    assert!(
        u.check_new_range(d, &ip("10.0.0.100"), &ip("10.0.0.110"))
            .is_err()
    );
    assert!(
        u.check_new_range(RangeType::Reserved, &ip("10.0.0.60"), &ip("10.0.0.70"))
            .is_ok()
    );

    let v6 = usage("fd00::/64");
    assert!(
        v6.check_new_range(d, &ip("fd00::1:0:0"), &ip("fd00::1:0:ff"))
            .is_ok()
    );
    assert!(
        v6.check_new_range(d, &ip("fd00::10"), &ip("fd00::20"))
            .is_err()
    );
    assert!(v6.check_new_range(d, &ip("fd00::"), &ip("fd00::")).is_err());
    let v6 = usage("fd00::/80");
    assert!(
        v6.check_new_range(d, &ip("fd00::10"), &ip("fd00::20"))
            .is_ok()
    );
}

#[test]
fn reserved_ips() {
    let mut u = usage("10.0.0.0/24");
    u.gateway = Some(ip("10.0.0.1"));
    u.ranges = vec![(RangeType::Dynamic, ip("10.0.0.100"), ip("10.0.0.199"))];
    assert!(u.check_reserved_ip(&ip("10.0.0.5")).is_ok());
    assert!(u.check_reserved_ip(&ip("10.0.0.1")).is_err());
    assert!(u.check_reserved_ip(&ip("10.0.0.0")).is_err());
    assert!(u.check_reserved_ip(&ip("10.0.0.255")).is_err());
    assert!(u.check_reserved_ip(&ip("10.0.1.5")).is_err());
    let e = u.check_reserved_ip(&ip("10.0.0.150")).unwrap_err();
    assert!(e.contains("dynamic range"), "{e}");
}

#[test]
fn percentages_round_like_python() {
    assert_eq!(percent_string(0.0), "0%");
    assert_eq!(percent_string(1.0), "100%");
    assert_eq!(percent_string(0.404), "40%");
    assert_eq!(percent_string(0.996), "100%");
}

proptest::proptest! {
    #[test]
    fn parsing_never_panics(s in ".{0,60}") {
        let _ = Cidr::parse(&s);
        let _ = parse_ip(&s);
    }

    #[test]
    fn full_range_partitions_the_usable_addresses(
        prefix in 20u8..=32,
        ranges in proptest::collection::vec((0u32..4096, 0u32..64), 0..6),
    ) {
        let cidr = Cidr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), prefix).unwrap();
        let mut u = SubnetUsage::new(cidr);
        let (lo, hi) = cidr.usable();
        for (off, len) in ranges {
            let s = lo + off as u128;
            let e = s + len as u128;
            if e <= hi {
                u.ranges.push((RangeType::Reserved, cidr.ip(s), cidr.ip(e)));
            }
        }
        let st = Statistics::of(&u);
        proptest::prop_assert_eq!(st.total_addresses, hi - lo + 1);
        let mut next = lo;
        for s in &st.ranges.spans {
            proptest::prop_assert_eq!(s.first, next);
            next = s.last + 1;
        }
        proptest::prop_assert_eq!(next, hi + 1);
    }
}
