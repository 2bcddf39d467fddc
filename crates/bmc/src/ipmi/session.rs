//! An async IPMI session over UDP: RMCP+ (IPMI 2.0, suites 3 and 17) or IPMI 1.5
//! (MD5 / straight password), with per-attempt timeouts, bounded retransmissions
//! and session sequence numbers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
use tokio::net::UdpSocket;

use super::crypto::{self, RakpInputs, Suite};
use super::packet::{self as pk, PacketError, Protect};
use crate::error::{PowerError, Result};

/// Session settings taken from the power parameters.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub addr: SocketAddr,
    pub user: String,
    pub password: String,
    pub kg: Option<Vec<u8>>,
    /// IPMI privilege: 2 user, 3 operator, 4 administrator.
    pub privilege: u8,
    pub suite: Suite,
    /// Wait for one answer before retransmitting.
    pub attempt_timeout: Duration,
    /// Retransmissions after the first try.
    pub retries: u32,
}

enum Kind {
    V20 {
        sid_c: u32,
        sid_m: u32,
        protect: Protect,
    },
    V15 {
        auth_type: u8,
        session_id: u32,
        password: [u8; 16],
    },
}

/// An open session; close it with [`Session::close`].
pub struct Session {
    sock: UdpSocket,
    cfg: SessionConfig,
    kind: Kind,
    out_seq: u32,
    /// The last session sequence number accepted from the BMC (RMCP+); replays
    /// and duplicates at or below it are dropped.
    in_seq: u32,
    rq_seq: u8,
}

fn priv_ok(p: u8) -> bool {
    (1..=5).contains(&p)
}

async fn socket(addr: SocketAddr) -> Result<UdpSocket> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([0u8, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(local)
        .await
        .map_err(|e| PowerError::Protocol(format!("cannot open a UDP socket: {e}")))?;
    sock.connect(addr)
        .await
        .map_err(|e| PowerError::Protocol(format!("cannot address {addr}: {e}")))?;
    Ok(sock)
}

/// Send packets built by `build(attempt)` until a reply passes `accept`, retrying
/// `retries` times. No reply at all → Unreachable; only garbage → Protocol.
async fn round_trip<T>(
    sock: &UdpSocket,
    cfg: &SessionConfig,
    mut build: impl FnMut() -> Vec<u8>,
    mut accept: impl FnMut(&[u8]) -> std::result::Result<Option<T>, PacketError>,
) -> Result<T> {
    let started = Instant::now();
    let mut last_bad: Option<PacketError> = None;
    let mut buf = vec![0u8; 2048];
    for attempt in 0..=cfg.retries {
        let pkt = build();
        if let Err(e) = sock.send(&pkt).await {
            tracing::debug!(bmc = %cfg.addr, attempt, error = %e, "send failed");
        }
        let deadline = tokio::time::Instant::now() + cfg.attempt_timeout;
        loop {
            let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) => {
                    // ICMP port unreachable shows up here: count it as no answer.
                    tracing::debug!(bmc = %cfg.addr, error = %e, "recv failed");
                    tokio::time::sleep_until(deadline).await;
                    break;
                }
                Ok(Ok(n)) => n,
            };
            match accept(&buf[..n]) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => continue, // a stale or duplicate answer
                Err(e) => {
                    tracing::debug!(bmc = %cfg.addr, error = %e, len = n, "dropped a malformed reply");
                    last_bad = Some(e);
                }
            }
        }
        tracing::debug!(bmc = %cfg.addr, attempt, "no answer; retransmitting");
    }
    match last_bad {
        Some(e) => Err(PowerError::Protocol(format!(
            "BMC {} sent only malformed replies: {e}",
            cfg.addr
        ))),
        None => Err(PowerError::Unreachable {
            addr: cfg.addr.to_string(),
            waited: started.elapsed(),
        }),
    }
}

fn cc_error(r: &pk::IpmiResponse) -> PowerError {
    PowerError::BmcError {
        completion_code: r.completion_code,
        meaning: pk::completion_code_text(r.completion_code).to_string(),
    }
}

/// Get Channel Authentication Capabilities in IPMI 1.5 framing (no session).
async fn channel_auth_caps(sock: &UdpSocket, cfg: &SessionConfig, v2: bool) -> Result<Vec<u8>> {
    let chan = if v2 { 0x8e } else { 0x0e };
    let msg = pk::ipmi_request(0x06, 0x38, 0, &[chan, cfg.privilege]);
    let r = round_trip(
        sock,
        cfg,
        || pk::v15_packet(pk::AUTH_NONE, 0, 0, None, &msg),
        |b| {
            let p = pk::parse_v15(b)?;
            let r = pk::parse_ipmi_response(&p.msg)?;
            Ok((r.cmd == 0x38).then_some(r))
        },
    )
    .await?;
    if r.completion_code != 0 {
        return Err(cc_error(&r));
    }
    if r.data.len() < 8 {
        return Err(PowerError::Protocol(
            "short Get Channel Auth Capabilities answer".into(),
        ));
    }
    Ok(r.data)
}

impl Session {
    /// Open an RMCP+ session (IPMI 2.0, lanplus) and raise it to the configured privilege.
    pub async fn open_v20(cfg: SessionConfig) -> Result<Session> {
        if !priv_ok(cfg.privilege) {
            return Err(PowerError::BadParameters(format!(
                "privilege level {}",
                cfg.privilege
            )));
        }
        if cfg.user.len() > 16 || cfg.password.len() > 20 {
            return Err(PowerError::BadParameters(
                "user over 16 or password over 20 bytes".into(),
            ));
        }
        let sock = socket(cfg.addr).await?;
        let caps = channel_auth_caps(&sock, &cfg, true).await?;
        if caps[1] & 0x80 == 0 && caps[3] & 0x02 == 0 {
            return Err(PowerError::Unsupported(
                "BMC does not offer IPMI 2.0 (RMCP+); use power_driver=LAN".into(),
            ));
        }
        let sid_m = rand::rng().next_u32() | 1;
        let tag = (rand::rng().next_u32() & 0xff) as u8;
        let suite = cfg.suite;
        let open = pk::open_session_request(tag, sid_m, suite, cfg.privilege);
        let resp = round_trip(
            &sock,
            &cfg,
            || pk::v20_packet(pk::PT_OPEN_REQ, 0, 0, &open, None),
            |b| setup_reply(b, pk::PT_OPEN_RESP, tag),
        )
        .await?;
        let osr = pk::parse_open_session_response(&resp)
            .map_err(|e| PowerError::Protocol(e.to_string()))?;
        if osr.status != 0 {
            let why = pk::rakp_status_text(osr.status);
            return Err(match osr.status {
                0x04..=0x07 | 0x10 | 0x11 => {
                    PowerError::Unsupported(format!("cipher suite {}: {why}", suite.id()))
                }
                0x09 | 0x0a => PowerError::AuthRefused(why.to_string()),
                _ => PowerError::Protocol(format!("Open Session refused: {why}")),
            });
        }
        if osr.sid_m != sid_m {
            return Err(PowerError::Protocol(
                "Open Session answer for another session".into(),
            ));
        }
        let sid_c = osr.sid_c;
        let mut rm = [0u8; 16];
        rand::rng().fill_bytes(&mut rm);
        let role = cfg.privilege | 0x10;
        let user = cfg.user.as_bytes().to_vec();
        let r1 = pk::rakp1(tag, sid_c, &rm, role, &user);
        let r2 = round_trip(
            &sock,
            &cfg,
            || pk::v20_packet(pk::PT_RAKP1, 0, 0, &r1, None),
            |b| setup_reply(b, pk::PT_RAKP2, tag),
        )
        .await?;
        let r2 = pk::parse_rakp2(&r2).map_err(|e| PowerError::Protocol(e.to_string()))?;
        if r2.status != 0 {
            return Err(PowerError::AuthRefused(
                pk::rakp_status_text(r2.status).to_string(),
            ));
        }
        let kuid = cfg.password.as_bytes();
        let inputs = RakpInputs {
            sid_m,
            sid_c,
            rm,
            rc: r2.rc,
            guid_c: r2.guid_c,
            role,
            user: &user,
        };
        let want = crypto::rakp2_code(suite, kuid, &inputs);
        if !crypto::codes_equal(&want, &r2.code) {
            return Err(PowerError::AuthRefused(
                "RAKP 2 code does not match: wrong password".into(),
            ));
        }
        let keys = crypto::session_keys(suite, kuid, cfg.kg.as_deref(), &inputs);
        let r3 = pk::rakp3(tag, sid_c, &crypto::rakp3_code(suite, kuid, &inputs));
        let r4 = round_trip(
            &sock,
            &cfg,
            || pk::v20_packet(pk::PT_RAKP3, 0, 0, &r3, None),
            |b| setup_reply(b, pk::PT_RAKP4, tag),
        )
        .await?;
        let r4 = pk::parse_rakp4(&r4).map_err(|e| PowerError::Protocol(e.to_string()))?;
        if r4.status != 0 {
            return Err(PowerError::AuthRefused(
                pk::rakp_status_text(r4.status).to_string(),
            ));
        }
        if !crypto::codes_equal(&crypto::rakp4_icv(suite, &keys.sik, &inputs), &r4.icv) {
            return Err(PowerError::AuthRefused(
                "RAKP 4 check value does not match (wrong k_g?)".into(),
            ));
        }
        let protect = Protect {
            suite,
            k1: keys.k1.clone(),
            aes: keys.aes_key(),
        };
        let mut s = Session {
            sock,
            cfg,
            kind: Kind::V20 {
                sid_c,
                sid_m,
                protect,
            },
            out_seq: 0,
            in_seq: 0,
            rq_seq: 0,
        };
        s.raise_privilege().await?;
        tracing::debug!(bmc = %s.cfg.addr, suite = suite.id(), "RMCP+ session open");
        Ok(s)
    }

    /// Open an IPMI 1.5 session (power_driver=LAN) with MD5, or a straight password
    /// when that is all the BMC offers.
    pub async fn open_v15(cfg: SessionConfig) -> Result<Session> {
        if !priv_ok(cfg.privilege) {
            return Err(PowerError::BadParameters(format!(
                "privilege level {}",
                cfg.privilege
            )));
        }
        if cfg.user.len() > 16 || cfg.password.len() > 16 {
            return Err(PowerError::BadParameters(
                "IPMI 1.5 user and password are at most 16 bytes".into(),
            ));
        }
        let sock = socket(cfg.addr).await?;
        let caps = channel_auth_caps(&sock, &cfg, false).await?;
        let auth_type = if caps[1] & 0x04 != 0 {
            pk::AUTH_MD5
        } else if caps[1] & 0x10 != 0 {
            pk::AUTH_STRAIGHT
        } else {
            return Err(PowerError::Unsupported(
                "BMC offers neither MD5 nor password authentication".into(),
            ));
        };
        let mut user16 = [0u8; 16];
        user16[..cfg.user.len()].copy_from_slice(cfg.user.as_bytes());
        let mut password = [0u8; 16];
        password[..cfg.password.len()].copy_from_slice(cfg.password.as_bytes());
        let mut data = vec![auth_type];
        data.extend_from_slice(&user16);
        let msg = pk::ipmi_request(0x06, 0x39, 1, &data);
        let ch = round_trip(
            &sock,
            &cfg,
            || pk::v15_packet(pk::AUTH_NONE, 0, 0, None, &msg),
            |b| v15_reply(b, 1, 0x39),
        )
        .await?;
        if ch.completion_code == 0x81 || ch.completion_code == 0x82 {
            return Err(PowerError::AuthRefused(format!(
                "user {:?} is not known to the BMC",
                cfg.user
            )));
        }
        if ch.completion_code != 0 {
            return Err(cc_error(&ch));
        }
        if ch.data.len() < 20 {
            return Err(PowerError::Protocol(
                "short Get Session Challenge answer".into(),
            ));
        }
        let temp_id = u32::from_le_bytes([ch.data[0], ch.data[1], ch.data[2], ch.data[3]]);
        let init_out = rand::rng().next_u32() | 1;
        let mut data = vec![auth_type, cfg.privilege];
        data.extend_from_slice(&ch.data[4..20]);
        data.extend_from_slice(&init_out.to_le_bytes());
        let msg = pk::ipmi_request(0x06, 0x3a, 2, &data);
        let code = v15_code(auth_type, &password, temp_id, &msg, 0);
        let act = round_trip(
            &sock,
            &cfg,
            || pk::v15_packet(auth_type, 0, temp_id, Some(&code), &msg),
            |b| v15_reply(b, 2, 0x3a),
        )
        .await
        .map_err(|e| match e {
            PowerError::Unreachable { .. } => PowerError::AuthRefused(
                "no answer to Activate Session: the password is probably wrong".into(),
            ),
            e => e,
        })?;
        if act.completion_code != 0 {
            return Err(match act.completion_code {
                0x81..=0x86 => PowerError::AuthRefused(format!(
                    "Activate Session refused (code {:#04x})",
                    act.completion_code
                )),
                _ => cc_error(&act),
            });
        }
        if act.data.len() < 10 {
            return Err(PowerError::Protocol("short Activate Session answer".into()));
        }
        let session_id = u32::from_le_bytes([act.data[1], act.data[2], act.data[3], act.data[4]]);
        let in_seq = u32::from_le_bytes([act.data[5], act.data[6], act.data[7], act.data[8]]);
        let mut s = Session {
            sock,
            cfg,
            kind: Kind::V15 {
                auth_type,
                session_id,
                password,
            },
            out_seq: in_seq.wrapping_sub(1),
            in_seq: 0,
            rq_seq: 2,
        };
        s.raise_privilege().await?;
        tracing::debug!(bmc = %s.cfg.addr, "IPMI 1.5 session open");
        Ok(s)
    }

    async fn raise_privilege(&mut self) -> Result<()> {
        let p = self.cfg.privilege;
        if p <= 2 {
            return Ok(());
        }
        match self.command(0x06, 0x3b, &[p]).await {
            Ok(_) => Ok(()),
            Err(PowerError::BmcError {
                completion_code,
                meaning,
            }) if (0x80..=0x81).contains(&completion_code) || completion_code == 0xd4 => Err(
                PowerError::AuthRefused(format!("privilege level {p} refused: {meaning}")),
            ),
            Err(e) => Err(e),
        }
    }

    /// Send one IPMI command in the session; returns the response data on completion code 0.
    pub async fn command(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>> {
        self.rq_seq = (self.rq_seq + 1) & 0x3f;
        let rq_seq = self.rq_seq;
        let msg = pk::ipmi_request(netfn, cmd, rq_seq, data);
        let out_seq = &mut self.out_seq;
        let in_seq = &mut self.in_seq;
        let kind = &self.kind;
        let r = round_trip(
            &self.sock,
            &self.cfg,
            || {
                *out_seq = out_seq.wrapping_add(1).max(1);
                match kind {
                    Kind::V20 { sid_c, protect, .. } => {
                        let mut iv = [0u8; 16];
                        rand::rng().fill_bytes(&mut iv);
                        pk::v20_packet(pk::PT_IPMI, *sid_c, *out_seq, &msg, Some((protect, iv)))
                    }
                    Kind::V15 {
                        auth_type,
                        session_id,
                        password,
                    } => {
                        let code = v15_code(*auth_type, password, *session_id, &msg, *out_seq);
                        pk::v15_packet(*auth_type, *out_seq, *session_id, Some(&code), &msg)
                    }
                }
            },
            |b| match kind {
                Kind::V20 { sid_m, protect, .. } => {
                    let p = pk::parse_v20(b, Some(protect))?;
                    if p.payload_type != pk::PT_IPMI || p.session_id != *sid_m || !p.authenticated {
                        return Ok(None);
                    }
                    if !seq_fresh(*in_seq, p.seq) {
                        tracing::debug!(
                            seq = p.seq,
                            last = *in_seq,
                            "dropped a replayed or duplicate reply"
                        );
                        return Ok(None);
                    }
                    let r = matches_expect(pk::parse_ipmi_response(&p.payload)?, rq_seq, cmd)?;
                    if r.is_some() {
                        *in_seq = p.seq;
                    }
                    Ok(r)
                }
                Kind::V15 {
                    session_id,
                    auth_type,
                    password,
                } => {
                    let p = pk::parse_v15(b)?;
                    if p.session_id != *session_id {
                        return Ok(None);
                    }
                    // The reply must carry our auth type and a code made with the password.
                    let want = v15_code(*auth_type, password, p.session_id, &p.msg, p.seq);
                    match p.auth_code {
                        Some(code)
                            if p.auth_type == *auth_type && crypto::codes_equal(&code, &want) => {}
                        _ => return Err(PacketError::Integrity),
                    }
                    matches_expect(pk::parse_ipmi_response(&p.msg)?, rq_seq, cmd)
                }
            },
        )
        .await?;
        if r.completion_code != 0 {
            return Err(cc_error(&r));
        }
        Ok(r.data)
    }

    /// Close the session (best effort: one try, short wait).
    pub async fn close(mut self) {
        let id = match &self.kind {
            Kind::V20 { sid_c, .. } => *sid_c,
            Kind::V15 { session_id, .. } => *session_id,
        };
        self.cfg.retries = 0;
        if let Err(e) = self.command(0x06, 0x3c, &id.to_le_bytes()).await {
            tracing::debug!(bmc = %self.cfg.addr, error = %e, "close session");
        }
    }
}

/// Whether an inbound RMCP+ session sequence number is newer than the last one
/// accepted (serial-number arithmetic, so the counter may wrap). A BMC that
/// sends 0 throughout is accepted.
pub fn seq_fresh(last: u32, seq: u32) -> bool {
    last == 0 || (seq.wrapping_sub(last) as i32) > 0
}

fn matches_expect(
    r: pk::IpmiResponse,
    rq_seq: u8,
    cmd: u8,
) -> std::result::Result<Option<pk::IpmiResponse>, PacketError> {
    Ok((r.rq_seq == rq_seq && r.cmd == cmd).then_some(r))
}

/// Accept an RMCP+ session-setup payload of `payload_type` carrying message tag `tag`.
fn setup_reply(
    b: &[u8],
    payload_type: u8,
    tag: u8,
) -> std::result::Result<Option<Vec<u8>>, PacketError> {
    let p = pk::parse_v20(b, None)?;
    if p.payload_type != payload_type || p.payload.first() != Some(&tag) {
        return Ok(None);
    }
    Ok(Some(p.payload))
}

/// Accept an IPMI 1.5 response to `cmd` with `rq_seq`, outside a session.
fn v15_reply(
    b: &[u8],
    rq_seq: u8,
    cmd: u8,
) -> std::result::Result<Option<pk::IpmiResponse>, PacketError> {
    let p = pk::parse_v15(b)?;
    matches_expect(pk::parse_ipmi_response(&p.msg)?, rq_seq, cmd)
}

fn v15_code(auth_type: u8, password: &[u8; 16], session_id: u32, msg: &[u8], seq: u32) -> [u8; 16] {
    if auth_type == pk::AUTH_MD5 {
        crypto::md5_auth_code(password, session_id, msg, seq)
    } else {
        *password
    }
}
