//! The engine with hand-built packets: PXE selection per arch and class,
//! reservations, excluded ranges, NAKs, DECLINE quarantine, INFORM, option
//! 82 echo, reply addressing, parameter request list, malformed input.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use dhcproto::v4::{
    Architecture, DhcpOption, Flags, Message, MessageType, Opcode, OptionCode, UnknownOption,
};
use dhcproto::{Decodable, Encodable};
use maas_dhcp::leases::Table;
use maas_dhcp::{Compiled, Config, Engine, Metrics, Ports, RecvMeta, Reply};

const SRV: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const NOW: u64 = 1_000_000;

fn config() -> Config {
    serde_json::from_value(serde_json::json!({
        "subnets": [{
            "cidr": "10.0.0.0/24", "interface": "eth0", "router": "10.0.0.1",
            "dns_servers": ["10.0.0.1"], "domain": "maas.test", "lease_time": 600,
            "ranges": [{"start": "10.0.0.100", "end": "10.0.0.105"}],
            "excluded": [{"start": "10.0.0.100", "end": "10.0.0.101"}],
            "reservations": [
                {"mac": "52:54:00:00:00:aa", "ip": "10.0.0.50", "hostname": "node-a"},
                {"mac": "52:54:00:00:00:bb", "ip": "10.0.0.103"}
            ],
            "static_routes": [{"destination": "10.9.0.0/16", "gateway": "10.0.0.254"}]
        }, {
            "cidr": "10.7.0.0/24", "router": "10.7.0.1",
            "ranges": [{"start": "10.7.0.10", "end": "10.7.0.20"}]
        }]
    }))
    .unwrap()
}

fn engine() -> Engine {
    Engine::new(
        Arc::new(Compiled::new(config()).unwrap()),
        Table::default(),
        Arc::new(Metrics::default()),
        Ports::default(),
    )
}

fn meta() -> RecvMeta<'static> {
    RecvMeta {
        ifindex: 2,
        ifname: "eth0",
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        local: SRV,
    }
}

fn mac(last: u8) -> [u8; 6] {
    [0x52, 0x54, 0, 0, 0, last]
}

fn packet(mt: MessageType, hw: [u8; 6], opts: Vec<DhcpOption>) -> Message {
    let mut m = Message::default();
    m.set_opcode(Opcode::BootRequest)
        .set_xid(0x1234)
        .set_chaddr(&hw);
    m.opts_mut().insert(DhcpOption::MessageType(mt));
    for o in opts {
        m.opts_mut().insert(o);
    }
    m
}

fn run(e: &mut Engine, m: &Message) -> Option<(Reply, Message)> {
    let r = e.handle(&m.to_vec().unwrap(), &meta(), NOW)?;
    let parsed = Message::from_bytes(&r.bytes).unwrap();
    Some((r, parsed))
}

fn mt(m: &Message) -> MessageType {
    m.opts().msg_type().unwrap()
}

fn dora(e: &mut Engine, hw: [u8; 6]) -> Ipv4Addr {
    let (_, offer) = run(e, &packet(MessageType::Discover, hw, vec![])).unwrap();
    assert_eq!(mt(&offer), MessageType::Offer);
    let ip = offer.yiaddr();
    let (r, ack) = run(
        e,
        &packet(
            MessageType::Request,
            hw,
            vec![
                DhcpOption::ServerIdentifier(SRV),
                DhcpOption::RequestedIpAddress(ip),
            ],
        ),
    )
    .unwrap();
    assert_eq!(mt(&ack), MessageType::Ack);
    assert!(r.durable, "an ACK waits for the lease log");
    ip
}

#[test]
fn offers_skip_excluded_and_reserved_and_the_pool_runs_out() {
    let mut e = engine();
    let mut got = Vec::new();
    for k in 1..=3 {
        got.push(dora(&mut e, mac(k)));
    }
    // .100-.101 excluded, .103 reserved for bb: .102, .104, .105.
    assert_eq!(
        got,
        ["10.0.0.102", "10.0.0.104", "10.0.0.105"].map(|s| s.parse::<Ipv4Addr>().unwrap())
    );
    assert!(run(&mut e, &packet(MessageType::Discover, mac(9), vec![])).is_none());
    let mut s = String::new();
    e.metrics.render_prometheus(&mut s);
    assert!(s.contains("maas_dhcp_pool_exhausted_total 1"), "{s}");
    // The same client gets its address again.
    assert_eq!(dora(&mut e, mac(2)), got[1]);
}

#[test]
fn reservations_always_get_their_address_and_hostname() {
    let mut e = engine();
    assert_eq!(dora(&mut e, mac(0xaa)), Ipv4Addr::new(10, 0, 0, 50));
    assert_eq!(dora(&mut e, mac(0xbb)), Ipv4Addr::new(10, 0, 0, 103));
    let (_, ack) = run(
        &mut e,
        &packet(
            MessageType::Request,
            mac(0xaa),
            vec![DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 50))],
        ),
    )
    .unwrap();
    assert_eq!(
        ack.opts().get(OptionCode::Hostname),
        Some(&DhcpOption::Hostname("node-a".into()))
    );
    // Someone else asking for a reserved address is refused.
    let (_, nak) = run(
        &mut e,
        &packet(
            MessageType::Request,
            mac(7),
            vec![DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 0, 0, 103))],
        ),
    )
    .unwrap();
    assert_eq!(mt(&nak), MessageType::Nak);
}

#[test]
fn naks_wrong_subnet_excluded_and_taken_addresses_broadcast() {
    let mut e = engine();
    let taken = dora(&mut e, mac(1));
    for ip in [
        Ipv4Addr::new(192, 168, 5, 5),
        Ipv4Addr::new(10, 0, 0, 100),
        taken,
    ] {
        let (r, nak) = run(
            &mut e,
            &packet(
                MessageType::Request,
                mac(2),
                vec![DhcpOption::RequestedIpAddress(ip)],
            ),
        )
        .unwrap();
        assert_eq!(mt(&nak), MessageType::Nak, "{ip}");
        assert!(r.broadcast);
        assert_eq!(nak.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert!(nak.opts().get(OptionCode::AddressLeaseTime).is_none());
    }
}

#[test]
fn selecting_another_server_drops_our_offer_silently() {
    let mut e = engine();
    let (_, offer) = run(&mut e, &packet(MessageType::Discover, mac(1), vec![])).unwrap();
    let other = packet(
        MessageType::Request,
        mac(1),
        vec![
            DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 0, 0, 2)),
            DhcpOption::RequestedIpAddress(offer.yiaddr()),
        ],
    );
    assert!(run(&mut e, &other).is_none());
    assert!(e.table.get(offer.yiaddr()).is_none(), "offer released");
}

#[test]
fn renewal_is_unicast_to_ciaddr_and_leases_outside_new_pools_are_not_renewed() {
    let mut e = engine();
    let ip = dora(&mut e, mac(1));
    let mut renew = packet(MessageType::Request, mac(1), vec![]);
    renew.set_ciaddr(ip);
    let (r, ack) = run(&mut e, &renew).unwrap();
    assert_eq!(mt(&ack), MessageType::Ack);
    assert_eq!(r.dst, SocketAddrV4::new(ip, 68));
    assert!(!r.broadcast);
    assert_eq!(
        ack.opts().get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(600))
    );
    assert_eq!(
        ack.opts().get(OptionCode::Renewal),
        Some(&DhcpOption::Renewal(300))
    );
    assert_eq!(
        ack.opts().get(OptionCode::Rebinding),
        Some(&DhcpOption::Rebinding(525))
    );
    // New config: the pool moved; the lease is kept but not renewed.
    let mut cfg = config();
    cfg.subnets[0].ranges = vec![maas_dhcp::IpRange {
        start: Ipv4Addr::new(10, 0, 0, 150),
        end: Ipv4Addr::new(10, 0, 0, 160),
    }];
    e.set_config(Arc::new(Compiled::new(cfg).unwrap()));
    assert!(e.table.get(ip).is_some());
    let (_, nak) = run(&mut e, &renew).unwrap();
    assert_eq!(mt(&nak), MessageType::Nak);
}

#[test]
fn decline_quarantines_the_address() {
    let mut e = engine();
    let ip = dora(&mut e, mac(1));
    let d = packet(
        MessageType::Decline,
        mac(1),
        vec![DhcpOption::RequestedIpAddress(ip)],
    );
    assert!(run(&mut e, &d).is_none());
    let mut recs = Vec::new();
    e.take_records(&mut recs);
    assert!(recs.iter().any(|r| r.op == b'D' && r.ip == ip));
    // Nobody, not even the decliner, is offered it while quarantined.
    for k in [1u8, 2, 3] {
        if let Some((_, o)) = run(&mut e, &packet(MessageType::Discover, mac(k), vec![])) {
            assert_ne!(o.yiaddr(), ip);
        }
    }
}

#[test]
fn inform_acks_options_without_a_lease() {
    let mut e = engine();
    let mut m = packet(MessageType::Inform, mac(4), vec![]);
    m.set_ciaddr(Ipv4Addr::new(10, 0, 0, 77));
    let (r, ack) = run(&mut e, &m).unwrap();
    assert_eq!(mt(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(ack.opts().get(OptionCode::AddressLeaseTime).is_none());
    assert_eq!(
        ack.opts().get(OptionCode::Router),
        Some(&DhcpOption::Router(vec![SRV]))
    );
    assert_eq!(r.dst, SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 77), 68));
    assert!(e.table.by_ip.is_empty());
}

#[test]
fn relayed_requests_use_the_giaddr_subnet_reply_to_the_relay_and_echo_82() {
    let mut e = engine();
    let agent = vec![1, 4, b'p', b'o', b'r', b't', 2, 2, 0xab, 0xcd];
    let mut m = packet(
        MessageType::Discover,
        mac(5),
        vec![DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(82u8),
            agent.clone(),
        ))],
    );
    m.set_giaddr(Ipv4Addr::new(10, 7, 0, 1));
    let (r, offer) = run(&mut e, &m).unwrap();
    assert!(offer.yiaddr().octets()[..3] == [10, 7, 0]);
    assert_eq!(r.dst, SocketAddrV4::new(Ipv4Addr::new(10, 7, 0, 1), 67));
    assert!(!r.broadcast);
    assert_eq!(offer.giaddr(), Ipv4Addr::new(10, 7, 0, 1));
    let raw = maas_dhcp::wire::raw_option(&r.bytes, 82).unwrap();
    assert_eq!(raw, &agent[..], "option 82 echoed verbatim");
    // A giaddr on no served subnet: dropped.
    m.set_giaddr(Ipv4Addr::new(10, 99, 0, 1));
    assert!(run(&mut e, &m).is_none());
}

fn boot(arch: Option<u16>, class: Option<&[u8]>, user: Option<&[u8]>) -> Message {
    let mut o = vec![DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::TFTPServerName,
        OptionCode::BootfileName,
    ])];
    if let Some(a) = arch {
        o.push(DhcpOption::ClientSystemArchitecture(Architecture(a)));
    }
    if let Some(c) = class {
        o.push(DhcpOption::ClassIdentifier(c.to_vec()));
    }
    if let Some(u) = user {
        o.push(DhcpOption::UserClass(u.to_vec()));
    }
    let mut e = engine();
    run(&mut e, &packet(MessageType::Discover, mac(1), o))
        .unwrap()
        .1
}

fn file(m: &Message) -> String {
    match m.opts().get(OptionCode::BootfileName) {
        Some(DhcpOption::BootfileName(b)) => String::from_utf8(b.clone()).unwrap(),
        _ => String::new(),
    }
}

#[test]
fn pxe_selection_for_each_arch_and_class() {
    let pxe = Some(&b"PXEClient:Arch:00000:UNDI:002001"[..]);
    let bios = boot(Some(0), pxe, None);
    assert_eq!(file(&bios), "undionly.kpxe");
    assert_eq!(bios.siaddr(), SRV);
    // The BOOTP file field (NUL-padded) carries the name too.
    let raw = bios.to_vec().unwrap();
    assert_eq!(&raw[108..108 + 14], b"undionly.kpxe\0");
    assert_eq!(
        bios.opts().get(OptionCode::TFTPServerName),
        Some(&DhcpOption::TFTPServerName(b"10.0.0.1".to_vec()))
    );
    assert_eq!(file(&boot(Some(7), pxe, None)), "snponly.efi");
    assert_eq!(file(&boot(Some(9), pxe, None)), "snponly.efi");
    assert_eq!(file(&boot(Some(11), pxe, None)), "grubaa64.efi");
    let http = Some(&b"HTTPClient:Arch:00016:UNDI:003001"[..]);
    let h = boot(Some(16), http, None);
    assert_eq!(file(&h), "http://10.0.0.1:5248/boot/snponly.efi");
    assert_eq!(
        h.opts().get(OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"HTTPClient".to_vec()))
    );
    assert_eq!(
        file(&boot(Some(19), http, None)),
        "http://10.0.0.1:5248/boot/grubaa64.efi"
    );
    assert_eq!(
        file(&boot(Some(0), pxe, Some(b"iPXE"))),
        "http://10.0.0.1:5248/ipxe.cfg"
    );
    // A plain client gets no boot file.
    let plain = boot(None, None, None);
    assert_eq!(file(&plain), "");
    assert_eq!(plain.siaddr(), Ipv4Addr::UNSPECIFIED);
}

#[test]
fn parameter_request_list_and_size_limit_are_respected() {
    let mut e = engine();
    let m = packet(
        MessageType::Discover,
        mac(1),
        vec![DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
        ])],
    );
    let (r, offer) = run(&mut e, &m).unwrap();
    assert!(offer.opts().get(OptionCode::Router).is_none());
    assert!(offer.opts().get(OptionCode::SubnetMask).is_some());
    assert_eq!(r.bytes[240], 53, "option 53 comes first");
    let (_, all) = run(&mut e, &packet(MessageType::Discover, mac(2), vec![])).unwrap();
    assert!(all.opts().get(OptionCode::Router).is_some());
    assert!(all.opts().get(OptionCode::ClasslessStaticRoute).is_some());
    assert!(r.bytes.len() <= 548);
}

#[test]
fn malformed_packets_are_dropped_and_counted() {
    let mut e = engine();
    let good = packet(MessageType::Discover, mac(1), vec![])
        .to_vec()
        .unwrap();
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![1; 10], good[..239].to_vec()];
    let mut bad_hlen = good.clone();
    bad_hlen[2] = 200;
    inputs.push(bad_hlen);
    let mut reply_op = good.clone();
    reply_op[0] = 2;
    inputs.push(reply_op);
    let mut truncated_opt = good[..240].to_vec();
    truncated_opt.extend_from_slice(&[53, 1]);
    inputs.push(truncated_opt);
    for i in &inputs {
        assert!(e.handle(i, &meta(), NOW).is_none());
    }
    let mut s = String::new();
    e.metrics.render_prometheus(&mut s);
    assert!(
        s.contains("maas_dhcp_dropped_total{reason=\"malformed\"} 5"),
        "{s}"
    );
    let _ = Flags::default();
}
