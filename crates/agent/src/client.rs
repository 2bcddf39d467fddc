//! The region as the agent sees it (through the rack): the metadata API
//! with the machine's token, get_preseed, anonymous enlistment.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cmdline::Creds;
use crate::http::{self, Request, Url};
use crate::preseed::{self, Preseed};

const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REPLY: u64 = 16 << 20;

pub struct Maas {
    /// The metadata URL, ending in `/` (`http://rack:5248/MAAS/metadata/`).
    pub url: String,
    pub creds: Option<Creds>,
    pub patience: Duration,
}

impl Maas {
    pub fn new(url: &str, creds: Option<Creds>, patience: Duration) -> Maas {
        let mut url = url.to_string();
        if !url.ends_with('/') {
            url.push('/');
        }
        Maas {
            url,
            creds,
            patience,
        }
    }

    /// `http://rack:5248`.
    pub fn origin(&self) -> Result<String> {
        Ok(Url::parse(&self.url)?.origin())
    }

    fn authed<'a>(&self, r: Request<'a>) -> Request<'a> {
        match &self.creds {
            Some(c) => r.header("Authorization", &crate::oauth::header(c)),
            None => r,
        }
    }

    /// Send (retrying), and read a reply that must be 2xx.
    fn call(&self, r: Request<'_>, what: &str) -> Result<Vec<u8>> {
        let resp = self
            .authed(r)
            .send_retrying(TIMEOUT, self.patience)
            .with_context(|| format!("{what}: no answer"))?;
        let status = resp.status;
        let body = resp.bytes(MAX_REPLY).with_context(|| what.to_string())?;
        if !(200..300).contains(&status) {
            bail!(
                "{what}: HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        Ok(body)
    }

    /// The machine's credentials (anonymous; only while it boots the
    /// ephemeral environment).
    pub fn get_preseed(&self, system_id: &str) -> Result<Preseed> {
        let url = format!("{}latest/by-id/{system_id}/?op=get_preseed", self.url);
        let body = self.call(Request::new("GET", &url), "get_preseed")?;
        preseed::parse(&String::from_utf8_lossy(&body))
            .context("get_preseed: the answer has no credentials")
    }

    /// `POST latest/?op=signal` with fields and files.
    pub fn signal(
        &self,
        status: &str,
        error: &str,
        extra: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Result<()> {
        let mut fields = vec![("status", status)];
        if !error.is_empty() {
            fields.push(("error", error));
        }
        fields.extend_from_slice(extra);
        let (ct, body) = http::multipart(&fields, files);
        let url = format!("{}latest/?op=signal", self.url);
        self.call(
            Request::new("POST", &url).body(&ct, body),
            &format!("signal {status}"),
        )?;
        Ok(())
    }

    /// `GET latest/maas-task`; `None` when the region has no such endpoint.
    pub fn task(&self) -> Result<Option<Value>> {
        let url = format!("{}latest/maas-task", self.url);
        let resp = self
            .authed(Request::new("GET", &url))
            .send_retrying(TIMEOUT, self.patience)
            .context("maas-task: no answer")?;
        if resp.status == 404 {
            return Ok(None);
        }
        let status = resp.status;
        let body = resp.bytes(MAX_REPLY)?;
        if status != 200 {
            bail!("maas-task: HTTP {status}");
        }
        Ok(Some(
            serde_json::from_slice(&body).context("maas-task: not JSON")?,
        ))
    }

    pub fn netboot_off(&self) -> Result<()> {
        let url = format!("{}latest/?op=netboot_off", self.url);
        self.call(
            Request::new("POST", &url).body("application/x-www-form-urlencoded", Vec::new()),
            "netboot_off",
        )?;
        Ok(())
    }

    /// A metadata path as text (`latest/meta-data/public-keys`, ...).
    pub fn get_text(&self, path: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.url);
        self.call(Request::new("GET", &url), path)
    }

    /// Anonymous enlistment: `POST /MAAS/api/2.0/machines/`.
    pub fn enlist(&self, form: &[(&str, &str)]) -> Result<Value> {
        let url = format!("{}/MAAS/api/2.0/machines/", self.origin()?);
        let r = Request::new("POST", &url)
            .body("application/x-www-form-urlencoded", http::form(form))
            .send_retrying(TIMEOUT, self.patience)
            .context("enlist: no answer")?;
        let status = r.status;
        let body = r.bytes(MAX_REPLY)?;
        if status != 200 {
            bail!(
                "enlist: HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        serde_json::from_slice(&body).context("enlist: not JSON")
    }
}
