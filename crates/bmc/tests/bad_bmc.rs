//! IPMI bad input: a silent BMC, one that answers garbage, truncated or
//! corrupted packets, and bad parameters. Clear errors, no panic, nothing past
//! its timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;
use maas_bmc::{DriverOptions, PowerError, driver_for_with};
use tokio::net::UdpSocket;

fn opts() -> DriverOptions {
    DriverOptions {
        call_timeout: Duration::from_secs(5),
        attempt_timeout: Duration::from_millis(200),
        retries: 2,
    }
}

/// How a fake BMC answers a packet (None: silence).
type Reply = fn(&[u8]) -> Option<Vec<u8>>;

/// A UDP "BMC" answering every packet with `reply(packet)`.
async fn fake_bmc(reply: Reply) -> (u16, tokio::task::JoinHandle<()>) {
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let port = s.local_addr().expect("addr").port();
    let h = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = s.recv_from(&mut buf).await {
            if let Some(r) = reply(&buf[..n]) {
                let _ = s.send_to(&r, peer).await;
            }
        }
    });
    (port, h)
}

async fn query(port: u16, driver: &str) -> (Result<maas_bmc::PowerState, PowerError>, Duration) {
    let p = params(&[
        ("power_address", &format!("127.0.0.1:{port}")),
        ("power_user", "admin"),
        ("power_pass", "secret"),
        ("power_driver", driver),
    ]);
    let d = driver_for_with("ipmi", &p, opts()).expect("driver");
    let t = Instant::now();
    let r = d.query().await;
    (r, t.elapsed())
}

#[tokio::test]
async fn a_silent_bmc_is_unreachable_within_the_timeout() {
    let (port, h) = fake_bmc(|_| None).await;
    for driver in ["LAN_2_0", "LAN"] {
        let (r, took) = query(port, driver).await;
        assert!(
            matches!(r, Err(PowerError::Unreachable { .. })),
            "{driver}: {r:?}"
        );
        // 3 tries × 200 ms, and well under the 5 s call timeout.
        assert!(
            took >= Duration::from_millis(550) && took < Duration::from_secs(2),
            "{driver}: {took:?}"
        );
    }
    h.abort();
}

#[tokio::test]
async fn garbage_and_truncated_replies_are_protocol_errors() {
    let replies: [Reply; 5] = [
        |_| Some(b"hello, not IPMI".to_vec()),
        |p| Some(p[..p.len().min(7)].to_vec()),
        |_| Some(vec![]),
        // RMCP header, then an RMCP+ header whose length overruns the packet.
        |_| {
            Some(vec![
                0x06, 0x00, 0xff, 0x07, 0x06, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
            ])
        },
        // A well-framed IPMI 1.5 answer with a broken checksum.
        |_| {
            Some(vec![
                0x06, 0x00, 0xff, 0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0x81, 0x1c, 0x00, 0x20,
                0x00, 0x38, 0x00, 0x00,
            ])
        },
    ];
    for (i, reply) in replies.into_iter().enumerate() {
        let (port, h) = fake_bmc(reply).await;
        for driver in ["LAN_2_0", "LAN"] {
            let (r, took) = query(port, driver).await;
            assert!(
                matches!(r, Err(PowerError::Protocol(_))),
                "reply {i} {driver}: {r:?}"
            );
            assert!(
                took < Duration::from_secs(2),
                "reply {i} {driver}: {took:?}"
            );
        }
        h.abort();
    }
}

#[tokio::test]
async fn a_bmc_without_rmcp_plus_or_suite_is_unsupported_and_bad_params_are_refused() {
    // Channel auth caps answering "IPMI 1.5 only".
    let (port, h) = fake_bmc(|p| {
        let seq = p.get(18)? >> 2;
        let mut m = vec![
            0x81,
            0x1c,
            0x63,
            0x20,
            seq << 2,
            0x38,
            0x00,
            0x01,
            0x14,
            0x00,
            0x00,
            0,
            0,
            0,
            0,
        ];
        let c = m[3..]
            .iter()
            .fold(0u8, |a, b| a.wrapping_add(*b))
            .wrapping_neg();
        m.push(c);
        let mut r = vec![
            0x06,
            0x00,
            0xff,
            0x07,
            0x00,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            m.len() as u8,
        ];
        r.extend(m);
        Some(r)
    })
    .await;
    let (r, _) = query(port, "LAN_2_0").await;
    assert!(matches!(r, Err(PowerError::Unsupported(_))), "{r:?}");
    h.abort();
    for (k, v) in [
        ("power_address", ""),
        ("power_address", "host:port"),
        ("cipher_suite_id", "1"),
        ("privilege_level", "ROOT"),
        ("power_driver", "SSH"),
        ("power_boot_type", "uefi-ish"),
        ("k_g", "0xzz"),
    ] {
        let mut p = params(&[
            ("power_address", "127.0.0.1"),
            ("power_user", "a"),
            ("power_pass", "b"),
        ]);
        p.insert(k.into(), v.into());
        assert!(
            matches!(
                driver_for_with("ipmi", &p, opts()),
                Err(PowerError::BadParameters(_))
            ),
            "{k}={v}"
        );
    }
    let p = params(&[
        ("power_address", "127.0.0.1:1"),
        ("power_user", "a"),
        ("power_pass", &"x".repeat(21)),
    ]);
    let d = driver_for_with("ipmi", &p, opts()).expect("driver");
    assert!(matches!(d.query().await, Err(PowerError::BadParameters(_))));
}

#[tokio::test]
async fn suite_17_is_refused_cleanly_by_a_suite_3_only_bmc() {
    let sim = ipmi_sim();
    let d = ipmi_driver(&sim, &[("cipher_suite_id", "17")]);
    let r = d.query().await;
    // ipmi_sim only links SHA-1: Open Session answers "invalid authentication algorithm".
    assert!(
        matches!(&r, Err(PowerError::Unsupported(m)) if m.contains("cipher suite 17")),
        "{r:?}"
    );
}
