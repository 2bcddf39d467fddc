//! A small blocking HTTP/1.1 client over `std::net` (plain HTTP: the rack
//! serves the metadata API and images on :5248). One request per
//! connection; bodies by Content-Length, chunked, or until close. The
//! response parser takes any `BufRead`, so it is fuzzed on bytes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> io::Result<Url> {
        let bad = || io::Error::new(io::ErrorKind::InvalidInput, format!("bad URL: {s}"));
        let rest = s.strip_prefix("http://").ok_or_else(bad)?;
        let (auth, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match auth.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || !p.is_empty() => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (auth, 80),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Url {
            host: host.trim_start_matches('[').trim_end_matches(']').into(),
            port,
            path: path.into(),
        })
    }

    /// `http://host:port` (no path).
    pub fn origin(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }
}

/// A response: status, headers (names lower-cased) and the body as a reader.
pub struct Response<R> {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body<R>,
}

impl<R: BufRead> Response<R> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The whole body, refused past `limit` bytes.
    pub fn bytes(mut self, limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        (&mut self.body).take(limit + 1).read_to_end(&mut out)?;
        if out.len() as u64 > limit {
            return Err(io::Error::other("response body too large"));
        }
        Ok(out)
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// One CRLF (or LF) line, bounded.
fn read_line<R: BufRead>(r: &mut R, budget: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(*budget as u64)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid("response head too long"));
    }
    *budget -= n;
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| invalid("non-UTF-8 header"))
}

/// Read a status line and headers; the body reader follows them.
pub fn read_response<R: BufRead>(mut r: R, head_only: bool) -> io::Result<Response<R>> {
    let mut budget = MAX_HEAD;
    let mut status_line = read_line(&mut r, &mut budget)?;
    // 1xx interim responses are skipped.
    loop {
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(invalid("bad status line"));
        }
        let status: u16 = code.parse().map_err(|_| invalid("bad status code"))?;
        let mut headers = Vec::new();
        loop {
            let l = read_line(&mut r, &mut budget)?;
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').ok_or_else(|| invalid("bad header"))?;
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        if (100..200).contains(&status) {
            status_line = read_line(&mut r, &mut budget)?;
            continue;
        }
        let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        let chunked = find("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let kind = if head_only || status == 204 || status == 304 {
            Kind::Length(0)
        } else if chunked {
            Kind::Chunked {
                left: 0,
                done: false,
            }
        } else if let Some(l) = find("content-length") {
            Kind::Length(l.parse().map_err(|_| invalid("bad content-length"))?)
        } else {
            Kind::Close
        };
        return Ok(Response {
            status,
            headers,
            body: Body { r, kind },
        });
    }
}

enum Kind {
    Length(u64),
    Chunked { left: u64, done: bool },
    Close,
}

/// A response body (framing removed).
pub struct Body<R> {
    r: R,
    kind: Kind,
}

impl<R: BufRead> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.kind {
            Kind::Length(0) => Ok(0),
            Kind::Length(left) => {
                let max = (*left).min(buf.len() as u64) as usize;
                let n = self.r.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "body shorter than its content-length",
                    ));
                }
                *left -= n as u64;
                Ok(n)
            }
            Kind::Close => self.r.read(buf),
            Kind::Chunked { left, done } => {
                if *done {
                    return Ok(0);
                }
                if *left == 0 {
                    let mut budget = 4096;
                    let line = read_line(&mut self.r, &mut budget)?;
                    let size = line.split(';').next().unwrap_or("").trim();
                    let size =
                        u64::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
                    if size == 0 {
                        // Trailers up to the blank line.
                        let mut budget = MAX_HEAD;
                        while !read_line(&mut self.r, &mut budget)?.is_empty() {}
                        *done = true;
                        return Ok(0);
                    }
                    *left = size;
                }
                let max = (*left).min(buf.len() as u64) as usize;
                let n = self.r.read(&mut buf[..max])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "chunk cut short",
                    ));
                }
                *left -= n as u64;
                if *left == 0 {
                    let mut budget = 4;
                    if !read_line(&mut self.r, &mut budget)?.is_empty() {
                        return Err(invalid("chunk not followed by CRLF"));
                    }
                }
                Ok(n)
            }
        }
    }
}

/// A request to send.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl<'a> Request<'a> {
    pub fn new(method: &'a str, url: &'a str) -> Request<'a> {
        Request {
            method,
            url,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self.body = body;
        self
    }

    /// Send it once.
    pub fn send(&self, timeout: Duration) -> io::Result<Response<BufReader<TcpStream>>> {
        let u = Url::parse(self.url)?;
        let addr = (u.host.as_str(), u.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        let _ = s.set_nodelay(true);
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: maas-agent\r\nConnection: close\r\n",
            self.method, u.path, u.host, u.port
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut w = &s;
        w.write_all(head.as_bytes())?;
        w.write_all(&self.body)?;
        w.flush()?;
        read_response(
            BufReader::with_capacity(256 * 1024, s),
            self.method == "HEAD",
        )
    }

    /// Send until it gets an answer that is not a gateway error (502-504),
    /// for up to `patience`: the rack or region may be restarting.
    pub fn send_retrying(
        &self,
        timeout: Duration,
        patience: Duration,
    ) -> io::Result<Response<BufReader<TcpStream>>> {
        let t0 = Instant::now();
        let mut wait = Duration::from_millis(250);
        loop {
            let r = self.send(timeout);
            let retry = match &r {
                Ok(resp) => (502..=504).contains(&resp.status),
                Err(e) => e.kind() != io::ErrorKind::InvalidInput,
            };
            if !retry || t0.elapsed() + wait > patience {
                return r;
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }
}

/// `application/x-www-form-urlencoded` for `(key, value)` pairs.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    o.push(b as char)
                }
                b' ' => o.push('+'),
                _ => o.push_str(&format!("%{b:02X}")),
            }
        }
        o
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// A multipart/form-data body: text fields and files. Returns the content
/// type (with its boundary) and the body.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!(
        "maas-agent-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, data) in files {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        let r = read_response(raw, false)?;
        let st = r.status;
        Ok((st, r.bytes(1 << 20)?))
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://10.0.0.1:5248/MAAS/metadata/?op=x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("10.0.0.1", 5248));
        assert_eq!(u.path, "/MAAS/metadata/?op=x");
        assert_eq!(u.origin(), "http://10.0.0.1:5248");
        assert_eq!(Url::parse("http://h").unwrap().path, "/");
        assert_eq!(Url::parse("http://h").unwrap().port, 80);
        assert!(Url::parse("https://h/").is_err());
        assert!(Url::parse("http://h:99999/").is_err());
        assert!(Url::parse("http://:1/").is_err());
    }

    #[test]
    fn framings() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
        assert_eq!(body(r).unwrap(), (200, b"hello".to_vec()));
        let r = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n";
        assert_eq!(body(r).unwrap(), (201, b"abcde".to_vec()));
        let r = b"HTTP/1.0 404 Not Found\nServer: x\n\nuntil close";
        assert_eq!(body(r).unwrap(), (404, b"until close".to_vec()));
    }

    #[test]
    fn broken_responses_are_errors() {
        assert!(body(b"").is_err());
        assert!(body(b"SSH-2.0\r\n\r\n").is_err());
        assert!(body(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(body(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX").is_err());
        let big = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(body(big.as_bytes()).is_err());
    }

    #[test]
    fn forms_and_multipart() {
        assert_eq!(form(&[("a b", "c&d=é")]), b"a+b=c%26d%3D%C3%A9".to_vec());
        let (ct, b) = multipart(&[("status", "OK")], &[("hardware.json", b"{}")]);
        let boundary = ct.split("boundary=").nth(1).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(s.starts_with(&format!("--{boundary}\r\n")));
        assert!(s.contains("name=\"hardware.json\"; filename=\"hardware.json\""));
        assert!(s.ends_with(&format!("--{boundary}--\r\n")));
    }
}
