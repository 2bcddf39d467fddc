//! RMCP / IPMI 1.5 / RMCP+ (IPMI 2.0) framing. Every parser here is bounded and
//! returns an error for any malformed input; none of them panics (fuzzed by
//! `fuzz/fuzz_targets/rmcp_reply.rs`).

use super::crypto::{self, Suite};

pub const RMCP_HEADER: [u8; 4] = [0x06, 0x00, 0xff, 0x07];
pub const AUTH_NONE: u8 = 0x00;
pub const AUTH_MD5: u8 = 0x02;
pub const AUTH_STRAIGHT: u8 = 0x04;
pub const AUTH_RMCPP: u8 = 0x06;

pub const PT_IPMI: u8 = 0x00;
pub const PT_OPEN_REQ: u8 = 0x10;
pub const PT_OPEN_RESP: u8 = 0x11;
pub const PT_RAKP1: u8 = 0x12;
pub const PT_RAKP2: u8 = 0x13;
pub const PT_RAKP3: u8 = 0x14;
pub const PT_RAKP4: u8 = 0x15;

pub const BMC_ADDR: u8 = 0x20;
pub const SW_ADDR: u8 = 0x81;

/// Why a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("packet truncated: {0}")]
    Truncated(&'static str),
    #[error("not an IPMI RMCP packet")]
    NotRmcp,
    #[error("unsupported auth type {0:#04x}")]
    AuthType(u8),
    #[error("bad checksum in IPMI message")]
    Checksum,
    #[error("integrity check failed")]
    Integrity,
    #[error("cannot decrypt payload")]
    Decrypt,
    #[error("length field {0} does not match the packet")]
    Length(usize),
}

/// Two's complement checksum so that the bytes plus the checksum sum to 0.
pub fn checksum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, x| a.wrapping_add(*x)).wrapping_neg()
}

/// An IPMI request message (LUN 0, from software id 0x81 to the BMC 0x20).
pub fn ipmi_request(netfn: u8, cmd: u8, rq_seq: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![BMC_ADDR, netfn << 2];
    m.push(checksum(&m));
    let start = m.len();
    m.extend_from_slice(&[SW_ADDR, (rq_seq & 0x3f) << 2, cmd]);
    m.extend_from_slice(data);
    let c = checksum(&m[start..]);
    m.push(c);
    m
}

/// A parsed IPMI response message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpmiResponse {
    pub netfn: u8,
    pub rq_seq: u8,
    pub cmd: u8,
    pub completion_code: u8,
    pub data: Vec<u8>,
}

pub fn parse_ipmi_response(m: &[u8]) -> Result<IpmiResponse, PacketError> {
    if m.len() < 8 {
        return Err(PacketError::Truncated("IPMI response"));
    }
    if checksum(&m[..2]) != m[2] || checksum(&m[3..m.len() - 1]) != m[m.len() - 1] {
        return Err(PacketError::Checksum);
    }
    Ok(IpmiResponse {
        netfn: m[1] >> 2,
        rq_seq: m[4] >> 2,
        cmd: m[5],
        completion_code: m[6],
        data: m[7..m.len() - 1].to_vec(),
    })
}

/// An IPMI 1.5 session packet (also used before RMCP+ for Get Channel Auth Caps).
pub fn v15_packet(
    auth_type: u8,
    seq: u32,
    session_id: u32,
    auth: Option<&[u8; 16]>,
    msg: &[u8],
) -> Vec<u8> {
    let mut p = RMCP_HEADER.to_vec();
    p.push(auth_type);
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&session_id.to_le_bytes());
    if let Some(a) = auth {
        p.extend_from_slice(a);
    }
    p.push(msg.len() as u8);
    p.extend_from_slice(msg);
    p
}

/// A parsed IPMI 1.5 session packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V15Packet {
    pub auth_type: u8,
    pub seq: u32,
    pub session_id: u32,
    pub auth_code: Option<[u8; 16]>,
    pub msg: Vec<u8>,
}

fn rmcp_body(p: &[u8]) -> Result<&[u8], PacketError> {
    if p.len() < 4 {
        return Err(PacketError::Truncated("RMCP header"));
    }
    if p[0] != 0x06 || p[3] & 0x1f != 0x07 {
        return Err(PacketError::NotRmcp);
    }
    Ok(&p[4..])
}

fn u32le(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

pub fn parse_v15(p: &[u8]) -> Result<V15Packet, PacketError> {
    let b = rmcp_body(p)?;
    if b.len() < 10 {
        return Err(PacketError::Truncated("IPMI 1.5 session header"));
    }
    let auth_type = b[0] & 0x0f;
    let seq = u32le(&b[1..5]);
    let session_id = u32le(&b[5..9]);
    let (auth_code, rest) = match auth_type {
        AUTH_NONE => (None, &b[9..]),
        0x01 | AUTH_MD5 | AUTH_STRAIGHT | 0x05 => {
            if b.len() < 26 {
                return Err(PacketError::Truncated("IPMI 1.5 auth code"));
            }
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[9..25]);
            (Some(a), &b[25..])
        }
        t => return Err(PacketError::AuthType(t)),
    };
    let len = rest[0] as usize;
    if rest.len() < 1 + len {
        return Err(PacketError::Length(len));
    }
    Ok(V15Packet {
        auth_type,
        seq,
        session_id,
        auth_code,
        msg: rest[1..1 + len].to_vec(),
    })
}

/// Keys for the integrity and confidentiality of an active RMCP+ session.
#[derive(Debug, Clone)]
pub struct Protect {
    pub suite: Suite,
    pub k1: Vec<u8>,
    pub aes: [u8; 16],
}

/// Build an RMCP+ packet. With `protect`, the payload is AES-CBC encrypted with `iv`
/// and the packet carries the integrity trailer.
pub fn v20_packet(
    payload_type: u8,
    session_id: u32,
    seq: u32,
    payload: &[u8],
    protect: Option<(&Protect, [u8; 16])>,
) -> Vec<u8> {
    let mut p = RMCP_HEADER.to_vec();
    let start = p.len();
    let (pt, body) = match protect {
        Some((k, iv)) => (payload_type | 0xc0, crypto::encrypt(&k.aes, &iv, payload)),
        None => (payload_type, payload.to_vec()),
    };
    p.push(AUTH_RMCPP);
    p.push(pt);
    p.extend_from_slice(&session_id.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&(body.len() as u16).to_le_bytes());
    p.extend_from_slice(&body);
    if let Some((k, _)) = protect {
        // auth type .. payload, pad, pad length, next header: a multiple of 4
        let pad = (4 - (p.len() - start + 2) % 4) % 4;
        p.extend(std::iter::repeat_n(0xffu8, pad));
        p.push(pad as u8);
        p.push(0x07);
        let code = crypto::integrity_code(k.suite, &k.k1, &p[start..]);
        p.extend_from_slice(&code);
    }
    p
}

/// A parsed RMCP+ packet, decrypted and checked when keys were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V20Packet {
    pub payload_type: u8,
    pub encrypted: bool,
    pub authenticated: bool,
    pub session_id: u32,
    pub seq: u32,
    pub payload: Vec<u8>,
}

/// Parse an RMCP+ packet. An authenticated packet is rejected unless its integrity
/// code verifies with `protect`; an encrypted one is decrypted.
pub fn parse_v20(p: &[u8], protect: Option<&Protect>) -> Result<V20Packet, PacketError> {
    let b = rmcp_body(p)?;
    if b.len() < 12 {
        return Err(PacketError::Truncated("RMCP+ session header"));
    }
    if b[0] & 0x0f != AUTH_RMCPP {
        return Err(PacketError::AuthType(b[0]));
    }
    let pt = b[1];
    let encrypted = pt & 0x80 != 0;
    let authenticated = pt & 0x40 != 0;
    let session_id = u32le(&b[2..6]);
    let seq = u32le(&b[6..10]);
    let len = u16::from_le_bytes([b[10], b[11]]) as usize;
    if b.len() < 12 + len {
        return Err(PacketError::Length(len));
    }
    let raw = &b[12..12 + len];
    if authenticated {
        let k = protect.ok_or(PacketError::Integrity)?;
        let icv = k.suite.icv_len();
        let trailer = &b[12 + len..];
        if trailer.len() < icv + 2 {
            return Err(PacketError::Truncated("RMCP+ integrity trailer"));
        }
        let code_at = b.len() - icv;
        let signed = &b[..code_at];
        if b[code_at - 1] != 0x07 {
            return Err(PacketError::Integrity);
        }
        let pad = b[code_at - 2] as usize;
        if 12 + len + pad + 2 != code_at {
            return Err(PacketError::Integrity);
        }
        let want = crypto::integrity_code(k.suite, &k.k1, signed);
        if !crypto::codes_equal(&want, &b[code_at..]) {
            return Err(PacketError::Integrity);
        }
    }
    let payload = if encrypted {
        let k = protect.ok_or(PacketError::Decrypt)?;
        crypto::decrypt(&k.aes, raw).ok_or(PacketError::Decrypt)?
    } else {
        raw.to_vec()
    };
    Ok(V20Packet {
        payload_type: pt & 0x3f,
        encrypted,
        authenticated,
        session_id,
        seq,
        payload,
    })
}

/// True when the packet is an RMCP+ one (auth type 6); otherwise it is IPMI 1.5 framing.
pub fn is_v20(p: &[u8]) -> bool {
    p.len() > 4 && p[4] & 0x0f == AUTH_RMCPP
}

/// Open Session Request payload.
pub fn open_session_request(tag: u8, sid_m: u32, suite: Suite, max_priv: u8) -> Vec<u8> {
    let (a, i, c) = suite.algorithms();
    let mut p = vec![tag, max_priv, 0, 0];
    p.extend_from_slice(&sid_m.to_le_bytes());
    for (kind, alg) in [(0u8, a), (1, i), (2, c)] {
        p.extend_from_slice(&[kind, 0, 0, 8, alg, 0, 0, 0]);
    }
    p
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSessionResponse {
    pub tag: u8,
    pub status: u8,
    pub sid_m: u32,
    pub sid_c: u32,
}

pub fn parse_open_session_response(p: &[u8]) -> Result<OpenSessionResponse, PacketError> {
    if p.len() < 2 {
        return Err(PacketError::Truncated("Open Session Response"));
    }
    let (tag, status) = (p[0], p[1]);
    if status != 0 {
        return Ok(OpenSessionResponse {
            tag,
            status,
            sid_m: 0,
            sid_c: 0,
        });
    }
    if p.len() < 12 {
        return Err(PacketError::Truncated("Open Session Response"));
    }
    Ok(OpenSessionResponse {
        tag,
        status,
        sid_m: u32le(&p[4..8]),
        sid_c: u32le(&p[8..12]),
    })
}

pub fn rakp1(tag: u8, sid_c: u32, rm: &[u8; 16], role: u8, user: &[u8]) -> Vec<u8> {
    let mut p = vec![tag, 0, 0, 0];
    p.extend_from_slice(&sid_c.to_le_bytes());
    p.extend_from_slice(rm);
    p.extend_from_slice(&[role, 0, 0, user.len() as u8]);
    p.extend_from_slice(user);
    p
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp2 {
    pub tag: u8,
    pub status: u8,
    pub sid_m: u32,
    pub rc: [u8; 16],
    pub guid_c: [u8; 16],
    pub code: Vec<u8>,
}

pub fn parse_rakp2(p: &[u8]) -> Result<Rakp2, PacketError> {
    if p.len() < 2 {
        return Err(PacketError::Truncated("RAKP 2"));
    }
    let (tag, status) = (p[0], p[1]);
    if status != 0 {
        return Ok(Rakp2 {
            tag,
            status,
            sid_m: 0,
            rc: [0; 16],
            guid_c: [0; 16],
            code: Vec::new(),
        });
    }
    if p.len() < 40 {
        return Err(PacketError::Truncated("RAKP 2"));
    }
    let mut rc = [0u8; 16];
    rc.copy_from_slice(&p[8..24]);
    let mut guid_c = [0u8; 16];
    guid_c.copy_from_slice(&p[24..40]);
    Ok(Rakp2 {
        tag,
        status,
        sid_m: u32le(&p[4..8]),
        rc,
        guid_c,
        code: p[40..].to_vec(),
    })
}

pub fn rakp3(tag: u8, sid_c: u32, code: &[u8]) -> Vec<u8> {
    let mut p = vec![tag, 0, 0, 0];
    p.extend_from_slice(&sid_c.to_le_bytes());
    p.extend_from_slice(code);
    p
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp4 {
    pub tag: u8,
    pub status: u8,
    pub sid_m: u32,
    pub icv: Vec<u8>,
}

pub fn parse_rakp4(p: &[u8]) -> Result<Rakp4, PacketError> {
    if p.len() < 2 {
        return Err(PacketError::Truncated("RAKP 4"));
    }
    let (tag, status) = (p[0], p[1]);
    if status != 0 {
        return Ok(Rakp4 {
            tag,
            status,
            sid_m: 0,
            icv: Vec::new(),
        });
    }
    if p.len() < 8 {
        return Err(PacketError::Truncated("RAKP 4"));
    }
    Ok(Rakp4 {
        tag,
        status,
        sid_m: u32le(&p[4..8]),
        icv: p[8..].to_vec(),
    })
}

/// Text for an RMCP+ status code (Open Session / RAKP).
pub fn rakp_status_text(s: u8) -> &'static str {
    match s {
        0x01 => "insufficient resources to create a session",
        0x02 => "invalid session id",
        0x03 => "invalid payload type",
        0x04 => "invalid authentication algorithm",
        0x05 => "invalid integrity algorithm",
        0x06 => "no matching authentication payload",
        0x07 => "no matching integrity payload",
        0x08 => "inactive session id",
        0x09 => "invalid role",
        0x0a => "unauthorized role or privilege level requested",
        0x0b => "insufficient resources to create a session at the requested role",
        0x0c => "invalid name length",
        0x0d => "unauthorized name",
        0x0e => "unauthorized GUID",
        0x0f => "invalid integrity check value",
        0x10 => "invalid confidentiality algorithm",
        0x11 => "no cipher suite match with proposed security algorithms",
        0x12 => "illegal or unrecognized parameter",
        _ => "unknown status",
    }
}

/// Text for an IPMI completion code.
pub fn completion_code_text(cc: u8) -> &'static str {
    match cc {
        0x00 => "ok",
        0xc0 => "node busy",
        0xc1 => "invalid command",
        0xc2 => "command invalid for given LUN",
        0xc3 => "timeout while processing command",
        0xc4 => "out of space",
        0xc5 => "reservation cancelled or invalid",
        0xc6 => "request data truncated",
        0xc7 => "request data length invalid",
        0xc8 => "request data field length limit exceeded",
        0xc9 => "parameter out of range",
        0xca => "cannot return number of requested data bytes",
        0xcb => "requested sensor, data, or record not present",
        0xcc => "invalid data field in request",
        0xcd => "command illegal for specified sensor or record type",
        0xce => "command response could not be provided",
        0xcf => "cannot execute duplicated request",
        0xd0 => "SDR repository in update mode",
        0xd1 => "device in firmware update mode",
        0xd2 => "BMC initialization in progress",
        0xd3 => "destination unavailable",
        0xd4 => "insufficient privilege level",
        0xd5 => "command not supported in present state",
        0xd6 => "command sub-function disabled or unavailable",
        0xff => "unspecified error",
        0x80 => "parameter not supported",
        0x81 => "attempt to set the 'set in progress' value when not in the 'set complete' state",
        0x82 => "attempt to write a read-only parameter",
        _ => "unknown completion code",
    }
}
