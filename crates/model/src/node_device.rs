//! MAAS's node devices: the PCI and USB devices commissioning finds, each
//! with the bus it sits on and the kind of hardware it is (MAAS's
//! `HARDWARE_TYPE`, shared with scripts), and the PCI address forms.

/// The bus a node device sits on, by MAAS's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    Pcie = 1,
    Usb = 2,
}

impl Bus {
    pub fn name(self) -> &'static str {
        match self {
            Bus::Pcie => "PCIE",
            Bus::Usb => "USB",
        }
    }

    pub fn from_number(n: i64) -> Option<Bus> {
        match n {
            1 => Some(Bus::Pcie),
            2 => Some(Bus::Usb),
            _ => None,
        }
    }

    /// A `bus` filter as MAAS reads it: its number, `PCIE`/`pcie` or
    /// `USB`/`usb`.
    pub fn parse(s: &str) -> Result<Bus, &'static str> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse()
                .ok()
                .and_then(Bus::from_number)
                .ok_or("Invalid bus numeric value!");
        }
        match s {
            "PCIE" | "pcie" => Ok(Bus::Pcie),
            "USB" | "usb" => Ok(Bus::Usb),
            _ => Err("Bus must be PCIE or USB!"),
        }
    }
}

/// What a device (or a script) is for, by MAAS's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HardwareType {
    Node = 0,
    Cpu = 1,
    Memory = 2,
    Storage = 3,
    Network = 4,
    Gpu = 5,
}

impl HardwareType {
    pub const ALL: [HardwareType; 6] = [
        HardwareType::Node,
        HardwareType::Cpu,
        HardwareType::Memory,
        HardwareType::Storage,
        HardwareType::Network,
        HardwareType::Gpu,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HardwareType::Node => "Node",
            HardwareType::Cpu => "CPU",
            HardwareType::Memory => "Memory",
            HardwareType::Storage => "Storage",
            HardwareType::Network => "Network",
            HardwareType::Gpu => "GPU",
        }
    }

    /// A stored number; anything unknown reads as `Node`.
    pub fn from_number(n: i64) -> HardwareType {
        Self::ALL
            .into_iter()
            .find(|t| *t as i64 == n)
            .unwrap_or(HardwareType::Node)
    }

    /// A `hardware_type` parameter as MAAS reads it: its number or one of
    /// the words MAAS accepts for each type, in any case.
    pub fn parse(s: &str) -> Result<HardwareType, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return Self::ALL
                .into_iter()
                .find(|t| s.parse::<i64>().ok() == Some(*t as i64))
                .ok_or_else(|| "Invalid hardware type numeric value.".to_string());
        }
        Ok(match s.to_ascii_lowercase().as_str() {
            "node" | "machine" | "controller" | "other" | "generic" => HardwareType::Node,
            "cpu" | "processor" => HardwareType::Cpu,
            "memory" | "ram" => HardwareType::Memory,
            "storage" | "disk" | "ssd" => HardwareType::Storage,
            "network" | "net" | "interface" => HardwareType::Network,
            "gpu" | "graphics" => HardwareType::Gpu,
            _ => {
                return Err(
                    "Hardware type must be node, cpu, memory, storage, network or gpu.".into(),
                );
            }
        })
    }
}

/// A PCI address in BDF notation (`[domain:]bus:device.function`, hex),
/// split into its bus and device numbers; `None` when it is not one.
pub fn pci_bus_device(addr: &str) -> Option<(u32, u32)> {
    let hex = |s: &str, max: usize| {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(s, 16).ok())
            .flatten()
    };
    let (rest, function) = addr.rsplit_once('.')?;
    hex(function, 1)?;
    let parts: Vec<&str> = rest.split(':').collect();
    let (bus, device) = match parts.as_slice() {
        [bus, device] => (bus, device),
        [domain, bus, device] => {
            hex(domain, 8)?;
            (bus, device)
        }
        _ => return None,
    };
    Some((hex(bus, 2)?, hex(device, 2)?))
}

/// A vendor or product id: four hex digits.
pub fn is_device_id(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buses_parse_as_maas_reads_them() {
        assert_eq!(Bus::parse("PCIE"), Ok(Bus::Pcie));
        assert_eq!(Bus::parse("usb"), Ok(Bus::Usb));
        assert_eq!(Bus::parse("2"), Ok(Bus::Usb));
        assert_eq!(Bus::parse("3"), Err("Invalid bus numeric value!"));
        assert_eq!(Bus::parse("Pcie"), Err("Bus must be PCIE or USB!"));
        assert_eq!(Bus::Pcie.name(), "PCIE");
    }

    #[test]
    fn hardware_types_parse_words_and_numbers() {
        assert_eq!(HardwareType::parse("GPU"), Ok(HardwareType::Gpu));
        assert_eq!(HardwareType::parse("disk"), Ok(HardwareType::Storage));
        assert_eq!(HardwareType::parse("4"), Ok(HardwareType::Network));
        assert!(HardwareType::parse("9").is_err());
        assert!(HardwareType::parse("toaster").is_err());
        assert_eq!(HardwareType::from_number(2).name(), "Memory");
        assert_eq!(HardwareType::from_number(77), HardwareType::Node);
    }

    #[test]
    fn pci_addresses_split_into_bus_and_device() {
        assert_eq!(pci_bus_device("0000:3b:1f.2"), Some((0x3b, 0x1f)));
        assert_eq!(pci_bus_device("00:03.0"), Some((0, 3)));
        assert_eq!(pci_bus_device("0000:00:03"), None);
        assert_eq!(pci_bus_device("0000:00:03.g"), None);
        assert_eq!(pci_bus_device("0000:0000:03.0"), None);
        assert_eq!(pci_bus_device(":00:03.0"), None);
        assert_eq!(pci_bus_device("a:b:c:d.0"), None);
        assert!(is_device_id("1AF4") && !is_device_id("1af") && !is_device_id("1afz"));
    }
}
