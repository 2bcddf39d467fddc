//! Slow, idle and greedy clients: the API closes connections that stall in
//! the head, the body or between requests, refuses a declared body over the
//! limit before reading it, bounds connections per address; the rack port
//! closes a connection that finishes TLS but never starts HTTP/2.
//! Every wait is bounded, so a regression fails instead of hanging.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use maas_testkit as common;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::TestRegion;

const VERSION: &str = "GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: x\r\n\r\n";

/// A region whose API limits are short (each test shortens the one it tests
/// further and lengthens the others).
async fn region(tune: impl FnOnce(&mut maas_region::region::Options)) -> TestRegion {
    TestRegion::start_with(|o| {
        o.limits.header_read = Duration::from_secs(30);
        o.limits.body_read = Duration::from_secs(30);
        o.limits.idle = Duration::from_secs(30);
        tune(o)
    })
    .await
}

fn api_addr(r: &TestRegion) -> SocketAddr {
    r.running.as_ref().unwrap().addr
}

/// Read until the peer closes (EOF or error) or `limit` passes. Some(bytes
/// read) if it closed, None if it was still open.
async fn closed_within<S: AsyncRead + Unpin>(s: &mut S, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let r = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    r.ok().map(|_| got)
}

/// Read one response (head + content-length body) within 5 s; its status.
async fn response(s: &mut TcpStream) -> u16 {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if got.len() >= end + 4 + len {
                    return;
                }
            }
            let n = s.read(&mut buf).await.expect("reading a response");
            assert!(
                n > 0,
                "closed mid-response: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response within 5 s");
    status_of(&got).expect("a status line")
}

fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_head_is_closed() {
    let r = region(|o| o.limits.header_read = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
    s.write_all(b"GET /MAAS/api/2.0/version/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let got = closed_within(&mut s, Duration::from_secs(6)).await;
    assert!(got.is_some(), "a stalled head kept its connection open");
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "closed too early"
    );
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_keep_alive_connections_are_closed() {
    let r = region(|o| o.limits.idle = Duration::from_secs(1)).await;
    // One that never sends a byte.
    let mut silent = TcpStream::connect(api_addr(&r)).await.unwrap();
    // One that made a request and then keeps the connection idle.
    let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
    s.write_all(VERSION.as_bytes()).await.unwrap();
    assert_eq!(response(&mut s).await, 200);
    // Still open while not idle long: a second request works.
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.write_all(VERSION.as_bytes()).await.unwrap();
    assert_eq!(response(&mut s).await, 200);
    let got = closed_within(&mut s, Duration::from_secs(6)).await;
    assert_eq!(
        got.as_deref(),
        Some(&b""[..]),
        "idle keep-alive stayed open"
    );
    let got = closed_within(&mut silent, Duration::from_secs(2)).await;
    assert!(got.is_some(), "a silent connection stayed open");
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_body_is_answered_408() {
    let r = region(|o| o.limits.body_read = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
    s.write_all(
        b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nhostname=a",
    )
    .await
    .unwrap();
    let t = Instant::now();
    let got = closed_within(&mut s, Duration::from_secs(6))
        .await
        .expect("a stalled body kept its connection open");
    assert_eq!(
        status_of(&got),
        Some(408),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "answered too early"
    );
    r.stop().await;
}

/// A request answered before its body is read (an image upload without
/// credentials: 401 before the stream is read) still gets its
/// answer after the client sends the whole body, and the connection serves
/// the next request: the region reads the unread rest rather than closing
/// on a client that is still sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_answer_waits_for_a_small_body_and_keeps_the_connection() {
    let r = region(|_| {}).await;
    let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
    let body = vec![b'x'; 2 << 20];
    let head = format!(
        "POST /MAAS/api/2.0/boot-resources/ HTTP/1.1\r\nHost: x\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Long enough for the answer to be ready before the body starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for chunk in body.chunks(256 << 10) {
        s.write_all(chunk)
            .await
            .expect("the region stopped reading the body");
    }
    assert_eq!(response(&mut s).await, 401);
    s.write_all(VERSION.as_bytes()).await.unwrap();
    assert_eq!(response(&mut s).await, 200);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_length_over_the_limit_is_refused_at_once() {
    let r = region(|_| {}).await;
    let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
    s.write_all(
        b"POST /MAAS/api/2.0/machines/ HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10737418240\r\n\r\n",
    )
    .await
    .unwrap();
    let t = Instant::now();
    assert_eq!(response(&mut s).await, 413);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_bounded() {
    let r = region(|o| o.limits.per_peer = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
        s.write_all(VERSION.as_bytes()).await.unwrap();
        assert_eq!(response(&mut s).await, 200);
        held.push(s);
    }
    // The fourth is answered 503 and closed.
    let mut extra = TcpStream::connect(api_addr(&r)).await.unwrap();
    let _ = extra.write_all(VERSION.as_bytes()).await;
    let got = closed_within(&mut extra, Duration::from_secs(3))
        .await
        .expect("a connection over the bound stayed open");
    assert_eq!(
        status_of(&got),
        Some(503),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // Earlier connections still work.
    held[0].write_all(VERSION.as_bytes()).await.unwrap();
    assert_eq!(response(&mut held[0]).await, 200);
    // A closed connection frees its slot.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut s = TcpStream::connect(api_addr(&r)).await.unwrap();
        s.write_all(VERSION.as_bytes()).await.unwrap();
        let mut first = [0u8; 12];
        let ok = tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut first))
            .await
            .is_ok_and(|r| r.is_ok())
            && status_of(&first) == Some(200);
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot was not reused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rack_connection_without_a_session_is_closed() {
    let r = TestRegion::start_with(|o| {
        o.rpc_listen = Some("127.0.0.1:0".parse().unwrap());
        o.rpc_session_timeout = Duration::from_secs(1);
    })
    .await;
    let rpc = r.running.as_ref().unwrap().rpc_addr.unwrap();

    // TLS completes, then no HTTP/2 preface.
    let (cfg, _) = maas_rpc::tls::enrollment_client_config().unwrap();
    let tcp = TcpStream::connect(rpc).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(maas_rpc::tls::REGION_NAME)
        .unwrap()
        .to_owned();
    let mut tls = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(cfg).connect(name, tcp),
    )
    .await
    .expect("TLS handshake in time")
    .expect("TLS handshake");
    let t = Instant::now();
    assert!(
        closed_within(&mut tls, Duration::from_secs(6))
            .await
            .is_some(),
        "a TLS connection with no HTTP/2 preface stayed open"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(500),
        "closed too early"
    );

    // No TLS at all: closed within the same limit.
    let mut raw = TcpStream::connect(rpc).await.unwrap();
    assert!(
        closed_within(&mut raw, Duration::from_secs(6))
            .await
            .is_some(),
        "a silent TCP connection stayed open"
    );

    // Something other than HTTP/2 after TLS: closed at once.
    let (cfg, _) = maas_rpc::tls::enrollment_client_config().unwrap();
    let tcp = TcpStream::connect(rpc).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(maas_rpc::tls::REGION_NAME)
        .unwrap()
        .to_owned();
    let mut tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nxxxxxxxx")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    assert!(
        closed_within(&mut tls, Duration::from_millis(900))
            .await
            .is_some(),
        "a TLS connection speaking HTTP/1 stayed open"
    );
    r.stop().await;
}
