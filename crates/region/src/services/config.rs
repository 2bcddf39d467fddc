//! Global settings (`maas/?op=get_config|set_config`): known names, their
//! types and defaults. Values live in the `config` table as JSON.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::lifecycle;
use crate::store::{self, Executor, Pool};

#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    Int { min: i64, max: i64 },
    Bool,
    Choice(&'static [&'static str]),
}

/// (name, kind, default)
pub const SETTINGS: &[(&str, Kind, DefaultValue)] = &[
    ("maas_name", Kind::Str, DefaultValue::Str("maas")),
    (
        "maas_url",
        Kind::Str,
        DefaultValue::Str("http://localhost:5240/MAAS"),
    ),
    (
        "node_timeout",
        Kind::Int { min: 1, max: 10080 },
        DefaultValue::Int(30),
    ),
    ("default_osystem", Kind::Str, DefaultValue::Str("ubuntu")),
    (
        "default_distro_series",
        Kind::Str,
        DefaultValue::Str("jammy"),
    ),
    (
        "commissioning_osystem",
        Kind::Str,
        DefaultValue::Str("ubuntu"),
    ),
    (
        "commissioning_distro_series",
        Kind::Str,
        DefaultValue::Str("jammy"),
    ),
    ("default_min_hwe_kernel", Kind::Str, DefaultValue::Str("")),
    ("kernel_opts", Kind::Str, DefaultValue::Str("")),
    (
        "enable_disk_erasing_on_release",
        Kind::Bool,
        DefaultValue::Bool(false),
    ),
    (
        "disk_erase_with_secure_erase",
        Kind::Bool,
        DefaultValue::Bool(false),
    ),
    (
        "disk_erase_with_quick_erase",
        Kind::Bool,
        DefaultValue::Bool(false),
    ),
    ("enlist_commissioning", Kind::Bool, DefaultValue::Bool(true)),
    (
        "default_storage_layout",
        Kind::Choice(&["flat", "lvm", "bcache", "blank", "custom", "vmfs6", "vmfs7"]),
        DefaultValue::Str("flat"),
    ),
    (
        "ntp_servers",
        Kind::Str,
        DefaultValue::Str("ntp.ubuntu.com"),
    ),
    ("ntp_external_only", Kind::Bool, DefaultValue::Bool(false)),
    ("upstream_dns", Kind::Str, DefaultValue::Str("")),
    (
        "dnssec_validation",
        Kind::Choice(&["auto", "yes", "no"]),
        DefaultValue::Str("auto"),
    ),
    (
        "default_dns_ttl",
        Kind::Int {
            min: 1,
            max: 604800,
        },
        DefaultValue::Int(30),
    ),
    (
        "maas_internal_domain",
        Kind::Str,
        DefaultValue::Str("maas-internal"),
    ),
    ("enable_http_proxy", Kind::Bool, DefaultValue::Bool(true)),
    ("http_proxy", Kind::Str, DefaultValue::Str("")),
    (
        "network_discovery",
        Kind::Choice(&["enabled", "disabled"]),
        DefaultValue::Str("enabled"),
    ),
    (
        "active_discovery_interval",
        Kind::Int {
            min: 0,
            max: 604800,
        },
        DefaultValue::Int(10800),
    ),
    (
        "boot_images_auto_import",
        Kind::Bool,
        DefaultValue::Bool(true),
    ),
    (
        "boot_images_import_interval_minutes",
        Kind::Int { min: 1, max: 10080 },
        DefaultValue::Int(60),
    ),
    ("maas_auto_ipmi_user", Kind::Str, DefaultValue::Str("maas")),
    (
        "maas_auto_ipmi_user_privilege_level",
        Kind::Choice(&["USER", "OPERATOR", "ADMIN"]),
        DefaultValue::Str("ADMIN"),
    ),
    (
        "maas_auto_ipmi_cipher_suite_id",
        Kind::Choice(&["3", "8", "12", "17"]),
        DefaultValue::Str("3"),
    ),
    (
        "session_length",
        Kind::Int {
            min: 60,
            max: 31536000,
        },
        DefaultValue::Int(1209600),
    ),
    (
        "release_notifications",
        Kind::Bool,
        DefaultValue::Bool(true),
    ),
    ("curtin_verbose", Kind::Bool, DefaultValue::Bool(true)),
    // The web UI's first-run page was completed (or skipped).
    ("completed_intro", Kind::Bool, DefaultValue::Bool(false)),
];

#[derive(Clone, Copy)]
pub enum DefaultValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

impl DefaultValue {
    fn json(self) -> Value {
        match self {
            DefaultValue::Str(s) => Value::String(s.into()),
            DefaultValue::Int(i) => Value::from(i),
            DefaultValue::Bool(b) => Value::Bool(b),
        }
    }
}

fn setting(name: &str) -> Result<&'static (&'static str, Kind, DefaultValue)> {
    SETTINGS
        .iter()
        .find(|s| s.0 == name)
        .ok_or_else(|| Error::field("name", format!("'{name}' is not a valid config name.")))
}

/// Validate a text value for a setting and convert it to its JSON type.
pub fn validate(name: &str, value: &str) -> Result<Value> {
    let (_, kind, _) = setting(name)?;
    let bad = |m: String| Error::field("value", m);
    Ok(match kind {
        Kind::Str => Value::String(value.to_string()),
        Kind::Bool => Value::Bool(
            maas_model::constraints::parse_bool(value)
                .ok_or_else(|| bad(format!("'{value}' is not a boolean.")))?,
        ),
        Kind::Int { min, max } => {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("'{value}' is not an integer.")))?;
            if n < *min || n > *max {
                return Err(bad(format!("{name} must be between {min} and {max}.")));
            }
            Value::from(n)
        }
        Kind::Choice(choices) => {
            if !choices.contains(&value) {
                return Err(bad(format!(
                    "'{value}' is not one of the available choices: {}.",
                    choices.join(", ")
                )));
            }
            Value::String(value.to_string())
        }
    })
}

pub async fn get<'e>(db: impl Executor<'e>, name: &str) -> Result<Value> {
    let (_, _, default) = setting(name)?;
    Ok(store::config::get(db, name)
        .await?
        .unwrap_or_else(|| default.json()))
}

pub async fn set<'e>(db: impl Executor<'e>, name: &str, value: &Value) -> Result<()> {
    store::config::set(db, name, value).await
}

/// Change a setting on behalf of `username` (`maas/?op=set_config`): the
/// value is checked, stored and the change logged as one transaction.
pub async fn change(db: &Pool, username: &str, name: &str, value: &str) -> Result<()> {
    let v = validate(name, value)?;
    let mut tx = store::begin(db).await?;
    set(&mut *tx, name, &v).await?;
    lifecycle::event(
        &mut tx,
        None,
        Some(username),
        "INFO",
        "Settings changed",
        &format!("{name} set to {v}."),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn get_str<'e>(db: impl Executor<'e>, name: &str) -> Result<String> {
    Ok(match get(db, name).await? {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

pub async fn get_i64<'e>(db: impl Executor<'e>, name: &str) -> Result<i64> {
    Ok(get(db, name).await?.as_i64().unwrap_or(30))
}

pub async fn get_bool<'e>(db: impl Executor<'e>, name: &str) -> Result<bool> {
    Ok(get(db, name).await?.as_bool().unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert_eq!(validate("node_timeout", "45").unwrap(), Value::from(45));
        assert!(validate("node_timeout", "0").is_err());
        assert!(validate("node_timeout", "x").is_err());
        assert_eq!(
            validate("enlist_commissioning", "false").unwrap(),
            Value::Bool(false)
        );
        assert!(validate("default_storage_layout", "zfs").is_err());
        assert!(validate("no_such_thing", "1").is_err());
        for (name, kind, default) in SETTINGS {
            let text = match default.json() {
                Value::String(s) => s,
                v => v.to_string(),
            };
            assert!(
                validate(name, &text).is_ok(),
                "default of {name} must validate"
            );
            let _ = kind;
        }
    }
}
