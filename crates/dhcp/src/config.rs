//! The server's configuration: the subnets it serves and how machines boot.
//! Serde types (what the rack persists and converts from the region's
//! snapshot) plus a validated, compiled form the engine reads.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Everything the DHCP server serves. Swappable at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub subnets: Vec<SubnetConfig>,
    #[serde(default)]
    pub boot: BootConfig,
    /// How long an OFFERed address is held for the client (seconds).
    #[serde(default = "default_offer_hold")]
    pub offer_hold_secs: u32,
    /// How long a DECLINEd address is kept out of the pools (seconds).
    #[serde(default = "default_quarantine")]
    pub decline_quarantine_secs: u32,
}

fn default_offer_hold() -> u32 {
    30
}
fn default_quarantine() -> u32 {
    3600
}
fn default_lease_time() -> u32 {
    3600
}

/// One IPv4 subnet served (directly on `interface`, or via relays whose
/// giaddr falls inside `cidr`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetConfig {
    pub cidr: Ipv4Net,
    /// Local interface it is served on directly; None = only via relays.
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub router: Option<Ipv4Addr>,
    #[serde(default)]
    pub dns_servers: Vec<Ipv4Addr>,
    #[serde(default)]
    pub ntp_servers: Vec<Ipv4Addr>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub search: Vec<String>,
    #[serde(default)]
    pub mtu: Option<u16>,
    #[serde(default = "default_lease_time")]
    pub lease_time: u32,
    /// T1 (option 58), seconds; default half the lease time.
    #[serde(default)]
    pub renew_time: Option<u32>,
    /// T2 (option 59), seconds; default 7/8 of the lease time.
    #[serde(default)]
    pub rebind_time: Option<u32>,
    #[serde(default)]
    pub static_routes: Vec<StaticRoute>,
    /// Dynamic pools.
    #[serde(default)]
    pub ranges: Vec<IpRange>,
    /// Never handed out (MAAS reserved ranges).
    #[serde(default)]
    pub excluded: Vec<IpRange>,
    /// Per-MAC fixed addresses.
    #[serde(default)]
    pub reservations: Vec<Reservation>,
    /// Overrides next-server / siaddr (default: our address facing the client).
    #[serde(default)]
    pub next_server: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpRange {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

impl IpRange {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.start <= ip && ip <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticRoute {
    pub destination: Ipv4Net,
    pub gateway: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// "aa:bb:cc:dd:ee:ff"
    pub mac: String,
    pub ip: Ipv4Addr,
    #[serde(default)]
    pub hostname: Option<String>,
}

/// Network-boot loaders and where the HTTP boot server is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootConfig {
    pub enabled: bool,
    pub bios_loader: String,
    pub uefi_x64_loader: String,
    pub uefi_arm64_loader: String,
    pub http_x64_loader: String,
    pub http_arm64_loader: String,
    /// Path (under the HTTP server) of the iPXE script.
    pub ipxe_script: String,
    pub http_port: u16,
}

impl Default for BootConfig {
    fn default() -> Self {
        BootConfig {
            enabled: true,
            bios_loader: "undionly.kpxe".into(),
            uefi_x64_loader: "snponly.efi".into(),
            uefi_arm64_loader: "grubaa64.efi".into(),
            http_x64_loader: "snponly.efi".into(),
            http_arm64_loader: "grubaa64.efi".into(),
            ipxe_script: "ipxe.cfg".into(),
            http_port: 5248,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("subnet {cidr}: range {start}-{end} is not inside the subnet or is reversed")]
    BadRange {
        cidr: Ipv4Net,
        start: Ipv4Addr,
        end: Ipv4Addr,
    },
    #[error("subnet {cidr}: reservation {ip} is not inside the subnet")]
    ReservationOutside { cidr: Ipv4Net, ip: Ipv4Addr },
    #[error("reservation MAC {0:?} is not a MAC address")]
    BadMac(String),
    #[error("subnets {0} and {1} overlap")]
    Overlap(Ipv4Net, Ipv4Net),
    #[error("reading config {path}: {msg}")]
    Read { path: String, msg: String },
}

/// A client's hardware address as a fixed-size key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hw {
    pub len: u8,
    pub bytes: [u8; 16],
}

impl Hw {
    pub fn from_slice(s: &[u8]) -> Hw {
        let n = s.len().min(16);
        let mut bytes = [0u8; 16];
        bytes[..n].copy_from_slice(&s[..n]);
        Hw {
            len: n as u8,
            bytes,
        }
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
    /// Parses "aa:bb:cc:dd:ee:ff" (or '-' separated, or bare hex).
    pub fn parse(s: &str) -> Option<Hw> {
        let hex: String = s.chars().filter(|c| *c != ':' && *c != '-').collect();
        if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 32 {
            return None;
        }
        let mut v = Vec::with_capacity(hex.len() / 2);
        for i in (0..hex.len()).step_by(2) {
            v.push(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?);
        }
        Some(Hw::from_slice(&v))
    }
}

impl std::fmt::Display for Hw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A validated subnet.
#[derive(Debug, Clone)]
pub struct Subnet {
    pub cfg: SubnetConfig,
    pub by_mac: HashMap<Hw, (Ipv4Addr, Option<String>)>,
    pub reserved_ips: HashMap<Ipv4Addr, Hw>,
}

impl Subnet {
    pub fn in_pool(&self, ip: Ipv4Addr) -> bool {
        self.cfg.ranges.iter().any(|r| r.contains(ip))
    }
    pub fn excluded(&self, ip: Ipv4Addr) -> bool {
        self.cfg.excluded.iter().any(|r| r.contains(ip))
            || Some(ip) == self.cfg.router
            || ip == self.cfg.cidr.network()
            || ip == self.cfg.cidr.broadcast()
    }
    /// May `hw` hold `ip` on this subnet?
    pub fn allowed_for(&self, ip: Ipv4Addr, hw: Hw) -> bool {
        if let Some((rip, _)) = self.by_mac.get(&hw) {
            return *rip == ip;
        }
        self.in_pool(ip) && !self.excluded(ip) && !self.reserved_ips.contains_key(&ip)
    }
}

/// The compiled configuration the engine reads.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub cfg: Config,
    pub subnets: Vec<Subnet>,
}

impl Compiled {
    pub fn new(cfg: Config) -> Result<Compiled, ConfigError> {
        let mut subnets: Vec<Subnet> = Vec::new();
        for s in &cfg.subnets {
            let cidr = s.cidr.trunc();
            for r in s.ranges.iter().chain(&s.excluded) {
                if r.start > r.end || !cidr.contains(&r.start) || !cidr.contains(&r.end) {
                    return Err(ConfigError::BadRange {
                        cidr,
                        start: r.start,
                        end: r.end,
                    });
                }
            }
            for o in &subnets {
                if o.cfg.cidr.contains(&cidr.network()) || cidr.contains(&o.cfg.cidr.network()) {
                    return Err(ConfigError::Overlap(o.cfg.cidr, cidr));
                }
            }
            let mut by_mac = HashMap::new();
            let mut reserved_ips = HashMap::new();
            for r in &s.reservations {
                if !cidr.contains(&r.ip) {
                    return Err(ConfigError::ReservationOutside { cidr, ip: r.ip });
                }
                let hw = Hw::parse(&r.mac).ok_or_else(|| ConfigError::BadMac(r.mac.clone()))?;
                by_mac.insert(hw, (r.ip, r.hostname.clone()));
                reserved_ips.insert(r.ip, hw);
            }
            let mut c = s.clone();
            c.cidr = cidr;
            subnets.push(Subnet {
                cfg: c,
                by_mac,
                reserved_ips,
            });
        }
        Ok(Compiled { cfg, subnets })
    }

    /// The subnet containing `ip`.
    pub fn containing(&self, ip: Ipv4Addr) -> Option<usize> {
        self.subnets.iter().position(|s| s.cfg.cidr.contains(&ip))
    }

    /// The subnet served directly on `ifname` (preferring the one holding
    /// `local`, our address there).
    pub fn on_interface(&self, ifname: &str, local: Ipv4Addr) -> Option<usize> {
        let mut first = None;
        for (i, s) in self.subnets.iter().enumerate() {
            if s.cfg.interface.as_deref() == Some(ifname) {
                if s.cfg.cidr.contains(&local) {
                    return Some(i);
                }
                first.get_or_insert(i);
            }
        }
        first
    }

    /// Every interface named by a subnet.
    pub fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .subnets
            .iter()
            .filter_map(|s| s.cfg.interface.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Config {
    pub fn from_json_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        let err = |msg: String| ConfigError::Read {
            path: path.display().to_string(),
            msg,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(e.to_string()))
    }
}
