//! What templates show: the navigation, and machines as table rows (from
//! the MAAS JSON the services render, so the UI shows what the API says).

use serde_json::Value;

use crate::services::auth::User;

/// The header: who is signed in, the sections, the sign-out form's token.
#[derive(Clone)]
pub struct Nav {
    pub username: String,
    pub is_admin: bool,
    pub csrf: String,
    pub items: Vec<NavItem>,
}

#[derive(Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

const SECTIONS: &[(&str, &str)] = &[
    ("Machines", "machines"),
    ("Devices", "devices"),
    ("Controllers", "controllers"),
    ("Zones", "zones"),
    ("Pools", "pools"),
    ("Tags", "tags"),
    ("Subnets", "subnets"),
    ("Images", "images"),
    ("DNS", "dns"),
    ("Users", "users"),
    ("Settings", "settings"),
    ("Repositories", "repositories"),
    ("Notifications", "notifications"),
    ("Account", "account"),
];

impl Nav {
    pub fn new(user: &User, csrf: &str, path: &str) -> Nav {
        let section = path
            .strip_prefix("/MAAS/r/")
            .and_then(|p| p.split('/').next())
            .unwrap_or("");
        // A detail page belongs to its list.
        let section = match section {
            "machine" => "machines",
            "subnet" | "vlan" | "iprange" | "fabric" | "fabrics" | "space" | "spaces"
            | "reservedip" | "staticroute" => "subnets",
            "notification" => "notifications",
            "repository" => "repositories",
            "domain" | "dnsrecord" | "dnsresource" => "dns",
            "device" => "devices",
            "controller" => "controllers",
            "image" => "images",
            "user" => "users",
            "zone" => "zones",
            "pool" => "pools",
            "tag" => "tags",
            other => other,
        };
        Nav {
            username: user.username.clone(),
            is_admin: user.is_superuser,
            csrf: csrf.to_string(),
            items: SECTIONS
                .iter()
                .filter(|(_, s)| {
                    user.is_superuser || !matches!(*s, "users" | "settings" | "repositories")
                })
                .map(|(label, s)| NavItem {
                    label,
                    href: format!("/MAAS/r/{s}"),
                    current: *s == section,
                })
                .collect(),
        }
    }

    /// The navigation for pages seen before signing in (none).
    pub fn anonymous() -> Nav {
        Nav {
            username: String::new(),
            is_admin: false,
            csrf: String::new(),
            items: Vec::new(),
        }
    }
}

/// One machine as a row of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineRow {
    pub system_id: String,
    pub fqdn: String,
    pub power_state: String,
    pub status: String,
    pub status_code: i64,
    pub status_message: String,
    pub owner: String,
    pub pool: String,
    pub zone: String,
    pub cores: i64,
    pub ram: String,
    pub disks: i64,
    pub storage: String,
    pub tags: String,
    pub locked: bool,
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `8 GiB`, `512 MiB` from MiB.
pub fn mib(n: f64) -> String {
    if n >= 1024.0 {
        let g = n / 1024.0;
        if g.fract() == 0.0 {
            format!("{g:.0} GiB")
        } else {
            format!("{g:.1} GiB")
        }
    } else {
        format!("{n:.0} MiB")
    }
}

/// `40.0 GB`, `1.2 TB` from MB (MAAS's `storage` is in MB).
pub fn mb(n: f64) -> String {
    if n >= 1_000_000.0 {
        format!("{:.1} TB", n / 1_000_000.0)
    } else {
        format!("{:.1} GB", n / 1000.0)
    }
}

/// A byte count, readable.
pub fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1e12 {
        format!("{:.1} TB", n / 1e12)
    } else if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else {
        format!("{:.0} MB", n / 1e6)
    }
}

impl MachineRow {
    pub fn from_json(v: &Value) -> MachineRow {
        let tags: Vec<String> = v["tag_names"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        MachineRow {
            system_id: s(v, "system_id"),
            fqdn: s(v, "fqdn"),
            power_state: s(v, "power_state"),
            status: s(v, "status_name"),
            status_code: v["status"].as_i64().unwrap_or(-1),
            status_message: s(v, "status_message"),
            owner: s(v, "owner"),
            pool: s(&v["pool"], "name"),
            zone: s(&v["zone"], "name"),
            cores: v["cpu_count"].as_i64().unwrap_or(0),
            ram: mib(v["memory"].as_f64().unwrap_or(0.0)),
            disks: v["physicalblockdevice_count"].as_i64().unwrap_or(0),
            storage: mb(v["storage"].as_f64().unwrap_or(0.0)),
            tags: tags.join(", "),
            locked: v["locked"].as_bool().unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(mib(8192.0), "8 GiB");
        assert_eq!(mib(1536.0), "1.5 GiB");
        assert_eq!(mib(512.0), "512 MiB");
        assert_eq!(mb(40000.0), "40.0 GB");
        assert_eq!(mb(2_500_000.0), "2.5 TB");
        assert_eq!(bytes(500_000_000_000), "500.0 GB");
    }

    #[test]
    fn a_row_from_machine_json() {
        let v = serde_json::json!({
            "system_id": "abc123", "fqdn": "n1.maas", "power_state": "off",
            "status_name": "Ready", "status": 4, "status_message": "", "owner": null,
            "pool": {"name": "default"}, "zone": {"name": "z1"}, "cpu_count": 4,
            "memory": 8192, "physicalblockdevice_count": 2, "storage": 80000.0,
            "tag_names": ["gpu", "big"], "locked": false
        });
        let r = MachineRow::from_json(&v);
        assert_eq!(r.owner, "");
        assert_eq!(r.pool, "default");
        assert_eq!(r.tags, "gpu, big");
        assert_eq!(r.ram, "8 GiB");
        assert_eq!(r.storage, "80.0 GB");
    }
}
