//! The manual driver: a person powers the machine; we record what was asked.

use std::sync::Mutex;

use crate::error::Result;
use crate::{BootDevice, OffMode, PowerDriver, PowerOnOutcome, PowerState};

/// Records intents; queries answer Unknown.
#[derive(Debug, Default)]
pub struct ManualDriver {
    intents: Mutex<Vec<String>>,
}

impl ManualDriver {
    /// What was asked so far, oldest first ("power_on", "power_off hard", …).
    pub fn intents(&self) -> Vec<String> {
        self.intents.lock().map(|v| v.clone()).unwrap_or_default()
    }
    fn record(&self, what: String) {
        tracing::info!(intent = %what, "manual power: an operator has to act");
        if let Ok(mut v) = self.intents.lock() {
            v.push(what);
        }
    }
}

#[async_trait::async_trait]
impl PowerDriver for ManualDriver {
    fn power_type(&self) -> &'static str {
        "manual"
    }
    async fn power_on(&self) -> Result<PowerOnOutcome> {
        self.record("power_on".into());
        Ok(PowerOnOutcome::Recorded)
    }
    async fn power_off(&self, mode: OffMode) -> Result<()> {
        self.record(format!(
            "power_off {}",
            if mode == OffMode::Soft {
                "soft"
            } else {
                "hard"
            }
        ));
        Ok(())
    }
    async fn power_cycle(&self) -> Result<()> {
        self.record("power_cycle".into());
        Ok(())
    }
    async fn power_reset(&self) -> Result<()> {
        self.record("power_reset".into());
        Ok(())
    }
    async fn query(&self) -> Result<PowerState> {
        Ok(PowerState::Unknown)
    }
    async fn set_boot_device(&self, b: BootDevice) -> Result<()> {
        self.record(format!("set_boot_device {b:?}"));
        Ok(())
    }
}
