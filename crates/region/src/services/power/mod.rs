//! Power routing: a power command for a machine goes, as a request on the
//! session stream, to a rack connected to this region that can reach the
//! machine's BMC (a rack with an address on the BMC's subnet first, else
//! any), and to the next one when that rack goes away before answering. The
//! reply's state is stored in `power_state`. `after` runs the commands that
//! follow lifecycle actions, `poll` refreshes every BMC's state.

pub mod after;
pub mod hub;
pub mod poll;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use maas_model::net::Cidr;
use maas_model::power::{PowerAction, PowerCommand, PowerReply};
use serde_json::Value;

pub use hub::PowerHub;

use crate::error::Error;
use crate::services::Ctx;
use crate::store::machines::power as db;

/// How long a query (`op=query_power_state`, polling, probes) may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an action (boot device + power change) may take.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(60);
/// Extra time for the rack to answer after its own deadline.
const REPLY_GRACE: Duration = Duration::from_secs(5);

/// What can go wrong with a power command.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    #[error("No Machine matches the given query ({0}).")]
    NotFound(String),
    #[error("Machine {0} has no power type set.")]
    NoPowerType(String),
    #[error(
        "No rack controller is connected to this region to reach the BMC of {0}; \
         connect a rack controller (or ask the region it is connected to)."
    )]
    NoRack(String),
    #[error("Every rack controller tried for {0} went away before answering.")]
    RacksGone(String),
    #[error("The rack controller did not answer within {0} s.")]
    Timeout(u64),
    /// The BMC (or the driver) said no: kind as `maas_bmc::PowerError::kind`.
    #[error("{message}")]
    Bmc { kind: String, message: String },
    #[error(transparent)]
    Store(#[from] Error),
}

impl From<PowerError> for Error {
    fn from(e: PowerError) -> Error {
        match e {
            PowerError::NotFound(_) => Error::NotFound(e.to_string()),
            PowerError::NoPowerType(_) => Error::Conflict(e.to_string()),
            PowerError::Store(e) => e,
            e => Error::Unavailable(e.to_string()),
        }
    }
}

pub type Result<T, E = PowerError> = std::result::Result<T, E>;

/// What a machine's power is driven with.
struct Target {
    power_type: String,
    params: BTreeMap<String, String>,
}

async fn target(ctx: &Ctx, system_id: &str) -> Result<Target> {
    let (_, _, power_type, sealed) = db::target(&ctx.db, system_id)
        .await?
        .ok_or_else(|| PowerError::NotFound(system_id.into()))?;
    if power_type.is_empty() {
        return Err(PowerError::NoPowerType(system_id.into()));
    }
    let params = match sealed {
        Some(s) => crate::services::machines::open_params(ctx, &s)?,
        None => Value::Object(Default::default()),
    };
    Ok(Target {
        power_type,
        params: flat_params(&params),
    })
}

/// Parameters as strings (MAAS stores some as numbers or booleans).
fn flat_params(v: &Value) -> BTreeMap<String, String> {
    let Some(o) = v.as_object() else {
        return BTreeMap::new();
    };
    o.iter()
        .filter_map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                v => v.to_string(),
            };
            Some((k.clone(), s))
        })
        .collect()
}

/// The BMC's IP address, when the parameters name one (a hostname cannot
/// be placed on a subnet here).
pub fn bmc_ip(power_type: &str, params: &BTreeMap<String, String>) -> Option<IpAddr> {
    let raw = match power_type {
        "webhook" => params
            .get("power_on_uri")
            .or(params.get("power_query_uri"))?,
        _ => params.get("power_address")?,
    };
    let mut s = raw.trim();
    if let Some(i) = s.find("://") {
        s = &s[i + 3..];
        s = s.split(['/', '?', '#']).next().unwrap_or("");
        if let Some(i) = s.rfind('@') {
            s = &s[i + 1..];
        }
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

/// Connected racks in the order to try: those with an address on the BMC's
/// subnet first.
async fn racks_for(ctx: &Ctx, ip: Option<IpAddr>) -> Result<Vec<i64>> {
    let connected = ctx.power.connected();
    let Some(ip) = ip else { return Ok(connected) };
    if connected.len() < 2 {
        return Ok(connected);
    }
    let near: Vec<i64> = crate::store::networks::rack_ifaces::addresses(&ctx.db, &connected)
        .await?
        .into_iter()
        .filter(|(_, addrs)| {
            addrs
                .iter()
                .any(|a| Cidr::parse_with_host(a).is_ok_and(|(_, c)| c.contains(&ip)))
        })
        .map(|(r, _)| r)
        .collect();
    let mut out: Vec<i64> = connected
        .iter()
        .copied()
        .filter(|r| near.contains(r))
        .collect();
    out.extend(connected.iter().copied().filter(|r| !near.contains(r)));
    Ok(out)
}

/// Options of one command.
#[derive(Debug, Clone, Copy)]
pub struct Send {
    pub action: PowerAction,
    pub boot_pxe_once: bool,
    pub timeout: Duration,
    /// Take one of the rack's polling slots first.
    pub poll: bool,
}

impl Send {
    pub fn query() -> Send {
        Send {
            action: PowerAction::Query,
            boot_pxe_once: false,
            timeout: QUERY_TIMEOUT,
            poll: false,
        }
    }

    pub fn action(action: PowerAction, boot_pxe_once: bool) -> Send {
        Send {
            action,
            boot_pxe_once,
            timeout: ACTION_TIMEOUT,
            poll: false,
        }
    }
}

/// Run a command on a machine's BMC through a rack; the reply is `ok`
/// (a BMC failure is `PowerError::Bmc`). Manual machines need no rack.
pub async fn send(ctx: &Ctx, system_id: &str, o: Send) -> Result<PowerReply> {
    let t = target(ctx, system_id).await?;
    if t.power_type == "manual" {
        return Ok(PowerReply {
            ok: true,
            state: "unknown".into(),
            ..Default::default()
        });
    }
    let ip = bmc_ip(&t.power_type, &t.params);
    let racks = racks_for(ctx, ip).await?;
    if racks.is_empty() {
        return Err(PowerError::NoRack(system_id.into()));
    }
    let cmd = PowerCommand {
        id: 0,
        system_id: system_id.into(),
        action: o.action,
        boot_pxe_once: o.boot_pxe_once,
        power_type: t.power_type,
        params: t.params,
        timeout_ms: o.timeout.as_millis() as u64,
    };
    for rack in racks {
        let _slot = match (o.poll, ctx.power.poll_slots(rack)) {
            (true, Some(s)) => s.acquire_owned().await.ok(),
            _ => None,
        };
        let Some((id, rx)) = ctx.power.submit(rack, cmd.clone()) else {
            continue;
        };
        match tokio::time::timeout(o.timeout + REPLY_GRACE, rx).await {
            Ok(Ok(r)) if r.ok => return Ok(r),
            Ok(Ok(r)) => {
                return Err(PowerError::Bmc {
                    kind: r.error_kind,
                    message: r.error,
                });
            }
            Ok(Err(_)) => {
                tracing::info!(rack_id = rack, system_id, "rack went away; trying another");
            }
            Err(_) => {
                ctx.power.forget(id);
                return Err(PowerError::Timeout((o.timeout + REPLY_GRACE).as_secs()));
            }
        }
    }
    Err(PowerError::RacksGone(system_id.into()))
}

/// Record what a command found: its state, or "error".
pub async fn record(ctx: &Ctx, system_id: &str, r: &Result<PowerReply>) -> Result<()> {
    let state = match r {
        Ok(r) if !r.state.is_empty() => r.state.as_str(),
        Ok(_) => return Ok(()),
        Err(PowerError::Bmc { .. } | PowerError::Timeout(_) | PowerError::RacksGone(_)) => "error",
        Err(_) => return Ok(()),
    };
    db::set_state(&ctx.db, system_id, state).await?;
    Ok(())
}

/// `op=query_power_state`: ask the BMC (through a rack), store and answer
/// the state. Manual machines and those without a power type answer what
/// is stored.
pub async fn query(ctx: &Ctx, system_id: &str, stored: &str) -> crate::error::Result<String> {
    let r = send(ctx, system_id, Send::query()).await;
    record(ctx, system_id, &r).await?;
    match r {
        Ok(r) if r.state == "unknown" && !stored.is_empty() => Ok(stored.to_string()),
        Ok(r) => Ok(r.state),
        // Nothing to ask: what is on record.
        Err(PowerError::NoPowerType(_)) => Ok(stored.to_string()),
        Err(PowerError::Bmc { message, .. }) => Err(Error::Unavailable(format!(
            "Failed to query the power state of {system_id}: {message}"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The rack's durable power event: store the state it carries (the reply
/// normally did already; this covers a stream that broke first).
pub async fn from_event(
    db: &crate::store::Pool,
    r: &maas_model::rack::PowerResult,
) -> crate::error::Result<()> {
    if r.ok && matches!(r.state.as_str(), "on" | "off") && !r.system_id.is_empty() {
        db::set_state(db, &r.system_id, &r.state).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmc_addresses_from_parameters() {
        let p = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            bmc_ip("ipmi", &p("power_address", "10.0.0.9")),
            ip("10.0.0.9")
        );
        assert_eq!(
            bmc_ip("ipmi", &p("power_address", "10.0.0.9:623")),
            ip("10.0.0.9")
        );
        assert_eq!(
            bmc_ip("ipmi", &p("power_address", "[fd00::9]:623")),
            ip("fd00::9")
        );
        assert_eq!(
            bmc_ip(
                "redfish",
                &p("power_address", "https://u@10.1.2.3:8443/redfish")
            ),
            ip("10.1.2.3")
        );
        assert_eq!(
            bmc_ip("webhook", &p("power_on_uri", "http://192.168.1.5/on")),
            ip("192.168.1.5")
        );
        assert_eq!(bmc_ip("ipmi", &p("power_address", "bmc.example.com")), None);
        assert_eq!(bmc_ip("ipmi", &BTreeMap::new()), None);
    }

    #[test]
    fn parameters_flatten_to_strings() {
        let v = serde_json::json!({"a": "x", "b": 3, "c": true, "d": null});
        let f = flat_params(&v);
        assert_eq!(f.get("a").map(String::as_str), Some("x"));
        assert_eq!(f.get("b").map(String::as_str), Some("3"));
        assert_eq!(f.get("c").map(String::as_str), Some("true"));
        assert!(!f.contains_key("d"));
    }
}
