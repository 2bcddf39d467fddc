//! Creating (and enlisting) and updating machines: the request's fields,
//! validated, become the machine services' requests.

use axum::response::Response;
use maas_model::{ids, power};
use serde_json::{Map, Value};

use crate::api::app::{App, Req, json, node_token_refused};
use crate::api::check::Check;
use crate::api::machines::{current, machine_response};
use crate::error::{Error, Result};
use crate::render::FullMachine;
use crate::services::machine_fields::{self, host_and_domain, normalise_arch};
use crate::services::machines::{self, CreateRequest, PowerParams};

/// Power parameters as given: a JSON `power_parameters` object and/or
/// `power_parameters_<name>` fields (parsed and checked by the service
/// against the machine's driver).
fn power_params(req: &Req) -> PowerParams {
    let fields = req
        .input
        .params
        .iter()
        .filter_map(|(k, vals)| {
            let name = k.strip_prefix("power_parameters_")?;
            (name != "skip_check")
                .then(|| (name.to_string(), vals.last().cloned().unwrap_or_default()))
        })
        .collect();
    PowerParams {
        json: req
            .input
            .get_nonempty("power_parameters")
            .map(str::to_string),
        fields,
    }
}

/// The fields an anonymous caller may see (MAAS's anonymous machine view).
fn anonymous_view(m: &FullMachine) -> Response {
    let full: Value = serde_json::to_value(m.json()).unwrap_or_default();
    let keep = [
        "system_id",
        "hostname",
        "domain",
        "fqdn",
        "architecture",
        "status",
        "power_type",
        "power_state",
        "zone",
        "status_action",
        "status_message",
        "status_name",
        "node_type",
        "resource_uri",
    ];
    let out: Map<String, Value> = full
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json(&out)
}

const REQUIRED: &str = "This field is required.";

pub async fn create(app: &App, req: &Req) -> Result<Response> {
    let user = req.user.as_ref();
    if let Some(u) = user
        && u.machine_id.is_some()
    {
        return Err(node_token_refused());
    }
    let i = &req.input;
    let mut c = Check::new(i);
    let arch = match i.get_nonempty("architecture") {
        Some(a) => match normalise_arch(a, i.get_nonempty("subarchitecture")) {
            Ok(a) => Some(a),
            Err(e) => {
                c.add("architecture", e);
                None
            }
        },
        None => {
            c.add("architecture", REQUIRED);
            None
        }
    };
    let raw_macs = i.list("mac_addresses");
    let mut macs = Vec::new();
    if raw_macs.is_empty() {
        c.add("mac_addresses", REQUIRED);
    }
    for m in &raw_macs {
        let msg = match ids::normalize_mac(m) {
            Some(n) if !macs.contains(&n) => {
                macs.push(n);
                continue;
            }
            Some(_) => format!("'{m}' is given twice."),
            None => format!("'{m}' is not a valid MAC address."),
        };
        c.add("mac_addresses", msg);
    }
    let mut hostname = None;
    let mut domain = i.get_nonempty("domain").map(str::to_string);
    if let Some(h) = i.get_nonempty("hostname").map(str::trim) {
        match host_and_domain(h, &mut domain) {
            Ok(host) => hostname = Some(host),
            Err(e) => c.add("hostname", e),
        }
    }
    let power_type = i.get("power_type").unwrap_or("").trim().to_string();
    if !power_type.is_empty() && !power::is_known_power_type(&power_type) {
        c.add(
            "power_type",
            format!("'{power_type}' is not a valid power type."),
        );
    }
    let is_admin = user.is_some_and(|u| u.is_superuser);
    let commission = i.bool("commission")?.unwrap_or(is_admin);
    let deployed = i.bool("deployed")?.unwrap_or(false);
    if deployed && user.is_none() {
        return Err(Error::Unauthorized(
            "deployed=true needs an authenticated user.".into(),
        ));
    }
    if commission && !is_admin {
        return Err(Error::Forbidden(
            "Only admins can commission machines.".into(),
        ));
    }
    let cpu_count = i.int("cpu_count")?.unwrap_or(0);
    let memory = i.int("memory")?.unwrap_or(0);
    if !(0..=100_000).contains(&cpu_count) {
        c.add("cpu_count", "cpu_count is out of range.");
    }
    if !(0..=1i64 << 40).contains(&memory) {
        c.add("memory", "memory is out of range.");
    }
    c.finish()?;
    let power_params = power_params(req);
    let r = CreateRequest {
        architecture: arch.unwrap_or_default(),
        macs,
        hostname,
        power_type,
        power_params,
        commission,
        deployed,
        cpu_count,
        memory,
        domain,
        zone: i.get_nonempty("zone").map(str::to_string),
        pool: i.get_nonempty("pool").map(str::to_string),
        description: i.get("description").unwrap_or("").to_string(),
        min_hwe_kernel: i.get("min_hwe_kernel").unwrap_or("").to_string(),
        hardware_uuid: i.get_nonempty("hardware_uuid").map(str::to_string),
    };
    let system_id = machines::create(app, user, r).await?;
    let m = machines::get(app, &system_id).await?;
    if user.is_none() {
        return Ok(anonymous_view(&m));
    }
    Ok(machine_response(&m))
}

pub async fn update(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let user = req.admin()?;
    let i = &req.input;
    let mut r = machine_fields::update(|k| i.get(k).map(str::to_string))?;
    r.power_type = i.get("power_type").map(|s| s.trim().to_string());
    r.power_params = power_params(req);
    machines::update(app, user, system_id, r).await?;
    current(app, system_id).await
}
