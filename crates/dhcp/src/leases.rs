//! The in-memory lease table and address allocation.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::config::{Hw, Subnet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Offered, held for the client until `expires`.
    Offered,
    /// ACKed (durable).
    Bound,
    /// DECLINEd: kept out of the pools until `expires`.
    Quarantined,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub hw: Hw,
    pub state: State,
    /// Unix seconds.
    pub expires: u64,
    pub hostname: String,
}

/// Addresses to clients and back. Expired bound leases stay as a hint
/// (the same client gets its old address back) until the address is needed.
#[derive(Debug, Default)]
pub struct Table {
    pub by_ip: HashMap<Ipv4Addr, Entry>,
    pub by_hw: HashMap<Hw, Ipv4Addr>,
    /// Per-subnet scan cursor (by CIDR network address).
    cursor: HashMap<Ipv4Addr, u32>,
}

impl Table {
    pub fn get(&self, ip: Ipv4Addr) -> Option<&Entry> {
        self.by_ip.get(&ip)
    }

    /// The address `hw` holds or was offered (any state but quarantine).
    pub fn of_client(&self, hw: Hw) -> Option<Ipv4Addr> {
        let ip = *self.by_hw.get(&hw)?;
        match self.by_ip.get(&ip) {
            Some(e) if e.hw == hw && e.state != State::Quarantined => Some(ip),
            _ => None,
        }
    }

    /// Is `ip` free for `hw` at `now` (no live entry of another client)?
    pub fn free_for(&self, ip: Ipv4Addr, hw: Hw, now: u64) -> bool {
        match self.by_ip.get(&ip) {
            None => true,
            Some(e) if e.state == State::Quarantined => e.expires <= now,
            Some(e) => e.hw == hw || e.expires <= now,
        }
    }

    pub fn set(&mut self, ip: Ipv4Addr, e: Entry) {
        if let Some(old) = self.by_ip.get(&ip)
            && old.hw != e.hw
            && self.by_hw.get(&old.hw) == Some(&ip)
        {
            self.by_hw.remove(&old.hw);
        }
        if e.state != State::Quarantined {
            if let Some(prev) = self.by_hw.insert(e.hw, ip)
                && prev != ip
                && self.by_ip.get(&prev).is_some_and(|p| p.hw == e.hw)
            {
                // The client moved: its old address is free.
                self.by_ip.remove(&prev);
            }
        } else if self.by_hw.get(&e.hw) == Some(&ip) {
            self.by_hw.remove(&e.hw);
        }
        self.by_ip.insert(ip, e);
    }

    pub fn remove(&mut self, ip: Ipv4Addr) -> Option<Entry> {
        let e = self.by_ip.remove(&ip)?;
        if self.by_hw.get(&e.hw) == Some(&ip) {
            self.by_hw.remove(&e.hw);
        }
        Some(e)
    }

    /// A new address for `hw` in `subnet`'s pools: never used addresses
    /// first (scanning from a cursor), then expired ones. None when full.
    pub fn allocate(&mut self, subnet: &Subnet, hw: Hw, now: u64) -> Option<Ipv4Addr> {
        let ranges = &subnet.cfg.ranges;
        let total: u64 = ranges
            .iter()
            .map(|r| u64::from(u32::from(r.end) - u32::from(r.start)) + 1)
            .sum();
        if total == 0 {
            return None;
        }
        let key = subnet.cfg.cidr.network();
        let start = u64::from(*self.cursor.get(&key).unwrap_or(&0)) % total;
        let mut reuse: Option<Ipv4Addr> = None;
        let mut k = start;
        for _ in 0..total {
            let ip = nth(ranges, k);
            k = (k + 1) % total;
            let Some(ip) = ip else { continue };
            if subnet.excluded(ip) || subnet.reserved_ips.contains_key(&ip) {
                continue;
            }
            match self.by_ip.get(&ip) {
                None => {
                    self.cursor.insert(key, k as u32);
                    return Some(ip);
                }
                Some(e) if e.expires <= now && reuse.is_none() => reuse = Some(ip),
                Some(e) if e.hw == hw && e.state != State::Quarantined => return Some(ip),
                _ => {}
            }
        }
        if let Some(ip) = reuse {
            self.remove(ip);
        }
        reuse
    }

    /// Entries whose time ran out at `now`: bound leases and quarantines
    /// are returned (and removed), offers dropped silently.
    pub fn expire(&mut self, now: u64) -> Vec<(Ipv4Addr, Entry)> {
        let gone: Vec<Ipv4Addr> = self
            .by_ip
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(ip, _)| *ip)
            .collect();
        let mut out = Vec::new();
        for ip in gone {
            if let Some(e) = self.remove(ip)
                && e.state == State::Bound
            {
                out.push((ip, e));
            }
        }
        out
    }

    pub fn bound(&self) -> impl Iterator<Item = (&Ipv4Addr, &Entry)> {
        self.by_ip.iter().filter(|(_, e)| e.state == State::Bound)
    }
}

fn nth(ranges: &[crate::config::IpRange], mut k: u64) -> Option<Ipv4Addr> {
    for r in ranges {
        let n = u64::from(u32::from(r.end) - u32::from(r.start)) + 1;
        if k < n {
            return Some(Ipv4Addr::from(u32::from(r.start) + k as u32));
        }
        k -= n;
    }
    None
}
