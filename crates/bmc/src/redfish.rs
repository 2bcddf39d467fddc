//! A small typed Redfish client: service root → Systems → the ComputerSystem
//! (the only one, or `node_id`), `ComputerSystem.Reset` with a reset type the
//! system advertises, a Boot override PATCH (with If-Match when the resource has
//! an ETag), and PowerState. Basic auth first; a session (SessionService) when
//! basic auth is refused. Vendor differences live in [`Quirks`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{Value, json};

use crate::error::{PowerError, Result};
use crate::{
    BootDevice, BootTarget, DriverOptions, OffMode, PowerDriver, PowerOnOutcome, PowerState, http,
    params,
};

const BODY_LIMIT: usize = 1 << 20;

/// Vendor quirks, in one place.
///
/// - `omit_mode_if_absent`: some BMCs reject `BootSourceOverrideMode` in a PATCH
///   when the resource does not show that property; we leave it out then.
/// - `accept_unlisted_reset`: when a system lists no
///   `ResetType@Redfish.AllowableValues` we send our first preference anyway.
#[derive(Debug, Clone, Copy)]
pub struct Quirks {
    pub omit_mode_if_absent: bool,
    pub accept_unlisted_reset: bool,
}

impl Default for Quirks {
    fn default() -> Self {
        Quirks {
            omit_mode_if_absent: true,
            accept_unlisted_reset: true,
        }
    }
}

/// What the driver needs from a ComputerSystem resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemView {
    pub path: String,
    pub power_state: PowerState,
    pub reset_target: Option<String>,
    pub reset_types: Vec<String>,
    pub has_boot_mode: bool,
    pub etag: Option<String>,
}

impl SystemView {
    /// Read the fields from a ComputerSystem JSON body.
    pub fn from_json(path: &str, v: &Value, etag: Option<String>) -> Result<SystemView> {
        let ps = v.get("PowerState").and_then(Value::as_str).ok_or_else(|| {
            PowerError::Protocol(format!("{path}: no PowerState in the ComputerSystem"))
        })?;
        let power_state = match ps {
            "On" | "PoweringOff" => PowerState::On,
            "Off" | "PoweringOn" => PowerState::Off,
            _ => PowerState::Unknown,
        };
        let reset = v.pointer("/Actions/#ComputerSystem.Reset");
        let reset_target = reset
            .and_then(|r| r.get("target"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let reset_types = reset
            .and_then(|r| r.get("ResetType@Redfish.AllowableValues"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let has_boot_mode = v.pointer("/Boot/BootSourceOverrideMode").is_some();
        let etag = etag.or_else(|| {
            v.get("@odata.etag")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        Ok(SystemView {
            path: path.to_string(),
            power_state,
            reset_target,
            reset_types,
            has_boot_mode,
            etag,
        })
    }

    /// The first of `wanted` the system advertises.
    pub fn pick_reset(&self, wanted: &[&str], q: Quirks) -> Result<String> {
        if self.reset_types.is_empty() && q.accept_unlisted_reset {
            return Ok(wanted[0].to_string());
        }
        wanted
            .iter()
            .find(|w| self.reset_types.iter().any(|t| t == *w))
            .map(|w| w.to_string())
            .ok_or_else(|| {
                PowerError::Unsupported(format!(
                    "system offers reset types {:?}, none of {:?}",
                    self.reset_types, wanted
                ))
            })
    }
}

pub struct RedfishDriver {
    base: String,
    user: String,
    pass: String,
    node_id: Option<String>,
    client: reqwest::Client,
    quirks: Quirks,
    opts: DriverOptions,
    token: Mutex<Option<String>>,
    system: Mutex<Option<String>>,
}

fn odata_id(v: &Value) -> Option<&str> {
    v.get("@odata.id").and_then(Value::as_str)
}

impl RedfishDriver {
    /// From power_address (host[:port], or a full http(s):// base URL), power_user,
    /// power_pass, node_id (optional) and power_verify_ssl (default true).
    pub fn from_params(p: &BTreeMap<String, String>, opts: DriverOptions) -> Result<RedfishDriver> {
        let addr = params::require(p, "power_address")?;
        let base = if addr.starts_with("http://") || addr.starts_with("https://") {
            addr.trim_end_matches('/').to_string()
        } else {
            let (h, port) = params::host_port(addr, 443)?;
            let h = if h.contains(':') { format!("[{h}]") } else { h };
            format!("https://{h}:{port}")
        };
        Ok(RedfishDriver {
            base,
            user: params::get(p, "power_user").unwrap_or("").to_string(),
            pass: p.get("power_pass").cloned().unwrap_or_default(),
            node_id: params::get(p, "node_id").map(str::to_string),
            client: http::client(
                params::flag(p, "power_verify_ssl", true)?,
                opts.attempt_timeout.max(std::time::Duration::from_secs(5)),
            )?,
            quirks: Quirks::default(),
            opts,
            token: Mutex::new(None),
            system: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    fn token(&self) -> Option<String> {
        self.token.lock().ok().and_then(|t| t.clone())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<reqwest::Response> {
        let url = self.url(path);
        let started = Instant::now();
        let mut sessions_tried = false;
        let mut attempt = 0;
        loop {
            let mut rq = self
                .client
                .request(method.clone(), &url)
                .header("Accept", "application/json");
            rq = match self.token() {
                Some(t) => rq.header("X-Auth-Token", t),
                None if !self.user.is_empty() => rq.basic_auth(&self.user, Some(&self.pass)),
                None => rq,
            };
            if let Some(b) = body {
                rq = rq.json(b);
            }
            if let Some(e) = etag {
                rq = rq.header("If-Match", e);
            }
            let r = match rq.send().await {
                Ok(r) => r,
                Err(e) if (e.is_connect() || e.is_timeout()) && attempt < self.opts.retries => {
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(http::transport(&url, e, started.elapsed())),
            };
            let status = r.status();
            if status == reqwest::StatusCode::UNAUTHORIZED
                && !sessions_tried
                && !self.user.is_empty()
            {
                sessions_tried = true;
                if self.token().is_some() {
                    // An expired session: log in again.
                    if let Ok(mut t) = self.token.lock() {
                        *t = None;
                    }
                }
                if self.login().await.is_ok() {
                    continue;
                }
            }
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                return Err(PowerError::AuthRefused(format!("{url} answered {status}")));
            }
            if !status.is_success() {
                let b = http::body(&url, r, BODY_LIMIT, started.elapsed())
                    .await
                    .unwrap_or_default();
                return Err(PowerError::Http {
                    status: status.as_u16(),
                    message: error_message(&b),
                });
            }
            return Ok(r);
        }
    }

    /// Create a session (POST SessionService/Sessions) and keep its X-Auth-Token.
    async fn login(&self) -> Result<()> {
        let url = self.url("/redfish/v1/SessionService/Sessions");
        let started = Instant::now();
        let r = self
            .client
            .post(&url)
            .json(&json!({"UserName": self.user, "Password": self.pass}))
            .send()
            .await
            .map_err(|e| http::transport(&url, e, started.elapsed()))?;
        if !r.status().is_success() {
            return Err(PowerError::AuthRefused(format!(
                "session login answered {}",
                r.status()
            )));
        }
        let t = r
            .headers()
            .get("X-Auth-Token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| PowerError::Protocol("session created without X-Auth-Token".into()))?
            .to_string();
        if let Ok(mut g) = self.token.lock() {
            *g = Some(t);
        }
        tracing::debug!(bmc = %self.base, "Redfish session created");
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<(Value, Option<String>)> {
        let url = self.url(path);
        let started = Instant::now();
        let r = self.send(reqwest::Method::GET, path, None, None).await?;
        let etag = r
            .headers()
            .get("ETag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let b = http::body(&url, r, BODY_LIMIT, started.elapsed()).await?;
        let v = serde_json::from_slice(&b)
            .map_err(|e| PowerError::Protocol(format!("{url}: not JSON: {e}")))?;
        Ok((v, etag))
    }

    /// The ComputerSystem's path: the only system, or the one named by node_id.
    pub async fn system_path(&self) -> Result<String> {
        if let Some(p) = self.system.lock().ok().and_then(|s| s.clone()) {
            return Ok(p);
        }
        let (root, _) = self.get("/redfish/v1/").await?;
        let systems = root
            .pointer("/Systems/@odata.id")
            .and_then(Value::as_str)
            .ok_or_else(|| PowerError::Protocol("service root has no Systems".into()))?
            .to_string();
        let (coll, _) = self.get(&systems).await?;
        let members: Vec<String> = coll
            .get("Members")
            .and_then(Value::as_array)
            .ok_or_else(|| PowerError::Protocol("Systems collection has no Members".into()))?
            .iter()
            .filter_map(odata_id)
            .map(str::to_string)
            .collect();
        let path = match &self.node_id {
            Some(id) => members
                .iter()
                .find(|m| m.trim_end_matches('/').rsplit('/').next() == Some(id.as_str()))
                .cloned()
                .ok_or_else(|| {
                    PowerError::BadParameters(format!("no system {id:?} among {members:?}"))
                })?,
            None => match members.as_slice() {
                [one] => one.clone(),
                [] => return Err(PowerError::Protocol("the BMC lists no systems".into())),
                many => {
                    return Err(PowerError::BadParameters(format!(
                        "{} systems; set node_id",
                        many.len()
                    )));
                }
            },
        };
        if let Ok(mut s) = self.system.lock() {
            *s = Some(path.clone());
        }
        Ok(path)
    }

    pub async fn system(&self) -> Result<SystemView> {
        let path = self.system_path().await?;
        let (v, etag) = self.get(&path).await?;
        SystemView::from_json(&path, &v, etag)
    }

    async fn reset(&self, sys: &SystemView, wanted: &[&str]) -> Result<()> {
        let kind = sys.pick_reset(wanted, self.quirks)?;
        let target = sys.reset_target.clone().unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                sys.path.trim_end_matches('/')
            )
        });
        tracing::debug!(bmc = %self.base, reset = %kind, "Redfish reset");
        self.send(
            reqwest::Method::POST,
            &target,
            Some(&json!({"ResetType": kind})),
            None,
        )
        .await
        .map(|_| ())
    }
}

fn error_message(b: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(b)
        && let Some(m) = v.pointer("/error/message").and_then(Value::as_str)
    {
        return m.to_string();
    }
    String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned()
}

#[async_trait::async_trait]
impl PowerDriver for RedfishDriver {
    fn power_type(&self) -> &'static str {
        "redfish"
    }
    async fn power_on(&self) -> Result<PowerOnOutcome> {
        let sys = self.system().await?;
        if sys.power_state == PowerState::On {
            return Ok(PowerOnOutcome::AlreadyOn);
        }
        self.reset(&sys, &["On", "ForceOn"]).await?;
        Ok(PowerOnOutcome::TurnedOn)
    }
    async fn power_off(&self, mode: OffMode) -> Result<()> {
        let sys = self.system().await?;
        match mode {
            OffMode::Hard => self.reset(&sys, &["ForceOff"]).await,
            OffMode::Soft => self.reset(&sys, &["GracefulShutdown"]).await,
        }
    }
    async fn power_cycle(&self) -> Result<()> {
        let sys = self.system().await?;
        if sys.power_state == PowerState::Off {
            return self.reset(&sys, &["On", "ForceOn"]).await;
        }
        self.reset(&sys, &["PowerCycle", "ForceRestart", "GracefulRestart"])
            .await
    }
    async fn power_reset(&self) -> Result<()> {
        let sys = self.system().await?;
        self.reset(&sys, &["ForceRestart", "PowerCycle"]).await
    }
    async fn query(&self) -> Result<PowerState> {
        Ok(self.system().await?.power_state)
    }
    async fn set_boot_device(&self, b: BootDevice) -> Result<()> {
        let sys = self.system().await?;
        let mut boot = json!({
            "BootSourceOverrideTarget": match b.target { BootTarget::Pxe => "Pxe", BootTarget::Disk => "Hdd" },
            "BootSourceOverrideEnabled": if b.persistent { "Continuous" } else { "Once" },
        });
        if sys.has_boot_mode || !self.quirks.omit_mode_if_absent {
            boot["BootSourceOverrideMode"] = json!(if b.efi { "UEFI" } else { "Legacy" });
        }
        self.send(
            reqwest::Method::PATCH,
            &sys.path,
            Some(&json!({ "Boot": boot })),
            sys.etag.as_deref(),
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_view_reads_what_it_needs_and_picks_advertised_resets() {
        let v = json!({
            "PowerState": "On",
            "@odata.etag": "W/\"1\"",
            "Boot": {"BootSourceOverrideTarget": "None", "BootSourceOverrideMode": "UEFI"},
            "Actions": {"#ComputerSystem.Reset": {
                "target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "ForceRestart"]}}
        });
        let s = SystemView::from_json("/redfish/v1/Systems/1", &v, None).expect("view");
        assert_eq!(s.power_state, PowerState::On);
        assert_eq!(s.etag.as_deref(), Some("W/\"1\""));
        assert!(s.has_boot_mode);
        let q = Quirks::default();
        assert_eq!(
            s.pick_reset(&["PowerCycle", "ForceRestart"], q)
                .expect("pick"),
            "ForceRestart"
        );
        assert!(matches!(
            s.pick_reset(&["GracefulShutdown"], q),
            Err(PowerError::Unsupported(_))
        ));
        // A header ETag wins over @odata.etag; no AllowableValues: first preference.
        let bare = json!({"PowerState": "PoweringOn"});
        let s = SystemView::from_json("/s", &bare, Some("\"e\"".into())).expect("view");
        assert_eq!(
            (s.power_state, s.etag.as_deref()),
            (PowerState::Off, Some("\"e\""))
        );
        assert_eq!(s.pick_reset(&["On"], q).expect("pick"), "On");
        assert!(SystemView::from_json("/s", &json!({"PowerState": 3}), None).is_err());
    }
}
