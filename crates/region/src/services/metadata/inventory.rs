//! The hardware inventory a commissioning machine uploads (`hardware.json`,
//! the boot agent's format): CPU, memory, disks (with `id_path`) and NICs
//! (`nics: [{name, mac, driver, link, speed}]`), PCI and USB devices
//! (`inventory_devices`), checked as strictly as the REST API checks the
//! same fields, then applied to the machine.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::Conn;
use crate::store::machines::boot::{self as db, InventoryDisk, InventoryNic};
use crate::store::node_devices::{self, NewDevice};

/// A hardware inventory (`hardware.json`, the boot agent's format), checked.
pub struct Inventory<'a> {
    pub cpu_count: Option<i32>,
    pub memory: Option<i64>,
    pub cpu_speed: Option<i32>,
    /// `None`: the inventory says nothing about disks (keep them).
    pub disks: Option<Vec<InventoryDisk<'a>>>,
    /// `None`: the inventory says nothing about NICs.
    pub nics: Option<Vec<InventoryNic>>,
    /// How the firmware booted it (`pxe`: BIOS, `uefi`), MAAS's
    /// `bios_boot_method`: the default layout gives UEFI an ESP.
    pub boot_method: Option<&'static str>,
    /// MAAS's `hardware_info` (JSON text) from `dmi` and `cpu_model`;
    /// `None` when the inventory has neither.
    pub hardware_info: Option<String>,
    /// PCI and USB devices; `None`: the inventory lists neither bus.
    pub devices: Option<Vec<NewDevice>>,
    /// MAAS's `numanode_set` (JSON text); `None`: no nodes listed.
    pub numa_nodes: Option<String>,
}

/// The longest DMI string or CPU model kept (SMBIOS strings are short).
const MAX_TEXT: usize = 1024;

/// `hardware_info` from the inventory's `dmi` object and `cpu_model`:
/// strings only, no NUL, at most `MAX_TEXT` bytes each.
fn hardware_info(inv: &Value) -> Result<Option<String>> {
    let text = |field: &str, v: &Value| -> Result<String> {
        let t = v.as_str().ok_or_else(|| {
            Error::field(
                field,
                format!("Inventory field '{field}' has the wrong type."),
            )
        })?;
        if t.contains('\0') || t.len() > MAX_TEXT {
            return Err(Error::field(
                field,
                format!(
                    "Inventory field '{field}' must be text of at most {MAX_TEXT} bytes without NUL."
                ),
            ));
        }
        Ok(t.to_string())
    };
    let cpu = match inv.get("cpu_model") {
        None | Some(Value::Null) => None,
        Some(v) => Some(text("cpu_model", v)?),
    };
    let dmi = match inv.get("dmi") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(
            m.iter()
                .map(|(k, v)| Ok((k.as_str(), text(&format!("dmi.{k}"), v)?)))
                .collect::<Result<Vec<(&str, String)>>>()?,
        ),
        Some(_) => {
            return Err(Error::field(
                "dmi",
                "Inventory field 'dmi' has the wrong type.",
            ));
        }
    };
    if cpu.is_none() && dmi.is_none() {
        return Ok(None);
    }
    let dmi = dmi.unwrap_or_default();
    let get = |k: &str| dmi.iter().find(|(f, _)| *f == k).map(|(_, v)| v.as_str());
    let info: serde_json::Map<String, Value> = maas_model::hardware::from_dmi(get, cpu.as_deref())
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    Ok(Some(Value::Object(info).to_string()))
}

/// The boot methods an inventory may report.
const BOOT_METHODS: &[&str] = &["pxe", "uefi"];

/// A text field of a disk entry ("" when absent); NUL is refused.
fn disk_text<'a>(d: &'a Value, k: &str) -> Result<&'a str> {
    let t = d.get(k).and_then(Value::as_str).unwrap_or("");
    if t.contains('\0') {
        return Err(Error::field(
            &format!("disks.{k}"),
            "Text may not contain NUL characters.",
        ));
    }
    Ok(t)
}

/// Check an inventory as strictly as the REST API checks the same fields:
/// wrong types, out-of-range numbers, bad device names and text PostgreSQL
/// cannot store are refused (400), never clamped or passed on.
pub fn parse_inventory(inv: &Value) -> Result<Inventory<'_>> {
    let bad = |f: &str| Error::field(f, format!("Inventory field '{f}' has the wrong type."));
    let int = |k: &str| -> Result<Option<i64>> {
        match inv.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(k)),
        }
    };
    let within = |k: &str, max: i64| -> Result<Option<i64>> {
        match int(k)? {
            Some(v) if !(0..=max).contains(&v) => Err(Error::field(
                k,
                format!("Inventory field '{k}' is out of range (0 to {max})."),
            )),
            v => Ok(v),
        }
    };

    let mut out = Inventory {
        cpu_count: within("cpu_count", 100_000)?.map(|v| v as i32),
        memory: within("memory", 1 << 40)?,
        cpu_speed: within("cpu_speed", 1_000_000)?.map(|v| v as i32),
        disks: None,
        nics: None,
        boot_method: None,
        hardware_info: hardware_info(inv)?,
        devices: super::inventory_devices::parse(inv)?,
        numa_nodes: super::inventory_numa::parse(inv)?,
    };
    match inv.get("boot_method") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) => {
            let known = BOOT_METHODS.iter().find(|b| **b == m.as_str());
            out.boot_method = Some(*known.ok_or_else(|| {
                Error::field(
                    "boot_method",
                    format!(
                        "'{}' is not a boot method ({}).",
                        m.escape_default(),
                        BOOT_METHODS.join(", ")
                    ),
                )
            })?);
        }
        Some(_) => return Err(bad("boot_method")),
    }
    if let Some(disks) = inv.get("disks") {
        let disks = disks.as_array().ok_or_else(|| bad("disks"))?;
        let mut list = Vec::with_capacity(disks.len());
        for d in disks {
            let name = d
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("disks.name"))?;
            if !crate::services::machines::valid_device_name(name) {
                return Err(Error::field(
                    "disks.name",
                    format!("'{name}' is not a valid device name."),
                ));
            }
            let size = d
                .get("size")
                .and_then(Value::as_i64)
                .filter(|s| *s >= 0)
                .ok_or_else(|| bad("disks.size"))?;
            let mut tags = Vec::new();
            for t in d
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(t) = t.as_str() {
                    if t.contains('\0') {
                        return Err(Error::field(
                            "disks.tags",
                            "Text may not contain NUL characters.",
                        ));
                    }
                    tags.push(t.to_string());
                }
            }
            list.push(InventoryDisk {
                name,
                size,
                tags,
                model: disk_text(d, "model")?,
                serial: disk_text(d, "serial")?,
                id_path: id_path(d)?,
            });
        }
        out.disks = Some(list);
    }
    if let Some(nics) = inv.get("nics") {
        out.nics = Some(parse_nics(nics.as_array().ok_or_else(|| bad("nics"))?)?);
    }
    Ok(out)
}

/// A disk's `/dev/disk/by-id/...` path: absolute, no NUL, no `..`.
fn id_path(d: &Value) -> Result<Option<&str>> {
    let p = disk_text(d, "id_path")?;
    if p.is_empty() {
        return Ok(None);
    }
    if !p.starts_with("/dev/") || p.split('/').any(|c| c == "..") || p.len() > 4096 {
        return Err(Error::field(
            "disks.id_path",
            format!("'{p}' is not a device path under /dev/."),
        ));
    }
    Ok(Some(p))
}

/// An interface name as the kernel allows it (and the API stores).
fn valid_nic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:@".contains(c))
}

fn parse_nics(nics: &[Value]) -> Result<Vec<InventoryNic>> {
    let mut out: Vec<InventoryNic> = Vec::with_capacity(nics.len());
    for n in nics {
        let name = n.get("name").and_then(Value::as_str).unwrap_or("");
        if !valid_nic_name(name) {
            return Err(Error::field(
                "nics.name",
                format!("'{name}' is not a valid interface name."),
            ));
        }
        let raw = n.get("mac").and_then(Value::as_str).unwrap_or("");
        let mac = maas_model::ids::normalize_mac(raw).ok_or_else(|| {
            Error::field("nics.mac", format!("'{raw}' is not a valid MAC address."))
        })?;
        let speed = match n.get("speed") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .filter(|s| (0..=10_000_000).contains(s))
                .ok_or_else(|| {
                    Error::field(
                        "nics.speed",
                        "A NIC speed is a number of Mbps (0 to 10000000).",
                    )
                })? as i32,
        };
        let link = match n.get("link") {
            None | Some(Value::Null) => true,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| Error::field("nics.link", "A NIC's link is true or false."))?,
        };
        // A MAC or name seen twice counts once.
        if out.iter().any(|o| o.mac == mac || o.name == name) {
            continue;
        }
        out.push(InventoryNic {
            name: name.to_string(),
            mac,
            link,
            speed,
        });
    }
    Ok(out)
}

/// Apply a checked inventory: hardware figures, disks replaced (unless
/// `keep_disks`: commissioning with `skip_storage`), physical interfaces
/// created or updated by MAC (none is removed).
pub(super) async fn apply(
    tx: &mut Conn,
    machine_id: i64,
    inv: &Inventory<'_>,
    keep_disks: bool,
) -> Result<()> {
    let hw = db::Hardware {
        cpu_count: inv.cpu_count,
        memory: inv.memory,
        cpu_speed: inv.cpu_speed,
        boot_method: inv.boot_method,
        hardware_info: inv.hardware_info.as_deref(),
        numa_nodes: inv.numa_nodes.as_deref(),
    };
    db::set_hardware(tx, machine_id, &hw).await?;
    if let Some(disks) = inv.disks.as_ref().filter(|_| !keep_disks) {
        db::replace_disks(tx, machine_id, disks).await?;
    }
    for n in inv.nics.iter().flatten() {
        db::upsert_nic(tx, machine_id, n).await?;
    }
    // After the disks and NICs, which the devices link to.
    if let Some(devices) = &inv.devices {
        node_devices::replace(tx, machine_id, devices).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(v: Value, field: &str) {
        match parse_inventory(&v) {
            Err(e) => assert!(format!("{e:?}").contains(field), "{field}: {e:?}"),
            Ok(_) => panic!("accepted {v}"),
        }
    }

    #[test]
    fn nics_are_checked_and_normalised() {
        let v = json!({"nics": [
            {"name": "ens3", "mac": "52-54-00-AB-CD-EF", "driver": "virtio_net", "link": true, "speed": 1000},
            {"name": "ens4", "mac": "52:54:00:ab:cd:ef"},
            {"name": "ens5", "mac": "525400000005", "link": false, "speed": null}
        ]});
        let inv = parse_inventory(&v).unwrap();
        let nics = inv.nics.unwrap();
        assert_eq!(nics.len(), 2, "a repeated MAC counts once");
        assert_eq!(nics[0].mac, "52:54:00:ab:cd:ef");
        assert_eq!((nics[0].link, nics[0].speed), (true, 1000));
        assert_eq!(nics[1].mac, "52:54:00:00:00:05");
        assert!(!nics[1].link);
        assert!(parse_inventory(&json!({})).unwrap().nics.is_none());
    }

    #[test]
    fn bad_nics_and_id_paths_are_refused() {
        refused(json!({"nics": {}}), "nics");
        refused(
            json!({"nics": [{"name": "eth0", "mac": "nope"}]}),
            "nics.mac",
        );
        refused(
            json!({"nics": [{"name": "a/b", "mac": "52:54:00:00:00:01"}]}),
            "nics.name",
        );
        refused(
            json!({"nics": [{"name": "averyveryverylongname", "mac": "52:54:00:00:00:01"}]}),
            "nics.name",
        );
        refused(
            json!({"nics": [{"name": "e", "mac": "52:54:00:00:00:01", "speed": -1}]}),
            "nics.speed",
        );
        refused(
            json!({"nics": [{"name": "e", "mac": "52:54:00:00:00:01", "link": "yes"}]}),
            "nics.link",
        );
        let disk = |p: &str| json!({"disks": [{"name": "sda", "size": 1, "id_path": p}]});
        refused(disk("/etc/passwd"), "disks.id_path");
        refused(disk("/dev/../etc"), "disks.id_path");
        let good = disk("/dev/disk/by-id/virtio-x");
        let inv = parse_inventory(&good).unwrap();
        assert_eq!(
            inv.disks.unwrap()[0].id_path,
            Some("/dev/disk/by-id/virtio-x")
        );
        let empty = disk("");
        let inv = parse_inventory(&empty).unwrap();
        assert_eq!(inv.disks.unwrap()[0].id_path, None);
    }
}
