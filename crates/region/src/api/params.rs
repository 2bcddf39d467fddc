//! Request parameters as MAAS takes them: the query string plus a form body
//! (urlencoded, or multipart with optional base64 transfer encoding, which
//! python-libmaas uses for every part), or a JSON object.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use base64::Engine;
use maas_model::constraints::Params;

use crate::error::{Error, Result};

/// Everything a request carried.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub params: Params,
    /// Uploaded files (multipart parts with a filename): name → (filename, bytes).
    pub files: BTreeMap<String, Vec<(String, Vec<u8>)>>,
}

impl Input {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .and_then(|v| v.last())
            .map(|s| s.as_str())
    }

    /// A non-empty single value.
    pub fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|s| !s.trim().is_empty())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.params.get(key).cloned().unwrap_or_default()
    }

    /// Values of a list parameter given as repeated keys and/or comma-separated.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn has(&self, key: &str) -> bool {
        self.params.contains_key(key) || self.files.contains_key(key)
    }

    pub fn op(&self) -> Option<&str> {
        self.get_nonempty("op")
    }

    /// A value from params, or the content of an uploaded file of that name.
    pub fn text_or_file(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(f) = self.files.get(key).and_then(|v| v.last()) {
            return Some(f.1.clone());
        }
        self.get(key).map(|s| s.as_bytes().to_vec())
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => maas_model::constraints::parse_bool(v)
                .map(Some)
                .ok_or_else(|| Error::field(key, format!("'{v}' is not a valid boolean."))),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get_nonempty(key) {
            None => Ok(None),
            Some(v) => {
                let parsed = maas_model::filter::parse_int(v);
                parsed
                    .map(Some)
                    .ok_or_else(|| Error::field(key, format!("'{v}' is not a valid integer.")))
            }
        }
    }

    pub fn push(&mut self, k: String, v: String) {
        self.params.entry(k).or_default().push(v);
    }
}

fn parse_urlencoded(input: &mut Input, data: &[u8]) {
    for (k, v) in form_pairs(data) {
        input.push(k, v);
    }
}

fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    data.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &[u8]) -> String {
    let plus: Vec<u8> = s
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// Parse a query string into `input`.
pub fn add_query(input: &mut Input, query: Option<&str>) {
    if let Some(q) = query {
        parse_urlencoded(input, q.as_bytes());
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()] == *needle)
}

fn header_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            Some(v.to_string())
        } else {
            None
        }
    })
}

/// Parse a multipart/form-data body. Parts without a name (python-libmaas's
/// empty body) are skipped; `Content-Transfer-Encoding: base64` is decoded.
pub fn parse_multipart(input: &mut Input, boundary: &str, body: &[u8]) -> Result<()> {
    let bad = |m: &str| Error::BadRequest(format!("Malformed multipart body: {m}."));
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(bad("bad boundary"));
    }
    let delim = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0).ok_or_else(|| bad("no boundary found"))?;
    loop {
        let start = pos + delim.len();
        if body[start..].starts_with(b"--") {
            return Ok(());
        }
        let next = find(body, &delim, start).ok_or_else(|| bad("missing closing boundary"))?;
        let mut part = &body[start..next];
        part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        part = part
            .strip_suffix(b"\r\n")
            .or_else(|| part.strip_suffix(b"\n"))
            .unwrap_or(part);
        pos = next;
        if part.is_empty() {
            continue;
        }
        let (head, content) = match find(part, b"\r\n\r\n", 0) {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match find(part, b"\n\n", 0) {
                Some(i) => (&part[..i], &part[i + 2..]),
                // A part that is all headers, or a headerless blob: no name.
                None => continue,
            },
        };
        let head = String::from_utf8_lossy(head);
        let (mut name, mut filename, mut cte) = (None, None, None);
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let k = k.trim().to_ascii_lowercase();
            if k == "content-disposition" {
                name = header_param(v, "name");
                filename = header_param(v, "filename");
            } else if k == "content-transfer-encoding" {
                cte = Some(v.trim().to_ascii_lowercase());
            }
        }
        let Some(name) = name else { continue };
        let data = if cte.as_deref() == Some("base64") {
            let clean: Vec<u8> = content
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(&clean)
                .map_err(|_| bad(&format!("part '{name}' is not valid base64")))?
        } else {
            content.to_vec()
        };
        match filename {
            Some(f) => input.files.entry(name).or_default().push((f, data)),
            None => {
                let s = String::from_utf8(data)
                    .map_err(|_| Error::field(&name, "Value is not valid UTF-8 text."))?;
                input.push(name, s);
            }
        }
    }
}

fn add_json(input: &mut Input, body: &[u8]) -> Result<()> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::BadRequest(format!("Malformed JSON body: {e}.")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(Error::BadRequest("The JSON body must be an object.".into()));
    };
    fn scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        }
    }
    for (k, v) in map {
        match v {
            serde_json::Value::Array(items) => {
                for i in items {
                    input.push(k.clone(), scalar(&i));
                }
            }
            other => input.push(k, scalar(&other)),
        }
    }
    Ok(())
}

/// Build the input from a request's query, headers and body.
pub fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Input> {
    let mut input = Input::default();
    add_query(&mut input, query);
    if !body.is_empty() {
        add_body(&mut input, headers, body)?;
    }
    refuse_nul(&input)?;
    Ok(input)
}

/// PostgreSQL text cannot hold NUL: refuse it here, naming the field, so it
/// never reaches a statement.
fn refuse_nul(input: &Input) -> Result<()> {
    for (k, vals) in &input.params {
        if k.contains('\0') || vals.iter().any(|v| v.contains('\0')) {
            return Err(Error::field(
                &k.replace('\0', "\\0"),
                "Text may not contain NUL characters.",
            ));
        }
    }
    for (k, files) in &input.files {
        if k.contains('\0') || files.iter().any(|(name, _)| name.contains('\0')) {
            return Err(Error::field(
                &k.replace('\0', "\\0"),
                "File names may not contain NUL characters.",
            ));
        }
    }
    Ok(())
}

fn add_body(input: &mut Input, headers: &HeaderMap, body: &[u8]) -> Result<()> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "multipart/form-data" => {
            let boundary = header_param(ct, "boundary")
                .ok_or_else(|| Error::BadRequest("multipart body without a boundary.".into()))?;
            parse_multipart(input, &boundary, body)?;
        }
        "application/json" => add_json(input, body)?,
        // A JSON object sent with no content type (cloud-init's reporting
        // webhook posts `json.dumps(event)` that way).
        "" if body.trim_ascii_start().starts_with(b"{") => add_json(input, body)?,
        "application/x-www-form-urlencoded" | "" => parse_urlencoded(input, body),
        other => {
            return Err(Error::BadRequest(format!(
                "Unsupported content type '{other}': send form data (urlencoded or multipart) or JSON."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_object_without_a_content_type_is_json() {
        let body = br#" {"event_type": "finish", "name": "modules-final", "result": "SUCCESS"}"#;
        let i = parse(None, &HeaderMap::new(), body).unwrap();
        assert_eq!(i.get("event_type"), Some("finish"));
        assert_eq!(i.get("name"), Some("modules-final"));
        // A form body stays a form body.
        let i = parse(None, &HeaderMap::new(), b"a=%7B&b=2").unwrap();
        assert_eq!(i.get("a"), Some("{"));
    }

    #[test]
    fn libmaas_style_multipart() {
        let b = "===============9111938519874637963==";
        let body = format!(
            "--{b}\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name=\"tags\"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\ndmlydHVhbA==\r\n\r\n--{b}\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\nssd\r\n--{b}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n\x00\x01\r\n--{b}--"
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary=\"{b}\"")
                .parse()
                .unwrap(),
        );
        let i = parse(Some("op=allocate"), &h, body.as_bytes()).unwrap();
        assert_eq!(i.op(), Some("allocate"));
        assert_eq!(i.all("tags"), vec!["virtual", "ssd"]);
        assert_eq!(i.files["f"][0].1, vec![0u8, 1]);
    }

    #[test]
    fn empty_libmaas_body() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=\"B\"".parse().unwrap(),
        );
        let i = parse(None, &h, b"--B\r\n\r\n--B--").unwrap();
        assert!(i.params.is_empty());
    }

    #[test]
    fn malformed_bodies_are_400_not_panics() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=B".parse().unwrap(),
        );
        for body in [
            &b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"[..],
            b"nothing",
            b"--",
        ] {
            assert!(matches!(parse(None, &h, body), Err(Error::BadRequest(_))));
        }
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(parse(None, &h, b"[1]").is_err());
        assert!(parse(None, &h, b"{").is_err());
        let i = parse(None, &h, br#"{"a":[1,"x"],"b":true}"#).unwrap();
        assert_eq!(i.all("a"), vec!["1", "x"]);
        assert_eq!(i.get("b"), Some("true"));
    }

    #[test]
    fn urlencoded_and_query() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let i = parse(Some("hostname=a+b&hostname=c%26d"), &h, b"x=1&x=2&y").unwrap();
        assert_eq!(i.all("hostname"), vec!["a b", "c&d"]);
        assert_eq!(i.all("x"), vec!["1", "2"]);
        assert_eq!(i.get("y"), Some(""));
    }

    proptest::proptest! {
        #[test]
        fn multipart_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), b in "[A-Za-z=]{1,5}") {
            let mut i = Input::default();
            let _ = parse_multipart(&mut i, &b, &body);
        }
    }
}
