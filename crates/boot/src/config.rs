//! What the boot services serve, as the rack gets it from the region: the
//! machines by MAC, the region URL and the kernel options. Swapped atomically
//! ([`ConfigHandle::store`]), so a state change applies to the next request.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use crate::mac::Mac;

/// One machine the region knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Machine {
    pub system_id: String,
    pub hostname: String,
    /// The machine's status as the region names it (`commissioning`,
    /// `deployed`, `Deploying`, `9`, …; see `maas_model::status::NodeStatus::parse`).
    pub status: String,
    /// `amd64/generic`, `arm64/generic`, … (the part before `/` picks the
    /// ephemeral kernel).
    pub arch: String,
    pub osystem: String,
    pub distro_series: String,
    /// Extra kernel options for this machine (after the global ones).
    pub kernel_opts: String,
    /// Network boot is off (an installed OS boots from disk even while the
    /// machine is still deploying).
    pub local_boot: bool,
}

/// The boot configuration. JSON example in docs/boot.md.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootConfig {
    /// Machines by MAC (any spelling [`Mac::parse`] accepts).
    pub machines: BTreeMap<String, Machine>,
    /// Base URL of a region (`http://10.0.0.5:5240`) for the metadata proxy.
    pub region_url: Option<String>,
    /// Base URL machines use to reach this rack's HTTP server
    /// (`http://10.0.0.1:5248`). When absent, the request's Host header is used.
    pub rack_url: Option<String>,
    /// The region's global kernel options (`kernel_opts` setting).
    pub kernel_opts: String,
    /// Architecture used for unknown machines (enlistment); default `amd64`.
    pub default_arch: Option<String>,
}

/// A configuration with its MAC index built.
#[derive(Debug, Default)]
pub struct Loaded {
    pub config: BootConfig,
    by_mac: HashMap<Mac, Machine>,
}

impl Loaded {
    /// Index `config` by MAC; entries whose MAC does not parse are logged and skipped.
    pub fn new(config: BootConfig) -> Loaded {
        let mut by_mac = HashMap::with_capacity(config.machines.len());
        for (mac, m) in &config.machines {
            match Mac::parse(mac) {
                Some(k) => {
                    by_mac.insert(k, m.clone());
                }
                None => {
                    tracing::warn!(mac = %mac, system_id = %m.system_id, "boot config: bad MAC skipped")
                }
            }
        }
        Loaded { config, by_mac }
    }

    pub fn machine(&self, mac: &Mac) -> Option<&Machine> {
        self.by_mac.get(mac)
    }
}

/// A cheaply clonable handle on the current configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigHandle(Arc<ArcSwap<Loaded>>);

impl ConfigHandle {
    pub fn new(config: BootConfig) -> ConfigHandle {
        ConfigHandle(Arc::new(ArcSwap::from_pointee(Loaded::new(config))))
    }

    /// The current configuration.
    pub fn load(&self) -> Arc<Loaded> {
        self.0.load_full()
    }

    /// Replace the configuration; the next request sees it.
    pub fn store(&self, config: BootConfig) {
        self.0.store(Arc::new(Loaded::new(config)));
    }
}
