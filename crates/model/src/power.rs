//! Power types and states.

/// Power drivers the region accepts, with the parameter names each takes.
/// Secret fields are never shown to non-admins.
pub const POWER_TYPES: &[(&str, &str, &[&str])] = &[
    ("manual", "Manual", &[]),
    (
        "ipmi",
        "IPMI",
        &[
            "power_driver",
            "power_boot_type",
            "power_address",
            "power_user",
            "power_pass",
            "k_g",
            "cipher_suite_id",
            "privilege_level",
            "workaround_flags",
            "mac_address",
            "power_off_mode",
        ],
    ),
    (
        "redfish",
        "Redfish",
        &["power_address", "power_user", "power_pass", "node_id"],
    ),
    (
        "webhook",
        "Webhook",
        &[
            "power_on_uri",
            "power_off_uri",
            "power_query_uri",
            "power_on_regex",
            "power_off_regex",
            "power_user",
            "power_pass",
            "power_token",
            "power_verify_ssl",
        ],
    ),
    (
        "virsh",
        "Virsh (virtual systems)",
        &["power_address", "power_pass", "power_id"],
    ),
];

pub fn is_known_power_type(t: &str) -> bool {
    POWER_TYPES.iter().any(|(n, _, _)| *n == t)
}

pub fn power_params_for(t: &str) -> Option<&'static [&'static str]> {
    POWER_TYPES
        .iter()
        .find(|(n, _, _)| *n == t)
        .map(|(_, _, p)| *p)
}

/// MAAS's power states.
pub const POWER_STATES: &[&str] = &["on", "off", "unknown", "error"];

/// A power driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerType {
    Manual,
    Ipmi,
    Redfish,
    Webhook,
    Virsh,
}

impl PowerType {
    pub const ALL: &'static [PowerType] = &[
        PowerType::Manual,
        PowerType::Ipmi,
        PowerType::Redfish,
        PowerType::Webhook,
        PowerType::Virsh,
    ];

    /// The name MAAS uses (`ipmi`).
    pub fn as_str(self) -> &'static str {
        match self {
            PowerType::Manual => "manual",
            PowerType::Ipmi => "ipmi",
            PowerType::Redfish => "redfish",
            PowerType::Webhook => "webhook",
            PowerType::Virsh => "virsh",
        }
    }

    pub fn parse(s: &str) -> Option<PowerType> {
        PowerType::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// The parameter names the driver takes.
    pub fn params(self) -> &'static [&'static str] {
        power_params_for(self.as_str()).unwrap_or(&[])
    }

    /// Whether the operator changes the power by hand: a manual machine, or
    /// one with no power type (stored as an empty string, `None` here).
    pub fn by_hand(t: Option<PowerType>) -> bool {
        matches!(t, None | Some(PowerType::Manual))
    }
}

/// What a power request asks a BMC to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerAction {
    On,
    Off,
    /// Ask the OS to shut down (ACPI soft off).
    SoftOff,
    /// On when off; off then on when on (MAAS's power cycle).
    Cycle,
    /// Hard reset.
    Reset,
    /// Read the power state, change nothing.
    Query,
}

impl PowerAction {
    pub const ALL: &'static [PowerAction] = &[
        PowerAction::On,
        PowerAction::Off,
        PowerAction::SoftOff,
        PowerAction::Cycle,
        PowerAction::Reset,
        PowerAction::Query,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::On => "on",
            PowerAction::Off => "off",
            PowerAction::SoftOff => "soft_off",
            PowerAction::Cycle => "cycle",
            PowerAction::Reset => "reset",
            PowerAction::Query => "query",
        }
    }

    pub fn parse(s: &str) -> Option<PowerAction> {
        PowerAction::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

/// A power command for one machine, sent to the one rack that runs it. It
/// carries the BMC credentials: never stored, never logged (`Debug` leaves
/// the parameters out).
#[derive(Clone, PartialEq, Eq)]
pub struct PowerCommand {
    pub id: u64,
    pub system_id: String,
    pub action: PowerAction,
    /// Set the next boot to PXE (once) before the action.
    pub boot_pxe_once: bool,
    pub power_type: String,
    pub params: std::collections::BTreeMap<String, String>,
    /// The whole command must finish within this.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for PowerCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerCommand")
            .field("id", &self.id)
            .field("system_id", &self.system_id)
            .field("action", &self.action)
            .field("boot_pxe_once", &self.boot_pxe_once)
            .field("power_type", &self.power_type)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// A rack's answer to a [`PowerCommand`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PowerReply {
    pub id: u64,
    pub ok: bool,
    /// on | off | unknown
    pub state: String,
    pub error: String,
    /// `maas_bmc::PowerError::kind`, or "timeout"
    pub error_kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_types_round_trip_and_know_their_params() {
        for t in PowerType::ALL {
            assert_eq!(PowerType::parse(t.as_str()), Some(*t));
            assert!(is_known_power_type(t.as_str()));
        }
        assert_eq!(PowerType::parse(""), None);
        assert_eq!(PowerType::parse("IPMI"), None);
        assert!(PowerType::Ipmi.params().contains(&"power_address"));
        assert!(PowerType::Manual.params().is_empty());
        assert!(PowerType::by_hand(None) && PowerType::by_hand(Some(PowerType::Manual)));
        assert!(!PowerType::by_hand(Some(PowerType::Redfish)));
    }

    #[test]
    fn power_actions_round_trip_and_commands_hide_credentials() {
        for a in PowerAction::ALL {
            assert_eq!(PowerAction::parse(a.as_str()), Some(*a));
        }
        assert_eq!(PowerAction::parse("explode"), None);
        let c = PowerCommand {
            id: 1,
            system_id: "abc".into(),
            action: PowerAction::On,
            boot_pxe_once: true,
            power_type: "ipmi".into(),
            params: [("power_pass".to_string(), "s3cret".to_string())].into(),
            timeout_ms: 1000,
        };
        let d = format!("{c:?}");
        assert!(d.contains("power_pass") && !d.contains("s3cret"), "{d}");
    }
}
