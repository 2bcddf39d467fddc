//! TFTP wire format (RFC 1350) with options (RFC 2347/2348/2349/7440).
//! Parsing never panics: anything malformed is an [`Malformed`] error.

pub const OP_RRQ: u16 = 1;
pub const OP_WRQ: u16 = 2;
pub const OP_DATA: u16 = 3;
pub const OP_ACK: u16 = 4;
pub const OP_ERROR: u16 = 5;
pub const OP_OACK: u16 = 6;

/// TFTP error codes we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    NotDefined = 0,
    FileNotFound = 1,
    AccessViolation = 2,
    IllegalOperation = 4,
    OptionRefused = 8,
}

/// A packet that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("packet shorter than 4 bytes")]
    Short,
    #[error("unknown opcode {0}")]
    Opcode(u16),
    #[error("request field not NUL-terminated")]
    Unterminated,
    #[error("option without a value")]
    OptionValue,
}

/// Options a client asked for; only those we understand, valid values only
/// (RFC 2347: a server ignores options it does not accept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// RFC 2348: 8..=65464.
    pub blksize: Option<u16>,
    /// RFC 2349: the client's value (0 on a read request) — we answer the size.
    pub tsize: Option<u64>,
    /// RFC 2349: seconds, 1..=255.
    pub timeout: Option<u8>,
    /// RFC 7440: 1..=65535.
    pub windowsize: Option<u16>,
}

impl Options {
    pub fn any(&self) -> bool {
        self.blksize.is_some()
            || self.tsize.is_some()
            || self.timeout.is_some()
            || self.windowsize.is_some()
    }
}

/// A request from a client (the first packet of a transfer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Raw file name bytes (not yet sanitised).
    pub filename: Vec<u8>,
    /// Lower-cased mode ("octet", "netascii", "mail", …).
    pub mode: String,
    pub options: Options,
}

/// Any packet we may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Read(Request),
    Write(Request),
    Data { block: u16, len: usize },
    Ack(u16),
    Error { code: u16, message: String },
    OAck,
}

fn opcode(buf: &[u8]) -> Result<u16, Malformed> {
    match buf {
        [a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(Malformed::Short),
    }
}

fn block(buf: &[u8]) -> Result<u16, Malformed> {
    match buf {
        [_, _, a, b, ..] => Ok(u16::from_be_bytes([*a, *b])),
        _ => Err(Malformed::Short),
    }
}

/// Parse one datagram.
pub fn parse(buf: &[u8]) -> Result<Packet, Malformed> {
    let op = opcode(buf)?;
    match op {
        OP_RRQ | OP_WRQ => {
            let req = parse_request(&buf[2..])?;
            Ok(if op == OP_RRQ {
                Packet::Read(req)
            } else {
                Packet::Write(req)
            })
        }
        OP_DATA => Ok(Packet::Data {
            block: block(buf)?,
            len: buf.len().saturating_sub(4),
        }),
        OP_ACK => Ok(Packet::Ack(block(buf)?)),
        OP_ERROR => {
            let code = block(buf)?;
            let rest = &buf[4..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            Ok(Packet::Error {
                code,
                message: String::from_utf8_lossy(&rest[..end]).into_owned(),
            })
        }
        OP_OACK => Ok(Packet::OAck),
        other => Err(Malformed::Opcode(other)),
    }
}

fn parse_request(body: &[u8]) -> Result<Request, Malformed> {
    let mut fields = body.split(|&b| b == 0);
    // A well-formed request ends with NUL, so the last split piece is empty.
    if body.last() != Some(&0) || body.iter().filter(|&&b| b == 0).count() < 2 {
        return Err(Malformed::Unterminated);
    }
    let filename = fields.next().ok_or(Malformed::Unterminated)?.to_vec();
    let mode = fields.next().ok_or(Malformed::Unterminated)?;
    let mode = String::from_utf8_lossy(mode).to_ascii_lowercase();
    let rest: Vec<&[u8]> = fields.collect();
    // rest ends with the empty piece after the final NUL.
    let opts = &rest[..rest.len().saturating_sub(1)];
    if !opts.len().is_multiple_of(2) {
        return Err(Malformed::OptionValue);
    }
    let mut options = Options::default();
    for pair in opts.chunks(2) {
        let name = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
        let Some(value) = std::str::from_utf8(pair[1]).ok().map(str::trim) else {
            continue;
        };
        match name.as_str() {
            "blksize" => {
                options.blksize = value
                    .parse::<u16>()
                    .ok()
                    .filter(|v| (8..=65464).contains(v));
            }
            "tsize" => options.tsize = value.parse::<u64>().ok(),
            "timeout" => options.timeout = value.parse::<u8>().ok().filter(|v| *v >= 1),
            "windowsize" => {
                options.windowsize = value.parse::<u16>().ok().filter(|v| *v >= 1);
            }
            _ => {}
        }
    }
    Ok(Request {
        filename,
        mode,
        options,
    })
}

/// Encode an OACK with the given (name, value) pairs.
pub fn oack(pairs: &[(&str, String)]) -> Vec<u8> {
    let mut out = OP_OACK.to_be_bytes().to_vec();
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Encode an ERROR packet.
pub fn error(code: ErrorCode, msg: &str) -> Vec<u8> {
    let mut out = OP_ERROR.to_be_bytes().to_vec();
    out.extend_from_slice(&(code as u16).to_be_bytes());
    out.extend_from_slice(msg.as_bytes());
    out.push(0);
    out
}

/// Write a DATA header for `block` into the first 4 bytes of `buf`.
pub fn data_header(buf: &mut [u8], block: u16) {
    if buf.len() >= 4 {
        buf[..2].copy_from_slice(&OP_DATA.to_be_bytes());
        buf[2..4].copy_from_slice(&block.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_request_with_options() {
        let p = b"\x00\x01boot/x.efi\x00OCTET\x00blksize\x001468\x00tsize\x000\x00windowsize\x0016\x00timeout\x003\x00foo\x00bar\x00";
        let Packet::Read(r) = parse(p).unwrap() else {
            panic!("not a read")
        };
        assert_eq!(r.filename, b"boot/x.efi");
        assert_eq!(r.mode, "octet");
        assert_eq!(
            r.options,
            Options {
                blksize: Some(1468),
                tsize: Some(0),
                timeout: Some(3),
                windowsize: Some(16)
            }
        );
    }

    #[test]
    fn out_of_range_options_are_ignored() {
        let p = b"\x00\x01f\x00octet\x00blksize\x007\x00windowsize\x000\x00timeout\x00999\x00";
        let Packet::Read(r) = parse(p).unwrap() else {
            panic!("not a read")
        };
        assert!(!r.options.any());
    }

    #[test]
    fn malformed() {
        assert_eq!(parse(b"\x00"), Err(Malformed::Short));
        assert_eq!(parse(b"\x00\x09abc"), Err(Malformed::Opcode(9)));
        assert_eq!(parse(b"\x00\x01file"), Err(Malformed::Unterminated));
        assert_eq!(parse(b"\x00\x01file\x00"), Err(Malformed::Unterminated));
        assert_eq!(
            parse(b"\x00\x01f\x00octet\x00blksize\x00"),
            Err(Malformed::OptionValue)
        );
        assert_eq!(parse(b"\x00\x04\x00"), Err(Malformed::Short));
    }

    #[test]
    fn encoders() {
        assert_eq!(
            error(ErrorCode::FileNotFound, "no"),
            b"\x00\x05\x00\x01no\x00"
        );
        assert_eq!(oack(&[("tsize", "5".into())]), b"\x00\x06tsize\x005\x00");
        let mut b = [0u8; 4];
        data_header(&mut b, 258);
        assert_eq!(b, [0, 3, 1, 2]);
    }
}
