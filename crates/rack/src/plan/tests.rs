use maas_model::desired::{
    BootMachine, DhcpRole, IpRange, NetworkSettings, Reservation as Res, Snapshot, StaticRoute,
    Subnet, Vlan,
};
use maas_model::net::{Cidr, RangeType};
use maas_model::rack::Interface;

use super::*;

fn vlan(id: i64, serve: bool, relay_to: Option<i64>) -> Vlan {
    Vlan {
        id,
        vid: 0,
        fabric: "f".into(),
        mtu: 1500 + id as u32,
        dhcp_on: serve,
        dhcp_role: serve.then_some(DhcpRole::Primary),
        relay_vlan_id: relay_to,
        serve_dhcp: serve,
    }
}

fn subnet(id: i64, vlan_id: i64, cidr: &str, gw: Option<&str>) -> Subnet {
    Subnet {
        id,
        vlan_id,
        cidr: Cidr::parse(cidr).unwrap(),
        gateway_ip: gw.map(|g| g.parse().unwrap()),
        dns_servers: vec![],
        managed: true,
        allow_dns: true,
        static_routes: vec![],
    }
}

fn range(subnet_id: i64, kind: RangeType, a: &str, b: &str) -> IpRange {
    IpRange {
        subnet_id,
        kind,
        start_ip: a.parse().unwrap(),
        end_ip: b.parse().unwrap(),
    }
}

fn snapshot() -> Snapshot {
    let mut s = Snapshot {
        vlans: vec![
            vlan(1, true, None),
            vlan(2, false, Some(1)),
            vlan(3, false, None),
        ],
        subnets: vec![
            subnet(10, 1, "10.1.0.0/24", Some("10.1.0.254")),
            subnet(11, 2, "10.2.0.0/24", Some("10.2.0.1")),
            subnet(12, 3, "10.3.0.0/24", None),
            subnet(13, 1, "fd00:1::/64", None),
        ],
        ranges: vec![
            range(10, RangeType::Dynamic, "10.1.0.100", "10.1.0.199"),
            range(10, RangeType::Reserved, "10.1.0.200", "10.1.0.210"),
            range(11, RangeType::Dynamic, "10.2.0.50", "10.2.0.60"),
            range(12, RangeType::Dynamic, "10.3.0.50", "10.3.0.60"),
        ],
        reservations: vec![
            Res {
                subnet_id: 10,
                mac: "52:54:00:AA:00:01".into(),
                ip: "10.1.0.5".parse().unwrap(),
                hostname: Some("n1".into()),
            },
            // The same MAC again (a second address): the first wins.
            Res {
                subnet_id: 10,
                mac: "52:54:00:aa:00:01".into(),
                ip: "10.1.0.6".parse().unwrap(),
                hostname: None,
            },
            // A reserved IP without a MAC is not a DHCP reservation.
            Res {
                subnet_id: 10,
                mac: "".into(),
                ip: "10.1.0.7".parse().unwrap(),
                hostname: None,
            },
        ],
        network: NetworkSettings {
            ntp_servers: vec!["ntp.example.com".into(), "10.9.9.9".into()],
            upstream_dns: vec!["10.8.8.8".into(), "10.8.8.9:5353".into(), "bad".into()],
            default_domain: "maas".into(),
            lease_time: 0,
        },
        ..Snapshot::default()
    };
    s.subnets[0].static_routes.push(StaticRoute {
        destination: Cidr::parse("10.50.0.0/16").unwrap(),
        gateway: "10.1.0.253".parse().unwrap(),
        metric: 0,
    });
    s.subnets[1].dns_servers = vec!["10.2.0.53".into()];
    s
}

fn ifaces() -> Vec<Interface> {
    vec![Interface {
        name: "br0".into(),
        mac: "52:54:00:00:00:01".into(),
        kind: "bridge".into(),
        parent: None,
        vid: None,
        addresses: vec!["10.1.0.1/24".into(), "fd00:1::1/64".into()],
    }]
}

#[test]
fn served_and_relayed_subnets_get_their_options() {
    let s = snapshot();
    let addrs = local_addrs(&ifaces());
    let plan = dhcp(&s, &addrs, true);
    // The served VLAN's IPv4 subnet and the relayed one; not VLAN 3 (not
    // served, not relayed), not IPv6.
    let ids: Vec<i64> = plan.iter().map(|p| p.subnet_id).collect();
    assert_eq!(ids, vec![10, 11]);
    let direct = &plan[0];
    assert_eq!(direct.interface.as_deref(), Some("br0"));
    assert_eq!(direct.server_ip, Some("10.1.0.1".parse().unwrap()));
    assert_eq!(direct.router, Some("10.1.0.254".parse().unwrap()));
    // No DNS servers of its own: the rack's address.
    assert_eq!(
        direct.dns_servers,
        vec!["10.1.0.1".parse::<Ipv4Addr>().unwrap()]
    );
    assert_eq!(
        direct.ntp_servers,
        vec!["10.9.9.9".parse::<Ipv4Addr>().unwrap()]
    );
    assert_eq!(
        (direct.domain.as_str(), direct.search.clone()),
        ("maas", vec!["maas".to_string()])
    );
    assert_eq!((direct.mtu, direct.lease_time), (1501, 600));
    assert_eq!(direct.pools.len(), 1);
    assert!(
        direct
            .excluded
            .contains(&("10.1.0.200".parse().unwrap(), "10.1.0.210".parse().unwrap()))
    );
    assert!(
        direct
            .excluded
            .contains(&("10.1.0.254".parse().unwrap(), "10.1.0.254".parse().unwrap())),
        "the gateway"
    );
    assert!(
        direct
            .excluded
            .contains(&("10.1.0.1".parse().unwrap(), "10.1.0.1".parse().unwrap())),
        "the rack"
    );
    assert_eq!(
        direct.routes,
        vec![(
            Cidr::parse("10.50.0.0/16").unwrap(),
            "10.1.0.253".parse().unwrap()
        )]
    );
    assert_eq!(
        direct.reservations,
        vec![Reservation {
            mac: "52:54:00:aa:00:01".into(),
            ip: "10.1.0.5".parse().unwrap(),
            hostname: Some("n1".into())
        }]
    );
    let relayed = &plan[1];
    assert_eq!(relayed.interface, None);
    assert_eq!(
        relayed.server_ip,
        Some("10.1.0.1".parse().unwrap()),
        "the address the relay reaches"
    );
    assert_eq!(
        relayed.dns_servers,
        vec!["10.2.0.53".parse::<Ipv4Addr>().unwrap()],
        "its own"
    );
    assert_eq!(relayed.mtu, 1502);
    // Without DNS on the rack, no DNS server is invented.
    assert!(dhcp(&s, &addrs, false)[0].dns_servers.is_empty());
}

#[test]
fn nothing_is_served_without_a_local_address_or_the_role() {
    let mut s = snapshot();
    assert!(dhcp(&s, &[], true).is_empty(), "no address on the VLAN");
    s.vlans[0].serve_dhcp = false;
    assert!(
        dhcp(&s, &local_addrs(&ifaces()), true).is_empty(),
        "not serving: the relayed VLAN goes too"
    );
}

#[test]
fn dns_plan_forwards_and_limits_recursion() {
    let s = snapshot();
    let p = dns(&s);
    assert_eq!(
        p.forwarders,
        vec![
            "10.8.8.8:53".parse().unwrap(),
            "10.8.8.9:5353".parse().unwrap()
        ]
    );
    assert!(
        p.recursion_allowed
            .contains(&Cidr::parse("10.1.0.0/24").unwrap())
    );
    assert!(
        p.recursion_allowed
            .contains(&Cidr::parse("127.0.0.0/8").unwrap())
    );
    assert_eq!(p.reverse_for.len(), 4);
}

#[test]
fn boot_machines_by_lower_case_mac() {
    let mut s = snapshot();
    let m = |id: &str, macs: &[&str]| BootMachine {
        system_id: id.into(),
        hostname: id.into(),
        status: "commissioning".into(),
        macs: macs.iter().map(|m| m.to_string()).collect(),
        architecture: "amd64/generic".into(),
        osystem: String::new(),
        distro_series: String::new(),
        netboot: true,
    };
    s.machines = vec![
        m("a", &["52:54:00:AA:00:01", "52:54:00:aa:00:02"]),
        m("b", &["52:54:00:aa:00:01"]),
    ];
    let b = boot_machines(&s);
    let got: Vec<(&str, &str)> = b
        .iter()
        .map(|(mac, m)| (mac.as_str(), m.system_id.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![("52:54:00:aa:00:01", "a"), ("52:54:00:aa:00:02", "a")]
    );
}
