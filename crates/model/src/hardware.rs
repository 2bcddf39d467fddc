//! A machine's `hardware_info` as MAAS renders it: eighteen DMI-derived
//! strings, "Unknown" where the firmware says nothing. Commissioning fills
//! them from the DMI strings the kernel exports (`/sys/class/dmi/id`, the
//! agent's `dmi`) and the CPU model.

/// What a key says when nothing is known.
pub const UNKNOWN: &str = "Unknown";

/// MAAS's keys, in its order, each with the `/sys/class/dmi/id` file it
/// comes from (`None`: not DMI; `cpu_model` comes from the CPU).
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("system_vendor", Some("sys_vendor")),
    ("system_product", Some("product_name")),
    ("system_family", Some("product_family")),
    ("system_version", Some("product_version")),
    ("system_sku", Some("product_sku")),
    ("system_serial", Some("product_serial")),
    ("cpu_model", None),
    ("mainboard_vendor", Some("board_vendor")),
    ("mainboard_product", Some("board_name")),
    ("mainboard_serial", Some("board_serial")),
    ("mainboard_version", Some("board_version")),
    ("mainboard_firmware_vendor", Some("bios_vendor")),
    ("mainboard_firmware_date", Some("bios_date")),
    ("mainboard_firmware_version", Some("bios_version")),
    ("chassis_vendor", Some("chassis_vendor")),
    ("chassis_type", Some("chassis_type")),
    ("chassis_serial", Some("chassis_serial")),
    ("chassis_version", Some("chassis_version")),
];

/// SMBIOS chassis types (DMI type 3, byte 5, low 7 bits) by number, as
/// the kernel exports `chassis_type`.
const CHASSIS: &[&str] = &[
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "Laptop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All In One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "Sub Chassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system",
    "CompactPCI",
    "AdvancedTCA",
    "Blade",
    "Blade Enclosure",
    "Tablet",
    "Convertible",
    "Detachable",
    "IoT Gateway",
    "Embedded PC",
    "Mini PC",
    "Stick PC",
];

/// A chassis type's name from the number the kernel exports; anything
/// else as it was given.
pub fn chassis_name(v: &str) -> String {
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=CHASSIS.len()).contains(&n) => CHASSIS[n - 1].to_string(),
        _ => v.to_string(),
    }
}

/// `hardware_info` with nothing known: (key, value) in MAAS's order.
pub fn unknown() -> Vec<(&'static str, String)> {
    KEYS.iter()
        .map(|(k, _)| (*k, UNKNOWN.to_string()))
        .collect()
}

/// `hardware_info` from DMI strings (`dmi("sys_vendor")` →
/// `system_vendor`, …) and the CPU model; blank strings say nothing.
pub fn from_dmi<'a>(
    dmi: impl Fn(&str) -> Option<&'a str>,
    cpu_model: Option<&'a str>,
) -> Vec<(&'static str, String)> {
    KEYS.iter()
        .map(|(key, file)| {
            let v = match file {
                Some(f) => dmi(f),
                None => cpu_model,
            };
            let v = match v.map(str::trim).filter(|v| !v.is_empty()) {
                None => UNKNOWN.to_string(),
                Some(v) if *key == "chassis_type" => chassis_name(v),
                Some(v) => v.to_string(),
            };
            (*key, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmi_strings_take_maas_names_and_unknown_fills_the_rest() {
        let dmi = [
            ("sys_vendor", "QEMU"),
            ("product_name", "Standard PC (i440FX + PIIX, 1996)"),
            ("bios_vendor", "SeaBIOS"),
            ("bios_date", "04/01/2014"),
            ("chassis_type", "1"),
            ("board_name", "  "),
            ("product_serial", ""),
        ];
        let get = |k: &str| dmi.iter().find(|(f, _)| *f == k).map(|(_, v)| *v);
        let hw: std::collections::HashMap<&str, String> =
            from_dmi(get, Some("QEMU Virtual CPU version 2.5+"))
                .into_iter()
                .collect();
        assert_eq!(hw.len(), 18);
        assert_eq!(hw["system_vendor"], "QEMU");
        assert_eq!(hw["system_product"], "Standard PC (i440FX + PIIX, 1996)");
        assert_eq!(hw["mainboard_firmware_vendor"], "SeaBIOS");
        assert_eq!(hw["mainboard_firmware_date"], "04/01/2014");
        assert_eq!(hw["chassis_type"], "Other");
        assert_eq!(hw["cpu_model"], "QEMU Virtual CPU version 2.5+");
        assert_eq!(hw["mainboard_product"], UNKNOWN, "blank says nothing");
        assert_eq!(hw["system_serial"], UNKNOWN);
        assert_eq!(chassis_name("23"), "Rack Mount Chassis");
        assert_eq!(chassis_name("17"), "Main Server Chassis");
        assert_eq!(chassis_name("99"), "99");
        assert_eq!(chassis_name("Tower"), "Tower");
        assert!(unknown().iter().all(|(_, v)| v == UNKNOWN));
        assert_eq!(unknown()[0].0, "system_vendor");
    }
}
