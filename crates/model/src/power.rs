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
    Cycle,
}

impl PowerAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::On => "on",
            PowerAction::Off => "off",
            PowerAction::Cycle => "cycle",
        }
    }
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
}
