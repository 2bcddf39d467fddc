//! A machine's own fields as `PUT machines/{id}/` takes them (hostname,
//! domain, architecture, kernel, hardware, …), read and checked once for
//! the API and the web UI's edit form; power settings are read by each
//! edge (their forms differ) and checked by `machines::update`.

use maas_model::constraints::FieldErrors;
use maas_model::ids;

use crate::error::{Error, Result};
use crate::services::machines::UpdateRequest;

/// The host part of a given hostname; its domain part (after the first dot)
/// becomes the machine's domain, which must exist and agree with a `domain`
/// given beside it.
pub fn host_and_domain(given: &str, domain: &mut Option<String>) -> Result<String, String> {
    let (host, in_name) = ids::split_fqdn(given)?;
    if let Some(d) = in_name {
        match domain.as_deref() {
            // A domain given by id is checked by the service.
            Some(other) if other != d && other.parse::<i64>().is_err() => {
                return Err(format!(
                    "'{given}' is not in the domain '{other}' given with it."
                ));
            }
            _ => *domain = Some(d.to_string()),
        }
    }
    Ok(host.to_string())
}

/// `arch` (with `sub`, or `generic`) as `arch/sub`, or the field's error.
pub fn normalise_arch(arch: &str, sub: Option<&str>) -> Result<String, String> {
    let a = match (arch.contains('/'), sub) {
        (false, Some(s)) if !s.is_empty() => format!("{arch}/{s}"),
        (false, _) => format!("{arch}/generic"),
        (true, _) => arch.to_string(),
    };
    let ok = a.split_once('/').is_some_and(|(x, y)| {
        let good = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        good(x) && good(y)
    });
    if ok {
        Ok(a)
    } else {
        Err(format!("'{arch}' is not a valid architecture."))
    }
}

/// The fields of an update from `get` (a parameter's value; `None`: not
/// given): empty values leave hostname, domain, zone, pool, architecture
/// and the numbers unchanged; an empty description, kernel or hardware UUID
/// clears it. Every field's errors together.
pub fn update(get: impl Fn(&str) -> Option<String>) -> Result<UpdateRequest> {
    let mut errs = FieldErrors::new();
    let mut add = |k: &str, m: String| errs.entry(k.to_string()).or_default().push(m);
    let nonempty = |k: &str| {
        get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut r = UpdateRequest {
        domain: nonempty("domain"),
        description: get("description"),
        zone: nonempty("zone"),
        pool: nonempty("pool"),
        min_hwe_kernel: get("min_hwe_kernel").map(|v| v.trim().to_string()),
        hardware_uuid: get("hardware_uuid")
            .map(|u| Some(u.trim().to_string()).filter(|s| !s.is_empty())),
        ..Default::default()
    };
    if let Some(h) = nonempty("hostname") {
        match host_and_domain(&h, &mut r.domain) {
            Ok(host) => r.hostname = Some(host),
            Err(e) => add("hostname", e),
        }
    }
    if let Some(a) = nonempty("architecture") {
        match normalise_arch(&a, nonempty("subarchitecture").as_deref()) {
            Ok(a) => r.architecture = Some(a),
            Err(e) => add("architecture", e),
        }
    }
    let mut int = |k: &str, hi: i64| -> Option<i64> {
        let v = nonempty(k)?;
        match maas_model::filter::parse_int(&v) {
            None => {
                add(k, format!("'{v}' is not a valid integer."));
                None
            }
            Some(n) if !(0..=hi).contains(&n) => {
                add(k, format!("{k} is out of range."));
                None
            }
            Some(n) => Some(n),
        }
    };
    r.cpu_count = int("cpu_count", 100_000).map(|n| n as i32);
    r.memory = int("memory", 1i64 << 40);
    r.swap_size = int("swap_size", i64::MAX);
    if errs.is_empty() {
        Ok(r)
    } else {
        Err(Error::Validation(errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::lookup as from;

    #[test]
    fn fields_are_read_and_every_error_reported() {
        let r = update(from(&[
            ("hostname", "web1.lab"),
            ("architecture", "arm64"),
            ("cpu_count", "8"),
            ("memory", ""),
            ("description", ""),
        ]))
        .unwrap();
        assert_eq!(r.hostname.as_deref(), Some("web1"));
        assert_eq!(r.domain.as_deref(), Some("lab"));
        assert_eq!(r.architecture.as_deref(), Some("arm64/generic"));
        assert_eq!(r.cpu_count, Some(8));
        assert_eq!(r.memory, None, "empty: unchanged");
        assert_eq!(r.description.as_deref(), Some(""), "empty: cleared");
        let Err(Error::Validation(e)) = update(from(&[
            ("architecture", "x86 64"),
            ("cpu_count", "-1"),
            ("memory", "lots"),
            ("hostname", "a.lab"),
            ("domain", "other"),
        ])) else {
            panic!("refused")
        };
        assert_eq!(e["architecture"], ["'x86 64' is not a valid architecture."]);
        assert_eq!(e["cpu_count"], ["cpu_count is out of range."]);
        assert_eq!(e["memory"], ["'lots' is not a valid integer."]);
        assert!(e["hostname"][0].contains("not in the domain 'other'"));
    }
}
