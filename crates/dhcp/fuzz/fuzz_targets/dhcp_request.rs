//! The engine's request path on arbitrary bytes: never panics; a reply, if
//! any, is a well-formed BOOTREPLY. The first byte picks direct or relayed
//! receive metadata so both subnet-selection paths are exercised.
#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use maas_dhcp::leases::Table;
use maas_dhcp::{Compiled, Config, Engine, Metrics, Ports, RecvMeta};

fn engine() -> &'static Mutex<Engine> {
    static E: OnceLock<Mutex<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        let cfg: Config = serde_json::from_str(
            r#"{"subnets": [
                {"cidr": "10.0.0.0/24", "interface": "eth0", "router": "10.0.0.1",
                 "dns_servers": ["10.0.0.1"], "domain": "maas.test", "search": ["maas.test"],
                 "ntp_servers": ["10.0.0.1"], "mtu": 1500,
                 "static_routes": [{"destination": "10.9.0.0/16", "gateway": "10.0.0.254"}],
                 "ranges": [{"start": "10.0.0.100", "end": "10.0.0.120"}],
                 "excluded": [{"start": "10.0.0.100", "end": "10.0.0.101"}],
                 "reservations": [{"mac": "52:54:00:00:00:aa", "ip": "10.0.0.50"}]},
                {"cidr": "10.7.0.0/24", "ranges": [{"start": "10.7.0.10", "end": "10.7.0.20"}]}
            ]}"#,
        )
        .expect("fuzz config");
        Mutex::new(Engine::new(
            Arc::new(Compiled::new(cfg).expect("valid")),
            Table::default(),
            Arc::new(Metrics::default()),
            Ports::default(),
        ))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, pkt)) = data.split_first() else {
        return;
    };
    let meta = RecvMeta {
        ifindex: 2,
        ifname: if sel & 1 == 0 { "eth0" } else { "eth9" },
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        local: Ipv4Addr::new(10, 0, 0, 1),
    };
    let mut e = match engine().lock() {
        Ok(e) => e,
        Err(p) => p.into_inner(),
    };
    let now = 1_000_000 + u64::from(sel >> 1);
    if let Some(r) = e.handle(pkt, &meta, now) {
        assert!(
            r.bytes.len() >= 240 && r.bytes[0] == 2,
            "a reply is a BOOTREPLY"
        );
    }
    e.tick(now);
    let mut recs = Vec::new();
    e.take_records(&mut recs);
    let mut evs = Vec::new();
    e.take_events(&mut evs);
});
