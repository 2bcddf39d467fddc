//! Power drivers behind one object-safe async trait: IPMI 2.0 lanplus and IPMI 1.5
//! LAN (our own async client), Redfish (our own small typed client), webhook and
//! manual. The rack builds a driver from MAAS's `power_type` and
//! `power_parameters` with [`driver_for`] and calls the trait.

pub mod error;
mod http;
pub mod ipmi;
pub mod manual;
pub mod params;
pub mod redfish;
pub mod webhook;

use std::collections::BTreeMap;
use std::time::Duration;

pub use error::{PowerError, Result};

/// A machine's power state as the BMC reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerState {
    On,
    Off,
    Unknown,
}

impl PowerState {
    /// MAAS's name for the state ("on", "off", "unknown").
    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
            PowerState::Unknown => "unknown",
        }
    }
}

/// How to power off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OffMode {
    /// Ask the OS to shut down (ACPI soft off / GracefulShutdown).
    Soft,
    /// Cut the power.
    Hard,
}

/// Where the machine boots next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootTarget {
    Pxe,
    Disk,
}

/// The next boot device: target, once or persistent, legacy or EFI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootDevice {
    pub target: BootTarget,
    pub persistent: bool,
    pub efi: bool,
}

impl BootDevice {
    /// PXE for the next boot only, legacy BIOS.
    pub fn pxe_once() -> BootDevice {
        BootDevice {
            target: BootTarget::Pxe,
            persistent: false,
            efi: false,
        }
    }
}

/// What `power_on` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerOnOutcome {
    /// The machine was off and was powered on.
    TurnedOn,
    /// The machine was already on: nothing was done (never a reset).
    AlreadyOn,
    /// A manual driver recorded the request; a person has to act.
    Recorded,
}

/// One power driver. Every call is bounded by the driver's timeout.
#[async_trait::async_trait]
pub trait PowerDriver: Send + Sync {
    /// The MAAS power type ("ipmi", "redfish", "webhook", "manual").
    fn power_type(&self) -> &'static str;
    /// Power on, unless already on (queries first; never resets a running machine).
    async fn power_on(&self) -> Result<PowerOnOutcome>;
    async fn power_off(&self, mode: OffMode) -> Result<()>;
    /// Power cycle (off then on); a machine that is off is just powered on.
    async fn power_cycle(&self) -> Result<()>;
    /// Hard reset.
    async fn power_reset(&self) -> Result<()>;
    async fn query(&self) -> Result<PowerState>;
    async fn set_boot_device(&self, boot: BootDevice) -> Result<()>;
}

/// Timeouts and retries for every driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverOptions {
    /// Upper bound of one trait call, whatever happens inside.
    pub call_timeout: Duration,
    /// Wait for one UDP answer (IPMI) or one HTTP exchange (Redfish, webhook).
    pub attempt_timeout: Duration,
    /// Retransmissions of an unanswered IPMI packet / retries of a failed HTTP connection.
    pub retries: u32,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            call_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(1),
            retries: 3,
        }
    }
}

/// Build the driver for a MAAS power type and its parameters, with default timeouts.
pub fn driver_for(
    power_type: &str,
    params: &BTreeMap<String, String>,
) -> Result<Box<dyn PowerDriver>> {
    driver_for_with(power_type, params, DriverOptions::default())
}

/// Build the driver for a MAAS power type and its parameters.
pub fn driver_for_with(
    power_type: &str,
    params: &BTreeMap<String, String>,
    opts: DriverOptions,
) -> Result<Box<dyn PowerDriver>> {
    let inner: Box<dyn PowerDriver> = match power_type {
        "ipmi" => Box::new(ipmi::IpmiDriver::from_params(params, opts)?),
        "redfish" => Box::new(redfish::RedfishDriver::from_params(params, opts)?),
        "webhook" => Box::new(webhook::WebhookDriver::from_params(params, opts)?),
        "manual" | "" => Box::new(manual::ManualDriver::default()),
        other => return Err(PowerError::Unsupported(format!("power type {other:?}"))),
    };
    Ok(Box::new(Timed {
        inner,
        limit: opts.call_timeout,
    }))
}

/// Bounds every call of the driver it wraps.
struct Timed {
    inner: Box<dyn PowerDriver>,
    limit: Duration,
}

impl Timed {
    async fn run<T>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let started = std::time::Instant::now();
        let r = match tokio::time::timeout(self.limit, f).await {
            Ok(r) => r,
            Err(_) => Err(PowerError::Unreachable {
                addr: format!("({what})"),
                waited: self.limit,
            }),
        };
        match &r {
            Ok(_) => tracing::debug!(
                power_type = self.inner.power_type(),
                op = what,
                ms = started.elapsed().as_millis() as u64,
                "power call done"
            ),
            Err(e) => {
                tracing::info!(power_type = self.inner.power_type(), op = what, error = %e, "power call failed")
            }
        }
        r
    }
}

#[async_trait::async_trait]
impl PowerDriver for Timed {
    fn power_type(&self) -> &'static str {
        self.inner.power_type()
    }
    async fn power_on(&self) -> Result<PowerOnOutcome> {
        self.run("power_on", self.inner.power_on()).await
    }
    async fn power_off(&self, mode: OffMode) -> Result<()> {
        self.run("power_off", self.inner.power_off(mode)).await
    }
    async fn power_cycle(&self) -> Result<()> {
        self.run("power_cycle", self.inner.power_cycle()).await
    }
    async fn power_reset(&self) -> Result<()> {
        self.run("power_reset", self.inner.power_reset()).await
    }
    async fn query(&self) -> Result<PowerState> {
        self.run("query", self.inner.query()).await
    }
    async fn set_boot_device(&self, boot: BootDevice) -> Result<()> {
        self.run("set_boot_device", self.inner.set_boot_device(boot))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stuck;
    #[async_trait::async_trait]
    impl PowerDriver for Stuck {
        fn power_type(&self) -> &'static str {
            "stuck"
        }
        async fn power_on(&self) -> Result<PowerOnOutcome> {
            std::future::pending().await
        }
        async fn power_off(&self, _: OffMode) -> Result<()> {
            std::future::pending().await
        }
        async fn power_cycle(&self) -> Result<()> {
            std::future::pending().await
        }
        async fn power_reset(&self) -> Result<()> {
            std::future::pending().await
        }
        async fn query(&self) -> Result<PowerState> {
            std::future::pending().await
        }
        async fn set_boot_device(&self, _: BootDevice) -> Result<()> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn every_call_is_bounded_by_the_call_timeout() {
        let d = Timed {
            inner: Box::new(Stuck),
            limit: Duration::from_millis(100),
        };
        let t = std::time::Instant::now();
        assert!(matches!(
            d.query().await,
            Err(PowerError::Unreachable { .. })
        ));
        assert!(matches!(
            d.power_on().await,
            Err(PowerError::Unreachable { .. })
        ));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn driver_for_knows_the_maas_power_types() {
        let p: BTreeMap<String, String> = [
            ("power_address", "10.0.0.1"),
            ("power_user", "u"),
            ("power_pass", "p"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(driver_for("ipmi", &p).expect("ipmi").power_type(), "ipmi");
        assert_eq!(
            driver_for("manual", &p).expect("manual").power_type(),
            "manual"
        );
        assert!(matches!(
            driver_for("ipmi", &BTreeMap::new()),
            Err(PowerError::BadParameters(_))
        ));
        assert!(matches!(
            driver_for("amt", &p),
            Err(PowerError::Unsupported(_))
        ));
    }
}
