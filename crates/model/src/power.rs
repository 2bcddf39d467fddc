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
