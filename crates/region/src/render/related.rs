//! What a machine's JSON embeds besides its own row: its related sets
//! (interfaces, disks) and the shared names (domains, zones, pools, users).

use std::collections::HashMap;

use crate::render::{BlockDeviceJson, InterfaceJson};

/// A machine's interfaces (with VLANs and links) and block devices.
#[derive(Debug, Default)]
pub struct Related {
    pub interfaces: Vec<InterfaceJson>,
    pub disks: Vec<BlockDeviceJson>,
}

/// A domain as a machine's JSON shows it.
#[derive(Debug, Clone)]
pub struct DomainInfo {
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
    pub is_default: bool,
}

/// A zone or resource pool: name and description.
#[derive(Debug, Clone)]
pub struct Place {
    pub name: String,
    pub description: String,
}

/// The shared rows machine JSON embeds, as of one epoch.
#[derive(Debug, Default)]
pub struct SharedNames {
    pub epoch: i64,
    pub domains: HashMap<i64, DomainInfo>,
    pub zones: HashMap<i64, Place>,
    pub pools: HashMap<i64, Place>,
    pub users: HashMap<i64, String>,
}

impl SharedNames {
    /// Whether this snapshot names everything a row read at `epoch` refers
    /// to, as of that epoch (rows inserted since are missing; updated or
    /// deleted ones would have moved the epoch).
    pub fn covers(
        &self,
        epoch: i64,
        domain: i64,
        zone: i64,
        pool: i64,
        owner: Option<i64>,
    ) -> bool {
        self.epoch == epoch
            && self.domains.contains_key(&domain)
            && self.zones.contains_key(&zone)
            && self.pools.contains_key(&pool)
            && owner.is_none_or(|u| self.users.contains_key(&u))
    }
}
