//! Physical NICs from /sys/class/net: an entry with a `device` link is a
//! real device (bridges, bonds, veths, tun/tap have none); `lo` is skipped.

use std::path::Path;

use serde_json::{Value, json};

use super::read_trim;

#[derive(Debug, Clone, PartialEq)]
pub struct Nic {
    pub name: String,
    pub mac: String,
    pub driver: String,
    pub link: bool,
    /// Mbps; 0 when unknown.
    pub speed: u32,
}

impl Nic {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "mac": self.mac,
            "driver": self.driver,
            "link": self.link,
            "speed": self.speed,
        })
    }
}

pub fn nics(root: &Path) -> Vec<Nic> {
    let Ok(rd) = std::fs::read_dir(root.join("sys/class/net")) else {
        return Vec::new();
    };
    let mut out: Vec<Nic> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let dir = root.join("sys/class/net").join(&name);
            if name == "lo" || std::fs::symlink_metadata(dir.join("device")).is_err() {
                return None;
            }
            let mac = read_trim(&dir.join("address"))?.to_ascii_lowercase();
            if mac == "00:00:00:00:00:00" {
                return None;
            }
            let driver = std::fs::read_link(dir.join("device/driver"))
                .ok()
                .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let speed = read_trim(&dir.join("speed"))
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|s| *s > 0)
                .unwrap_or(0) as u32;
            Some(Nic {
                link: read_trim(&dir.join("carrier")).as_deref() == Some("1"),
                name,
                mac,
                driver,
                speed,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::tests::fixture;

    #[test]
    fn physical_nics_only() {
        let n = nics(&fixture("qemu-vm"));
        assert_eq!(
            n,
            vec![
                Nic {
                    name: "ens3".into(),
                    mac: "52:54:00:12:34:56".into(),
                    driver: "virtio_net".into(),
                    link: true,
                    speed: 0,
                },
                Nic {
                    name: "ens4".into(),
                    mac: "52:54:00:ab:cd:ef".into(),
                    driver: "e1000".into(),
                    link: false,
                    speed: 1000,
                },
            ]
        );
    }
}
