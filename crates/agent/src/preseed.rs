//! The cloud-config `get_preseed` answers: the machine's metadata URL and
//! token under `datasource: MAAS:`. Only those four keys are read, line by
//! line; anything else in the YAML is ignored.

use crate::cmdline::Creds;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preseed {
    pub metadata_url: Option<String>,
    pub creds: Creds,
}

/// A scalar as YAML writes it: bare, 'single' or "double" quoted.
fn scalar(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

pub fn parse(text: &str) -> Option<Preseed> {
    let (mut url, mut ck, mut tk, mut ts) = (None, None, None, None);
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once(':') else {
            continue;
        };
        let v = scalar(v);
        if v.is_empty() {
            continue;
        }
        match k.trim() {
            "metadata_url" => url = Some(v.to_string()),
            "consumer_key" => ck = Some(v.to_string()),
            "token_key" => tk = Some(v.to_string()),
            "token_secret" => ts = Some(v.to_string()),
            _ => {}
        }
    }
    Some(Preseed {
        metadata_url: url,
        creds: Creds {
            consumer_key: ck?,
            token_key: tk?,
            token_secret: ts?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_datasource() {
        let y = "#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: http://10.0.0.1:5248/MAAS/metadata/\n    consumer_key: 'ck'\n    token_key: \"tk\"\n    token_secret: ts\nreporting: {}\n";
        let p = parse(y).unwrap();
        assert_eq!(
            p.metadata_url.as_deref(),
            Some("http://10.0.0.1:5248/MAAS/metadata/")
        );
        assert_eq!(p.creds, Creds::parse("ck:tk:ts").unwrap());
    }

    #[test]
    fn missing_secret_is_none() {
        assert_eq!(parse("consumer_key: a\ntoken_key: b\n"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("token_secret:\n"), None);
    }
}
