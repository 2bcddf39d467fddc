//! Building and sending API requests.

use std::time::Duration;

use percent_encoding::utf8_percent_encode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};

use crate::args::Value;
use crate::describe::sends_query;
use crate::error::Exit;
use crate::oauth::{Credentials, OAUTH_ENCODE};

/// A request ready to be signed and sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub method: String,
    pub url: String,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// Build the request for an action: `op` first in the query string (as
/// maascli does), then data in the query for GET/DELETE, or as a
/// multipart/form-data body otherwise (even when there is no data).
pub fn prepare(
    method: &str,
    base_url: &str,
    op: Option<&str>,
    data: &[(String, Value)],
) -> Prepared {
    let method = method.to_ascii_uppercase();
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(op) = op {
        query.push(("op".into(), op.into()));
    }
    let (content_type, body) = if sends_query(&method) {
        query.extend(
            data.iter()
                .map(|(k, v)| (k.clone(), v.as_text().into_owned())),
        );
        (None, None)
    } else {
        let boundary = new_boundary(data);
        let body = multipart_body(&boundary, data);
        (
            Some(format!("multipart/form-data; boundary={boundary}")),
            Some(body),
        )
    };
    let mut url = base_url.to_string();
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encode_query(&query));
    }
    Prepared {
        method,
        url,
        content_type,
        body,
    }
}

pub fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, OAUTH_ENCODE),
                utf8_percent_encode(v, OAUTH_ENCODE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn new_boundary(data: &[(String, Value)]) -> String {
    loop {
        let b = format!("maas-rs-{:032x}", rand::random::<u128>());
        let clash = data.iter().any(|(_, v)| match v {
            Value::Text(s) => s.contains(&b),
            Value::File { bytes, .. } => bytes.windows(b.len()).any(|w| w == b.as_bytes()),
        });
        if !clash {
            return b;
        }
    }
}

fn quote_header_param(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// RFC 7578 multipart/form-data. Text values are plain parts; files carry a
/// filename and `application/octet-stream`.
pub fn multipart_body(boundary: &str, data: &[(String, Value)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in data {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let name = quote_header_param(key);
        match value {
            Value::Text(s) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(s.as_bytes());
            }
            Value::File { file_name, bytes } => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n",
                        quote_header_param(file_name)
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// A response read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn is_json(&self) -> bool {
        let ct = self.content_type.to_ascii_lowercase();
        ct.starts_with("application/json") || ct.contains("+json")
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Turn a non-2xx response into the error printed on stderr (exit 2).
    pub fn into_result(self) -> Result<Response, Exit> {
        if self.is_success() {
            return Ok(self);
        }
        let body = String::from_utf8_lossy(&self.body);
        let body = body.trim_end();
        let mut msg = format!("HTTP {} {}", self.status, self.reason);
        let hint = match self.status {
            401 => Some(
                "error: the region rejected the API key (401); check the key, or log in \
                 again with `maas login PROFILE URL APIKEY`",
            ),
            403 => Some("error: permission denied (403): this user may not do that"),
            _ => None,
        };
        if let Some(h) = hint {
            msg = format!("{h}\n{msg}");
        }
        if !body.is_empty() {
            msg.push('\n');
            msg.push_str(body);
        }
        Err(Exit::refused(msg))
    }
}

/// A blocking HTTP client that signs requests.
pub struct Client {
    inner: reqwest::blocking::Client,
    timeout: Duration,
    debug: bool,
}

impl Client {
    pub fn new(timeout: Duration, debug: bool) -> anyhow::Result<Client> {
        let inner = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client {
            inner,
            timeout,
            debug,
        })
    }

    /// Send a request, signed when `creds` is given. Errors only when no
    /// response came back (exit 1); HTTP statuses are left to the caller.
    pub fn send(&self, req: &Prepared, creds: Option<&Credentials>) -> Result<Response, Exit> {
        if req.url.starts_with("https://") {
            return Err(Exit::usage(format!(
                "cannot request {}: https:// is not supported yet (no TLS support in this \
                 build); log in with the region's http:// URL",
                req.url
            )));
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| Exit::usage(format!("invalid HTTP method '{}'", req.method)))?;
        let mut builder = self.inner.request(method, &req.url).header(
            USER_AGENT,
            concat!("maas-rs-cli/", env!("CARGO_PKG_VERSION")),
        );
        if let Some(c) = creds {
            builder = builder.header(AUTHORIZATION, c.authorization_header());
        }
        if let Some(ct) = &req.content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        if self.debug {
            eprintln!("> {} {}", req.method, req.url);
            if let Some(ct) = &req.content_type {
                eprintln!("> Content-Type: {ct}");
            }
            if let Some(body) = &req.body {
                eprintln!("> ({} byte body)", body.len());
            }
        }
        let resp = builder
            .send()
            .map_err(|e| self.transport_error(&req.url, &e))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if self.debug {
            eprintln!(
                "< {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            );
            for (k, v) in resp.headers() {
                eprintln!("< {k}: {}", v.to_str().unwrap_or("<binary>"));
            }
        }
        let body = resp
            .bytes()
            .map_err(|e| self.transport_error(&req.url, &e))?
            .to_vec();
        Ok(Response {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            content_type,
            body,
        })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> Exit {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        let cause = causes.last().cloned().unwrap_or_else(|| e.to_string());
        let url = url.split('?').next().unwrap_or(url);
        if e.is_timeout() {
            Exit::failure(format!(
                "the region at {url} did not answer within {}s (set --timeout / MAAS_CLI_TIMEOUT)",
                self.timeout.as_secs()
            ))
        } else if e.is_connect() {
            Exit::failure(format!("cannot reach the region at {url}: {cause}"))
        } else {
            Exit::failure(format!("request to {url} failed: {cause}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(k: &str, v: &str) -> (String, Value) {
        (k.into(), Value::Text(v.into()))
    }

    #[test]
    fn get_puts_op_then_data_in_query() {
        let p = prepare(
            "get",
            "http://h/MAAS/api/2.0/machines/",
            Some("list_allocated"),
            &[text("tags", "a b"), text("tags", "c&d"), text("x", "=")],
        );
        assert_eq!(p.method, "GET");
        assert_eq!(
            p.url,
            "http://h/MAAS/api/2.0/machines/?op=list_allocated&tags=a%20b&tags=c%26d&x=%3D"
        );
        assert_eq!(p.body, None);
        let p = prepare("DELETE", "http://h/x/", None, &[text("force", "1")]);
        assert_eq!(p.url, "http://h/x/?force=1");
        let p = prepare("GET", "http://h/x/", None, &[]);
        assert_eq!(p.url, "http://h/x/");
    }

    #[test]
    fn post_sends_multipart() {
        let data = vec![
            text("distro_series", "jammy"),
            text("tags", "a"),
            text("tags", "b"),
            (
                "user_data".into(),
                Value::File {
                    file_name: "ud".into(),
                    bytes: vec![0, 1, 2],
                },
            ),
        ];
        let p = prepare("POST", "http://h/m/abc/", Some("deploy"), &data);
        assert_eq!(p.url, "http://h/m/abc/?op=deploy");
        let ct = p.content_type.unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let mut want = Vec::new();
        for (k, v) in [("distro_series", "jammy"), ("tags", "a"), ("tags", "b")] {
            want.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        want.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"user_data\"; \
                 filename=\"ud\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        want.extend_from_slice(&[0, 1, 2]);
        want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        assert_eq!(p.body.unwrap(), want);
    }

    #[test]
    fn empty_post_still_has_a_multipart_body() {
        let p = prepare("POST", "http://h/m/", Some("allocate"), &[]);
        let ct = p.content_type.unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        assert_eq!(p.body.unwrap(), format!("--{boundary}--\r\n").into_bytes());
    }

    #[test]
    fn non_success_maps_to_exit_2() {
        let r = Response {
            status: 409,
            reason: "Conflict".into(),
            content_type: "text/plain".into(),
            body: b"No machine available.\n".to_vec(),
        };
        let e = r.into_result().unwrap_err();
        assert_eq!(e.code, 2);
        assert_eq!(e.message, "HTTP 409 Conflict\nNo machine available.");
        let r = Response {
            status: 401,
            reason: "Unauthorized".into(),
            content_type: String::new(),
            body: vec![],
        };
        let e = r.into_result().unwrap_err();
        assert!(
            e.message.contains("rejected the API key (401)"),
            "{}",
            e.message
        );
    }
}
