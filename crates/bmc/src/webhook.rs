//! The webhook driver: POST to the user's on/off URLs, GET the query URL and
//! match the body against the on/off regular expressions (MAAS's parameters).

use std::collections::BTreeMap;

use regex::Regex;

use crate::error::{PowerError, Result};
use crate::{
    BootDevice, DriverOptions, OffMode, PowerDriver, PowerOnOutcome, PowerState, http, params,
};

const DEFAULT_ON: &str = r"status.*:.*running";
const DEFAULT_OFF: &str = r"status.*:.*stopped";

#[derive(Debug, Clone)]
pub struct WebhookDriver {
    on_uri: String,
    off_uri: String,
    query_uri: Option<String>,
    on_re: Regex,
    off_re: Regex,
    auth: Auth,
    client: reqwest::Client,
    opts: DriverOptions,
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String, String),
    Token(String),
}

fn url(p: &BTreeMap<String, String>, k: &str) -> Result<String> {
    let u = params::require(p, k)?;
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(PowerError::BadParameters(format!(
            "{k} must be an http(s) URL"
        )));
    }
    Ok(u.to_string())
}

fn regex(p: &BTreeMap<String, String>, k: &str, default: &str) -> Result<Regex> {
    let src = params::get(p, k).unwrap_or(default);
    regex::RegexBuilder::new(src)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| PowerError::BadParameters(format!("{k}: {e}")))
}

impl WebhookDriver {
    pub fn from_params(p: &BTreeMap<String, String>, opts: DriverOptions) -> Result<WebhookDriver> {
        let auth = match (params::get(p, "power_token"), params::get(p, "power_user")) {
            (Some(t), _) => Auth::Token(t.to_string()),
            (None, Some(u)) => Auth::Basic(
                u.to_string(),
                p.get("power_pass").cloned().unwrap_or_default(),
            ),
            (None, None) => Auth::None,
        };
        Ok(WebhookDriver {
            on_uri: url(p, "power_on_uri")?,
            off_uri: url(p, "power_off_uri")?,
            query_uri: if params::get(p, "power_query_uri").is_some() {
                Some(url(p, "power_query_uri")?)
            } else {
                None
            },
            on_re: regex(p, "power_on_regex", DEFAULT_ON)?,
            off_re: regex(p, "power_off_regex", DEFAULT_OFF)?,
            auth,
            client: http::client(
                params::flag(p, "power_verify_ssl", false)?,
                opts.attempt_timeout.max(std::time::Duration::from_secs(5)),
            )?,
            opts,
        })
    }

    async fn call(&self, method: reqwest::Method, uri: &str) -> Result<Vec<u8>> {
        let started = std::time::Instant::now();
        let mut last = None;
        for _ in 0..=self.opts.retries {
            let mut rq = self.client.request(method.clone(), uri);
            rq = match &self.auth {
                Auth::None => rq,
                Auth::Basic(u, p) => rq.basic_auth(u, Some(p)),
                Auth::Token(t) => rq.bearer_auth(t),
            };
            match rq.send().await {
                Ok(r) => {
                    let status = r.status();
                    let body = http::body(uri, r, 64 * 1024, started.elapsed()).await?;
                    if status == reqwest::StatusCode::UNAUTHORIZED
                        || status == reqwest::StatusCode::FORBIDDEN
                    {
                        return Err(PowerError::AuthRefused(format!("{uri} answered {status}")));
                    }
                    if !status.is_success() {
                        return Err(PowerError::Http {
                            status: status.as_u16(),
                            message: String::from_utf8_lossy(&body[..body.len().min(200)])
                                .into_owned(),
                        });
                    }
                    return Ok(body);
                }
                Err(e) if e.is_connect() || e.is_timeout() => last = Some(e),
                Err(e) => return Err(http::transport(uri, e, started.elapsed())),
            }
        }
        Err(match last {
            Some(e) => http::transport(uri, e, started.elapsed()),
            None => PowerError::Unreachable {
                addr: uri.to_string(),
                waited: started.elapsed(),
            },
        })
    }
}

#[async_trait::async_trait]
impl PowerDriver for WebhookDriver {
    fn power_type(&self) -> &'static str {
        "webhook"
    }
    async fn power_on(&self) -> Result<PowerOnOutcome> {
        if self.query_uri.is_some() && self.query().await? == PowerState::On {
            return Ok(PowerOnOutcome::AlreadyOn);
        }
        self.call(reqwest::Method::POST, &self.on_uri).await?;
        Ok(PowerOnOutcome::TurnedOn)
    }
    async fn power_off(&self, _mode: OffMode) -> Result<()> {
        self.call(reqwest::Method::POST, &self.off_uri)
            .await
            .map(|_| ())
    }
    async fn power_cycle(&self) -> Result<()> {
        if self.query_uri.is_none() || self.query().await? != PowerState::Off {
            self.call(reqwest::Method::POST, &self.off_uri).await?;
        }
        self.call(reqwest::Method::POST, &self.on_uri)
            .await
            .map(|_| ())
    }
    async fn power_reset(&self) -> Result<()> {
        self.power_cycle().await
    }
    async fn query(&self) -> Result<PowerState> {
        let Some(q) = &self.query_uri else {
            return Ok(PowerState::Unknown);
        };
        let body = self.call(reqwest::Method::GET, q).await?;
        let text = String::from_utf8_lossy(&body);
        Ok(if self.on_re.is_match(&text) {
            PowerState::On
        } else if self.off_re.is_match(&text) {
            PowerState::Off
        } else {
            PowerState::Unknown
        })
    }
    async fn set_boot_device(&self, _b: BootDevice) -> Result<()> {
        Err(PowerError::Unsupported(
            "the webhook driver cannot set the boot device".into(),
        ))
    }
}
