use maas_model::desired::{
    BootMachine, BootSettings, DhcpRole, DnsRecord, DnsZone, Image, IpRange, NetworkSettings,
    Reservation, Snapshot, StaticRoute, Subnet, Vlan,
};
use maas_model::net::{Cidr, RangeType};
use maas_model::rack::{
    BootRequest, Event, EventKind, Interface, Lease, PowerResult, ServiceHealth,
};
use prost::Message;

use super::{Invalid, list};
use crate::pb;

fn snapshot() -> Snapshot {
    Snapshot {
        generation: 7,
        hash: "abc".into(),
        vlans: vec![
            Vlan {
                id: 1,
                vid: 0,
                fabric: "fabric-0".into(),
                mtu: 1500,
                dhcp_on: true,
                dhcp_role: Some(DhcpRole::Primary),
                relay_vlan_id: None,
                serve_dhcp: true,
            },
            Vlan {
                id: 2,
                vid: 100,
                fabric: "fabric-0".into(),
                mtu: 9000,
                dhcp_on: false,
                dhcp_role: None,
                relay_vlan_id: Some(1),
                serve_dhcp: false,
            },
        ],
        subnets: vec![
            Subnet {
                id: 10,
                vlan_id: 1,
                cidr: Cidr::parse("10.0.0.0/24").unwrap(),
                gateway_ip: Some("10.0.0.1".parse().unwrap()),
                dns_servers: vec!["10.0.0.53".into()],
                managed: true,
                allow_dns: true,
                static_routes: vec![StaticRoute {
                    destination: Cidr::parse("10.9.0.0/16").unwrap(),
                    gateway: "10.0.0.254".parse().unwrap(),
                    metric: 5,
                }],
            },
            Subnet {
                id: 11,
                vlan_id: 2,
                cidr: Cidr::parse("fd00::/64").unwrap(),
                gateway_ip: None,
                dns_servers: vec![],
                managed: false,
                allow_dns: false,
                static_routes: vec![],
            },
        ],
        ranges: vec![IpRange {
            subnet_id: 10,
            kind: RangeType::Dynamic,
            start_ip: "10.0.0.100".parse().unwrap(),
            end_ip: "10.0.0.200".parse().unwrap(),
        }],
        reservations: vec![
            Reservation {
                subnet_id: 10,
                mac: "52:54:00:00:00:01".into(),
                ip: "10.0.0.5".parse().unwrap(),
                hostname: Some("node1".into()),
            },
            Reservation {
                subnet_id: 11,
                mac: "52:54:00:00:00:02".into(),
                ip: "fd00::5".parse().unwrap(),
                hostname: None,
            },
        ],
        boot: BootSettings {
            default_osystem: "ubuntu".into(),
            default_distro_series: "jammy".into(),
            commissioning_osystem: "ubuntu".into(),
            commissioning_distro_series: "jammy".into(),
            kernel_opts: "console=ttyS0".into(),
            maas_url: "http://region:5240/MAAS".into(),
        },
        zones: vec![DnsZone {
            name: "maas".into(),
            ttl: 30,
            serial: 42,
            authoritative: true,
            records: vec![DnsRecord {
                name: "node1".into(),
                rtype: "A".into(),
                data: "10.0.0.5".into(),
                ttl: 30,
            }],
        }],
        images: vec![
            Image {
                name: "custom/tiny".into(),
                architecture: "amd64/generic".into(),
                filetype: "root-dd.raw".into(),
                filename: "root-dd.raw".into(),
                sha256: "0a".repeat(32),
                size: 1 << 30,
            },
            Image {
                name: "ephemeral".into(),
                architecture: "amd64/generic".into(),
                filetype: "boot-kernel".into(),
                filename: "boot-kernel".into(),
                sha256: "f1".repeat(32),
                size: 12_345_678,
            },
        ],
        network: NetworkSettings {
            ntp_servers: vec!["ntp.example.com".into()],
            upstream_dns: vec!["10.0.0.53".into()],
            default_domain: "maas".into(),
            lease_time: 600,
        },
        machines: vec![BootMachine {
            system_id: "abcdef".into(),
            hostname: "node1".into(),
            status: "Commissioning".into(),
            macs: vec!["52:54:00:00:00:01".into()],
            architecture: "amd64/generic".into(),
            osystem: "ubuntu".into(),
            distro_series: "jammy".into(),
            netboot: true,
        }],
    }
}

#[test]
fn snapshot_round_trips_through_the_wire() {
    let s = snapshot();
    let wire = pb::Snapshot::from(&s).encode_to_vec();
    let back = Snapshot::try_from(pb::Snapshot::decode(wire.as_slice()).unwrap()).unwrap();
    assert_eq!(back, s);
    // Empty is empty both ways (an absent boot message is the defaults).
    let empty = Snapshot::try_from(pb::Snapshot::default()).unwrap();
    assert_eq!(empty, Snapshot::default());
}

#[test]
fn wire_conventions_for_none() {
    let p = pb::Snapshot::from(&snapshot());
    assert_eq!(p.vlans[0].dhcp_role, "primary");
    assert_eq!(
        (p.vlans[0].relay_vlan_id, p.vlans[1].dhcp_role.as_str()),
        (0, "")
    );
    assert_eq!(p.subnets[1].gateway_ip, "");
    assert_eq!(p.ranges[0].r#type, "dynamic");
    assert_eq!(p.reservations[1].hostname, "");
}

/// Break one field of a valid wire snapshot; the conversion must refuse it
/// and name the field.
fn refused(field: &str, spoil: impl FnOnce(&mut pb::Snapshot)) {
    let mut p = pb::Snapshot::from(&snapshot());
    spoil(&mut p);
    let e = Snapshot::try_from(p).unwrap_err();
    assert_eq!(e.field, field, "{e}");
}

#[test]
fn bad_snapshots_are_refused() {
    refused("vlans[1].vid", |p| p.vlans[1].vid = 4095);
    refused("vlans[0].vid", |p| p.vlans[0].vid = -1);
    refused("vlans[0].dhcp_role", |p| {
        p.vlans[0].dhcp_role = "boss".into()
    });
    refused("vlans[1].relay_vlan_id", |p| p.vlans[1].relay_vlan_id = -4);
    refused("subnets[0].cidr", |p| p.subnets[0].cidr = "10.0.0.0".into());
    refused("subnets[1].cidr", |p| {
        p.subnets[1].cidr = "fd00::/129".into()
    });
    refused("subnets[0].gateway_ip", |p| {
        p.subnets[0].gateway_ip = "10.0.0.300".into()
    });
    refused("subnets[0].static_routes.gateway", |p| {
        p.subnets[0].static_routes[0].gateway = "nope".into()
    });
    refused("subnets[0].static_routes.destination", |p| {
        p.subnets[0].static_routes[0].destination = "10.9.0.0/33".into()
    });
    refused("ranges[0].type", |p| p.ranges[0].r#type = "static".into());
    refused("ranges[0].start_ip", |p| p.ranges[0].start_ip = "".into());
    refused("ranges[0].end_ip", |p| p.ranges[0].end_ip = "x".into());
    refused("reservations[1].ip", |p| {
        p.reservations[1].ip = "fd00::g".into()
    });
    // The rack names files by the digest: nothing else gets through.
    refused("images[1].sha256", |p| p.images[1].sha256 = "../x".into());
    refused("images[0].sha256", |p| p.images[0].sha256 = "AB".repeat(32));
    refused("images[0].sha256", |p| p.images[0].sha256 = "ab".repeat(31));
}

fn events() -> Vec<Event> {
    let kinds = [
        EventKind::Lease(Lease {
            action: "commit".into(),
            mac: "52:54:00:00:00:01".into(),
            ip: "10.0.0.5".into(),
            hostname: "node1".into(),
            lease_time: 600,
        }),
        EventKind::Boot(BootRequest {
            mac: "52:54:00:00:00:01".into(),
            arch: "amd64".into(),
            purpose: "commissioning".into(),
            remote_ip: "10.0.0.5".into(),
            file: "grubx64.efi".into(),
        }),
        EventKind::Power(PowerResult {
            job_id: 9,
            system_id: "abcdef".into(),
            action: "on".into(),
            ok: false,
            state: "unknown".into(),
            error: "timeout".into(),
        }),
        EventKind::Health(ServiceHealth {
            service: "dhcpd".into(),
            status: "running".into(),
            info: "".into(),
        }),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(k, kind)| Event {
            seq: k as u64 + 1,
            occurred_unix_ms: 1_700_000_000_000 + k as i64,
            kind,
        })
        .collect()
}

#[test]
fn events_round_trip_and_bad_ones_are_refused() {
    let wire: Vec<pb::Event> = events().iter().map(Into::into).collect();
    let back: Vec<Event> = list("events", wire.clone()).unwrap();
    assert_eq!(back, events());
    let mut no_kind = wire.clone();
    no_kind[2].kind = None;
    let e: Invalid = list::<_, Event>("events", no_kind).unwrap_err();
    assert_eq!(e.field, "events[2].kind");
    let mut zero = wire;
    zero[0].seq = 0;
    assert_eq!(
        list::<_, Event>("events", zero).unwrap_err().field,
        "events[0].seq"
    );
}

#[test]
fn interfaces_round_trip_and_bad_vids_are_refused() {
    let i = Interface {
        name: "eth0.100".into(),
        mac: "52:54:00:00:00:01".into(),
        kind: "vlan".into(),
        parent: Some("eth0".into()),
        vid: Some(100),
        addresses: vec!["10.0.0.2/24".into()],
    };
    assert_eq!(Interface::try_from(pb::Interface::from(&i)).unwrap(), i);
    let bare = Interface::try_from(pb::Interface {
        name: "eth0".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        (bare.kind.as_str(), bare.parent, bare.vid),
        ("physical", None, None)
    );
    for vid in [-1, 4095] {
        let e = list::<_, Interface>(
            "interfaces",
            vec![pb::Interface {
                vid,
                ..Default::default()
            }],
        )
        .unwrap_err();
        assert_eq!(e.field, "interfaces[0].vid");
    }
}
