//! The parameters of a physical disk added by hand (`POST
//! …/blockdevices/`) and of a disk's update (`PUT …/blockdevices/{id}/`,
//! MAAS's UpdatePhysicalBlockDeviceForm), checked once for the API and the
//! web UI: every field's errors together, nothing written on any.

use maas_model::constraints::FieldErrors;
use maas_model::storage::{MIN_BLOCK_DEVICE_SIZE, parse_bytes};

use crate::error::{Error, Result};
use crate::services::machines::{DiskRequest, valid_device_name};
use crate::store::storage::DiskChange;

fn add(errs: &mut FieldErrors, k: &str, m: String) {
    errs.entry(k.to_string()).or_default().push(m);
}

fn nonempty(get: &impl Fn(&str) -> Option<String>, k: &str) -> Option<String> {
    get(k)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn check_name(name: &str, errs: &mut FieldErrors) {
    if !valid_device_name(name) {
        add(
            errs,
            "name",
            format!("'{name}' is not a valid device name."),
        );
    }
}

fn check_id_path(p: &str, errs: &mut FieldErrors) {
    if !p.starts_with('/') {
        add(errs, "id_path", "Enter a valid value.".into());
    }
}

fn block_size_msg() -> String {
    "Ensure this value is between 512 and 65536.".into()
}

/// A new disk from `get` (a parameter's value; `None`: not given) and its
/// tags.
pub fn new_disk(get: impl Fn(&str) -> Option<String>, tags: Vec<String>) -> Result<DiskRequest> {
    let mut errs = FieldErrors::new();
    let name = nonempty(&get, "name");
    match &name {
        None => add(&mut errs, "name", "This field is required.".into()),
        Some(n) => check_name(n, &mut errs),
    }
    let size = match nonempty(&get, "size") {
        None => {
            add(&mut errs, "size", "This field is required.".into());
            None
        }
        Some(v) => match maas_model::filter::parse_int(&v) {
            None => {
                add(&mut errs, "size", format!("'{v}' is not a valid integer."));
                None
            }
            Some(n) if n < MIN_BLOCK_DEVICE_SIZE => {
                add(
                    &mut errs,
                    "size",
                    format!(
                        "Ensure this value is greater than or equal to {MIN_BLOCK_DEVICE_SIZE}."
                    ),
                );
                None
            }
            Some(n) => Some(n),
        },
    };
    let block_size = match nonempty(&get, "block_size") {
        None => 512,
        Some(v) => match maas_model::filter::parse_int(&v) {
            None => {
                add(
                    &mut errs,
                    "block_size",
                    format!("'{v}' is not a valid integer."),
                );
                512
            }
            Some(n) if !(512..=65536).contains(&n) => {
                add(&mut errs, "block_size", block_size_msg());
                512
            }
            Some(n) => n as i32,
        },
    };
    let id_path = nonempty(&get, "id_path");
    if let Some(p) = &id_path {
        check_id_path(p, &mut errs);
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    Ok(DiskRequest {
        name: name.unwrap_or_default(),
        size: size.unwrap_or_default(),
        block_size,
        tags,
        model: get("model")
            .map(|v| v.trim().to_string())
            .unwrap_or_default(),
        serial: get("serial")
            .map(|v| v.trim().to_string())
            .unwrap_or_default(),
        id_path,
    })
}

/// A disk's update from `get`: empty values leave a field as it is, except
/// `model` and `serial`, which an empty value clears.
pub fn change(get: impl Fn(&str) -> Option<String>) -> Result<DiskChange> {
    let mut errs = FieldErrors::new();
    let name = nonempty(&get, "name");
    if let Some(n) = &name {
        check_name(n, &mut errs);
    }
    let id_path = nonempty(&get, "id_path");
    if let Some(p) = &id_path {
        check_id_path(p, &mut errs);
    }
    let size = match nonempty(&get, "size").map(|v| parse_bytes(&v)) {
        None => None,
        Some(Some(n)) if n >= MIN_BLOCK_DEVICE_SIZE => Some(n),
        Some(Some(_)) => {
            add(
                &mut errs,
                "size",
                format!("Ensure this value is greater than or equal to {MIN_BLOCK_DEVICE_SIZE}."),
            );
            None
        }
        Some(None) => {
            add(&mut errs, "size", "Enter a valid value.".into());
            None
        }
    };
    let block_size = match nonempty(&get, "block_size").map(|v| parse_bytes(&v)) {
        None => None,
        Some(Some(n)) if (512..=65536).contains(&n) => Some(n as i32),
        Some(_) => {
            add(&mut errs, "block_size", block_size_msg());
            None
        }
    };
    let table_type = nonempty(&get, "partition_table_type");
    if let Some(t) = &table_type
        && t != "GPT"
        && t != "MBR"
    {
        add(
            &mut errs,
            "partition_table_type",
            format!("Select a valid choice. {t} is not one of the available choices."),
        );
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    Ok(DiskChange {
        table_type,
        name,
        model: get("model").map(|v| v.trim().to_string()),
        serial: get("serial").map(|v| v.trim().to_string()),
        id_path,
        size,
        block_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::lookup as from;

    fn fields(e: Error) -> FieldErrors {
        match e {
            Error::Validation(f) => f,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn a_new_disk_reports_every_bad_field_at_once() {
        let e = new_disk(from(&[("name", "bad name"), ("block_size", "100")]), vec![]).unwrap_err();
        let f = fields(e);
        assert_eq!(f["name"], ["'bad name' is not a valid device name."]);
        assert_eq!(f["size"], ["This field is required."]);
        assert_eq!(
            f["block_size"],
            ["Ensure this value is between 512 and 65536."]
        );
        let d = new_disk(
            from(&[("name", "sdb"), ("size", "8589934592"), ("model", " QEMU ")]),
            vec!["ssd".into()],
        )
        .unwrap();
        assert_eq!(
            (d.name.as_str(), d.size, d.block_size),
            ("sdb", 8589934592, 512)
        );
        assert_eq!(d.model, "QEMU");
        assert_eq!(d.tags, ["ssd"]);
    }

    #[test]
    fn an_update_leaves_empty_fields_alone_but_clears_model_and_serial() {
        let c = change(from(&[("name", ""), ("model", ""), ("size", "10G")])).unwrap();
        assert_eq!(c.name, None);
        assert_eq!(c.model.as_deref(), Some(""));
        assert_eq!(c.serial, None);
        assert_eq!(c.size, Some(10_000_000_000));
        let f = fields(change(from(&[("size", "1K"), ("id_path", "dev/sda")])).unwrap_err());
        assert!(f["size"][0].contains("greater than or equal to 4194304"));
        assert_eq!(f["id_path"], ["Enter a valid value."]);
    }
}
