//! The machine's own BMC, read and configured in-band through the kernel's
//! IPMI device (`/dev/ipmi0`, KCS), as MAAS's enlistment does: the LAN
//! channel's IP and MAC, and a `maas` administrator with a fresh password
//! the region then powers the machine with (`power_type=ipmi`).

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

mod dev;

/// The user the agent keeps on the BMC.
pub const USER: &str = "maas";

/// One IPMI request/response on the system interface.
pub trait Ipmi {
    /// Sends `netfn`/`cmd` with `data`; returns the response after its
    /// completion code, or an error naming a non-zero one.
    fn call(&mut self, netfn: u8, cmd: u8, data: &[u8]) -> Result<Vec<u8>>;
}

const APP: u8 = 0x06;
const TRANSPORT: u8 = 0x0c;

/// What the region needs to power the machine through its BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub address: String,
    pub mac: Option<String>,
    pub user: String,
    pub password: String,
    pub channel: u8,
}

impl Found {
    /// MAAS's `power_parameters` for `power_type=ipmi`, as JSON.
    pub fn power_parameters(&self) -> String {
        let mut p = serde_json::json!({
            "power_address": self.address,
            "power_user": self.user,
            "power_pass": self.password,
            "power_driver": "LAN_2_0",
        });
        if let Some(mac) = &self.mac {
            p["mac_address"] = mac.clone().into();
        }
        p.to_string()
    }
}

/// Opens `dev/ipmi0` when there is one and configures the BMC behind it.
/// `Ok(None)`: no BMC device.
pub fn discover_at(dev_dir: &Path, password: &str) -> Result<Option<Found>> {
    let path = dev_dir.join("ipmi0");
    if !path.exists() {
        return Ok(None);
    }
    let mut d = dev::Device::open(&path)?;
    configure(&mut d, password).map(Some)
}

/// Finds the LAN channel, reads its address and makes (or refreshes) the
/// `maas` administrator with `password`.
pub fn configure(ipmi: &mut dyn Ipmi, password: &str) -> Result<Found> {
    ensure!(
        (8..=16).contains(&password.len()) && password.is_ascii(),
        "a BMC password has 8 to 16 ASCII characters"
    );
    let channel = lan_channel(ipmi)?;
    let ip = lan_param(ipmi, channel, 3)?;
    ensure!(ip.len() >= 4, "the BMC's IP address parameter is short");
    let address = std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]);
    if address.is_unspecified() {
        bail!("the BMC's LAN channel {channel} has no IP address");
    }
    let mac = lan_param(ipmi, channel, 5)
        .ok()
        .filter(|m| m.len() >= 6 && m[..6].iter().any(|b| *b != 0))
        .map(|m| {
            m[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        });
    let uid = user_slot(ipmi, channel)?;
    let mut name = [0u8; 16];
    name[..USER.len()].copy_from_slice(USER.as_bytes());
    ipmi.call(APP, 0x45, &[&[uid][..], &name].concat())
        .context("setting the BMC user's name")?;
    let mut pw = [0u8; 16];
    pw[..password.len()].copy_from_slice(password.as_bytes());
    ipmi.call(APP, 0x47, &[&[uid, 0x02][..], &pw].concat())
        .context("setting the BMC user's password")?;
    // Change bits, link auth, IPMI messaging; administrator.
    ipmi.call(APP, 0x43, &[0x80 | 0x20 | 0x10 | channel, uid, 0x04])
        .context("giving the BMC user administrator access")?;
    ipmi.call(APP, 0x47, &[uid, 0x01])
        .context("enabling the BMC user")?;
    Ok(Found {
        address: address.to_string(),
        mac,
        user: USER.into(),
        password: password.into(),
        channel,
    })
}

/// The first channel whose medium is 802.3 LAN.
fn lan_channel(ipmi: &mut dyn Ipmi) -> Result<u8> {
    for ch in 1..=0x0b {
        if let Ok(r) = ipmi.call(APP, 0x42, &[ch])
            && r.len() >= 2
            && r[1] & 0x7f == 0x04
        {
            return Ok(ch);
        }
    }
    bail!("the BMC has no LAN channel")
}

/// A LAN configuration parameter's data (after its revision byte).
fn lan_param(ipmi: &mut dyn Ipmi, channel: u8, param: u8) -> Result<Vec<u8>> {
    let r = ipmi
        .call(TRANSPORT, 0x02, &[channel, param, 0, 0])
        .with_context(|| format!("reading LAN parameter {param}"))?;
    ensure!(!r.is_empty(), "LAN parameter {param}: empty answer");
    Ok(r[1..].to_vec())
}

/// The slot already named `maas`, else the first unnamed one from 3 up
/// (1 is the anonymous user, 2 usually the vendor's administrator).
fn user_slot(ipmi: &mut dyn Ipmi, channel: u8) -> Result<u8> {
    let access = ipmi
        .call(APP, 0x44, &[channel, 1])
        .context("reading the BMC's user count")?;
    let max = access.first().map_or(0, |m| m & 0x3f).min(63);
    let mut free = None;
    for uid in 2..=max {
        let Ok(name) = ipmi.call(APP, 0x46, &[uid]) else {
            continue;
        };
        let name: Vec<u8> = name.into_iter().take_while(|b| *b != 0).collect();
        if name == USER.as_bytes() {
            return Ok(uid);
        }
        if name.is_empty() && uid >= 3 && free.is_none() {
            free = Some(uid);
        }
    }
    free.context("the BMC has no free user slot")
}

/// A password for the BMC user: 12 characters from the kernel's random
/// source (letters and digits, which every BMC takes).
pub fn new_password(root: &Path) -> Result<String> {
    use std::io::Read;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut f = std::fs::File::open(root.join("dev/urandom")).context("opening dev/urandom")?;
    let mut out = String::new();
    let mut b = [0u8; 1];
    while out.len() < 12 {
        f.read_exact(&mut b)?;
        // Rejection keeps the characters equally likely.
        if usize::from(b[0]) < 256 - 256 % ALPHABET.len() {
            out.push(ALPHABET[usize::from(b[0]) % ALPHABET.len()] as char);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
