//! The IPMI power driver: RMCP+ (lanplus, cipher suites 3 and 17) or IPMI 1.5 LAN.

pub mod crypto;
pub mod packet;
pub mod session;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::error::{PowerError, Result};
use crate::params;
use crate::{
    BootDevice, BootTarget, DriverOptions, OffMode, PowerDriver, PowerOnOutcome, PowerState,
};
pub use crypto::Suite;
pub use session::{Session, SessionConfig};

const NETFN_CHASSIS: u8 = 0x00;
const NETFN_APP: u8 = 0x06;

/// Chassis Control operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ChassisControl {
    Down = 0,
    Up = 1,
    Cycle = 2,
    HardReset = 3,
    SoftOff = 5,
}

/// How the driver boots: what `power_boot_type` says about the EFI bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootType {
    /// Use what the caller asks for.
    Auto,
    Efi,
    Legacy,
}

/// Get Device ID's main fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId {
    pub device_id: u8,
    pub firmware: (u8, u8),
    pub ipmi_version: u8,
    pub manufacturer: u32,
    pub product: u16,
}

/// An IPMI BMC.
#[derive(Debug, Clone)]
pub struct IpmiDriver {
    host: String,
    port: u16,
    user: String,
    password: String,
    kg: Option<Vec<u8>>,
    privilege: u8,
    suite: Suite,
    lan15: bool,
    boot_type: BootType,
    opts: DriverOptions,
}

fn parse_kg(s: &str) -> Result<Vec<u8>> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        let v =
            hex::decode(h).map_err(|_| PowerError::BadParameters("k_g is not valid hex".into()))?;
        if v.len() > 20 {
            return Err(PowerError::BadParameters(
                "k_g is longer than 20 bytes".into(),
            ));
        }
        return Ok(v);
    }
    if s.len() > 20 {
        return Err(PowerError::BadParameters(
            "k_g is longer than 20 bytes".into(),
        ));
    }
    Ok(s.as_bytes().to_vec())
}

impl IpmiDriver {
    /// From MAAS's ipmi parameters: power_address, power_user, power_pass, power_driver
    /// (LAN_2_0 default, LAN), cipher_suite_id (3 default, 17), privilege_level
    /// (ADMIN, OPERATOR default, USER), k_g, power_boot_type (auto, efi, legacy).
    pub fn from_params(p: &BTreeMap<String, String>, opts: DriverOptions) -> Result<IpmiDriver> {
        let (host, port) = params::host_port(params::require(p, "power_address")?, 623)?;
        let lan15 = match params::get(p, "power_driver").unwrap_or("LAN_2_0") {
            "LAN_2_0" | "lanplus" => false,
            "LAN" | "lan" => true,
            o => {
                return Err(PowerError::BadParameters(format!(
                    "power_driver {o:?} (LAN_2_0 or LAN)"
                )));
            }
        };
        let suite = match params::get(p, "cipher_suite_id").unwrap_or("3") {
            "3" => Suite::S3,
            "17" => Suite::S17,
            o => {
                return Err(PowerError::BadParameters(format!(
                    "cipher_suite_id {o:?} (3 or 17 are supported)"
                )));
            }
        };
        let privilege = match params::get(p, "privilege_level")
            .unwrap_or("OPERATOR")
            .to_ascii_uppercase()
            .as_str()
        {
            "ADMIN" | "ADMINISTRATOR" => 4,
            "OPERATOR" => 3,
            "USER" => 2,
            o => {
                return Err(PowerError::BadParameters(format!(
                    "privilege_level {o:?} (ADMIN, OPERATOR or USER)"
                )));
            }
        };
        let boot_type = match params::get(p, "power_boot_type").unwrap_or("auto") {
            "auto" => BootType::Auto,
            "efi" => BootType::Efi,
            "legacy" => BootType::Legacy,
            o => {
                return Err(PowerError::BadParameters(format!(
                    "power_boot_type {o:?} (auto, efi or legacy)"
                )));
            }
        };
        let kg = params::get(p, "k_g").map(parse_kg).transpose()?;
        Ok(IpmiDriver {
            host,
            port,
            user: params::get(p, "power_user").unwrap_or("").to_string(),
            password: p.get("power_pass").cloned().unwrap_or_default(),
            kg,
            privilege,
            suite,
            lan15,
            boot_type,
            opts,
        })
    }

    async fn resolve(&self) -> Result<SocketAddr> {
        let mut it = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| PowerError::Unreachable {
                addr: format!("{} ({e})", self.host),
                waited: Default::default(),
            })?;
        it.next()
            .ok_or_else(|| PowerError::BadParameters(format!("{} has no address", self.host)))
    }

    /// Open a session as configured.
    pub async fn open(&self) -> Result<Session> {
        let cfg = SessionConfig {
            addr: self.resolve().await?,
            user: self.user.clone(),
            password: self.password.clone(),
            kg: self.kg.clone(),
            privilege: self.privilege,
            suite: self.suite,
            attempt_timeout: self.opts.attempt_timeout,
            retries: self.opts.retries,
        };
        if self.lan15 {
            Session::open_v15(cfg).await
        } else {
            Session::open_v20(cfg).await
        }
    }

    async fn with_session<T>(&self, f: impl AsyncFnOnce(&mut Session) -> Result<T>) -> Result<T> {
        let mut s = self.open().await?;
        let r = f(&mut s).await;
        s.close().await;
        r
    }

    /// Get Device ID.
    pub async fn device_id(&self) -> Result<DeviceId> {
        self.with_session(async |s| {
            let d = s.command(NETFN_APP, 0x01, &[]).await?;
            if d.len() < 11 {
                return Err(PowerError::Protocol("short Get Device ID answer".into()));
            }
            Ok(DeviceId {
                device_id: d[0],
                firmware: (d[2] & 0x7f, d[3]),
                ipmi_version: d[4],
                manufacturer: u32::from_le_bytes([d[6], d[7], d[8], 0]),
                product: u16::from_le_bytes([d[9], d[10]]),
            })
        })
        .await
    }

    fn boot_flags(&self, b: BootDevice) -> [u8; 6] {
        let efi = match self.boot_type {
            BootType::Auto => b.efi,
            BootType::Efi => true,
            BootType::Legacy => false,
        };
        let mut f1 = 0x80;
        if b.persistent {
            f1 |= 0x40;
        }
        if efi {
            f1 |= 0x20;
        }
        let dev = match b.target {
            BootTarget::Pxe => 0x04,
            BootTarget::Disk => 0x08,
        };
        [0x05, f1, dev, 0, 0, 0]
    }
}

async fn status(s: &mut Session) -> Result<PowerState> {
    let d = s.command(NETFN_CHASSIS, 0x01, &[]).await?;
    match d.first() {
        Some(b) if b & 1 == 1 => Ok(PowerState::On),
        Some(_) => Ok(PowerState::Off),
        None => Err(PowerError::Protocol(
            "empty Get Chassis Status answer".into(),
        )),
    }
}

async fn control(s: &mut Session, c: ChassisControl) -> Result<()> {
    s.command(NETFN_CHASSIS, 0x02, &[c as u8]).await.map(|_| ())
}

#[async_trait::async_trait]
impl PowerDriver for IpmiDriver {
    fn power_type(&self) -> &'static str {
        "ipmi"
    }

    async fn power_on(&self) -> Result<PowerOnOutcome> {
        self.with_session(async |s| {
            if status(s).await? == PowerState::On {
                return Ok(PowerOnOutcome::AlreadyOn);
            }
            control(s, ChassisControl::Up).await?;
            Ok(PowerOnOutcome::TurnedOn)
        })
        .await
    }

    async fn power_off(&self, mode: OffMode) -> Result<()> {
        let c = match mode {
            OffMode::Soft => ChassisControl::SoftOff,
            OffMode::Hard => ChassisControl::Down,
        };
        self.with_session(async |s| control(s, c).await).await
    }

    async fn power_cycle(&self) -> Result<()> {
        self.with_session(async |s| {
            let c = match status(s).await? {
                PowerState::Off => ChassisControl::Up,
                _ => ChassisControl::Cycle,
            };
            control(s, c).await
        })
        .await
    }

    async fn power_reset(&self) -> Result<()> {
        self.with_session(async |s| control(s, ChassisControl::HardReset).await)
            .await
    }

    async fn query(&self) -> Result<PowerState> {
        self.with_session(async |s| status(s).await).await
    }

    async fn set_boot_device(&self, b: BootDevice) -> Result<()> {
        let flags = self.boot_flags(b);
        self.with_session(async |s| {
            // Set In Progress = set in progress, then the flags, then set complete.
            // BMCs without parameter 0 answer 0x80; that is fine.
            let tolerate = |r: Result<Vec<u8>>| match r {
                Err(PowerError::BmcError {
                    completion_code: 0x80 | 0x81 | 0xcc,
                    ..
                }) => Ok(()),
                r => r.map(|_| ()),
            };
            tolerate(s.command(NETFN_CHASSIS, 0x08, &[0x00, 0x01]).await)?;
            let r = s.command(NETFN_CHASSIS, 0x08, &flags).await.map(|_| ());
            tolerate(s.command(NETFN_CHASSIS, 0x08, &[0x00, 0x00]).await)?;
            r
        })
        .await
    }
}

#[cfg(test)]
mod tests;
