//! `devices/`, `devices/{system_id}/`, and the node-wide resources that list
//! devices beside machines: `nodes/`, `nodes/{system_id}/`,
//! `nodes/{system_id}/interfaces/`; also `regioncontrollers/` and
//! `static-routes/`.

pub mod interfaces;
pub mod nodes;
pub mod regions;
mod staticroutes;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;
use maas_model::filter::MachineFilter;
use maas_model::ids;
use serde_json::Value;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::error::{Error, Result};
use crate::render::devices::device;
use crate::services::devices::{self, CreateRequest, Filter, FullDevice, UpdateRequest};
use crate::services::machines;

pub fn routes(api: &str) -> Router<App> {
    Router::new()
        .route(&format!("{api}/devices/"), any(collection))
        .route(&format!("{api}/devices/{{system_id}}/"), any(item))
        .route(&format!("{api}/nodes/"), any(nodes::collection))
        .route(&format!("{api}/nodes/{{system_id}}/"), any(nodes::item))
        .route(
            &format!("{api}/regioncontrollers/"),
            any(regions::collection),
        )
        .route(
            &format!("{api}/regioncontrollers/{{system_id}}/"),
            any(regions::item),
        )
        .route(
            &format!("{api}/static-routes/"),
            any(staticroutes::collection),
        )
        .route(
            &format!("{api}/static-routes/{{id}}/"),
            any(staticroutes::item),
        )
}

pub fn device_json(d: &FullDevice) -> Value {
    device(&d.row, &d.shared, &d.interfaces)
}

/// MAAS's node read filters, as they apply to devices (which have no pool
/// and no agent name).
pub fn filter(req: &Req) -> Result<Filter> {
    let f = MachineFilter::from_read_params(&req.input.params).map_err(Error::Validation)?;
    Ok(Filter {
        ids: f.system_id.any,
        hostnames: f.hostname.any,
        macs: f.mac,
        domains: f.domain.any,
        zone: req.input.get_nonempty("zone").map(str::to_string),
        owner: None,
        none: req.input.get_nonempty("pool").is_some()
            || f.agent_name.any.iter().any(|a| !a.is_empty()),
    })
}

async fn list(app: &App, req: &Req) -> Result<Vec<Value>> {
    let u = req.user()?;
    let all = devices::list(app, u, filter(req)?).await?;
    Ok(all.iter().map(device_json).collect())
}

/// A hostname as given (`host` or `host.domain`), into the host part and,
/// from the name, the domain.
fn host_and_domain(c: &mut Check, given: &str, domain: &mut Option<String>) -> Option<String> {
    match ids::split_fqdn(given.trim()) {
        Ok((host, in_name)) => {
            if let Some(d) = in_name
                && domain.is_none()
            {
                *domain = Some(d.to_string());
            }
            Some(host.to_string())
        }
        Err(e) => {
            c.add("hostname", e);
            None
        }
    }
}

async fn create(app: &App, req: &Req) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    let mut c = Check::new(i);
    let raw = i.list("mac_addresses");
    if raw.is_empty() {
        c.add("mac_addresses", "This field is required.");
    }
    let mut macs: Vec<String> = Vec::new();
    for m in &raw {
        match ids::normalize_mac(m) {
            Some(n) if !macs.contains(&n) => macs.push(n),
            Some(_) => c.add("mac_addresses", format!("'{m}' is given twice.")),
            None => c.add(
                "mac_addresses",
                format!("'{m}' is not a valid MAC address."),
            ),
        }
    }
    let mut domain = i.get_nonempty("domain").map(str::to_string);
    let hostname = match i.get_nonempty("hostname") {
        Some(h) => host_and_domain(&mut c, h, &mut domain),
        None => None,
    };
    c.finish()?;
    let r = CreateRequest {
        hostname,
        domain,
        macs,
        parent: i.get_nonempty("parent").map(str::to_string),
        description: i.get("description").unwrap_or("").to_string(),
        zone: i.get_nonempty("zone").map(str::to_string),
    };
    let sid = devices::create(app, u, r).await?;
    Ok(json(&device_json(&devices::get(app, &sid).await?)))
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&list(&app, &req).await?)),
        (&Method::POST, None) => create(&app, &req).await,
        (&Method::GET, Some("is_registered")) => {
            req.user()?;
            let mac = req
                .input
                .get_nonempty("mac_address")
                .ok_or_else(|| Error::field("mac_address", "This field is required."))?;
            let mac = ids::normalize_mac(mac)
                .ok_or_else(|| Error::field("mac_address", "Invalid MAC address."))?;
            Ok(json(&machines::is_registered(&app, &mac).await?))
        }
        (&Method::POST, Some("set_zone")) => {
            req.admin()?;
            let zone = req
                .input
                .get_nonempty("zone")
                .ok_or_else(|| Error::field("zone", "This field is required."))?;
            devices::set_zone(&app, zone, &req.input.list("nodes")).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

async fn update(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    let mut c = Check::new(i);
    let mut domain = i.get_nonempty("domain").map(str::to_string);
    let hostname = match i.get_nonempty("hostname") {
        Some(h) => host_and_domain(&mut c, h, &mut domain),
        None => None,
    };
    c.finish()?;
    let r = UpdateRequest {
        hostname,
        domain,
        description: i.get("description").map(str::to_string),
        parent: i
            .get("parent")
            .map(|p| Some(p.trim().to_string()).filter(|p| !p.is_empty())),
        zone: i.get_nonempty("zone").map(str::to_string),
    };
    devices::update(app, u, system_id, r).await?;
    current(app, system_id).await
}

async fn current(app: &App, system_id: &str) -> Result<Response> {
    Ok(json(&device_json(&devices::get(app, system_id).await?)))
}

pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            current(&app, &system_id).await
        }
        (&Method::PUT, None) => update(&app, &req, &system_id).await,
        (&Method::DELETE, None) => {
            let u = req.user()?;
            devices::delete(&app, u, &system_id).await?;
            Ok(no_content())
        }
        (&Method::POST, Some("set_owner_data" | "set_workload_annotations")) => {
            let u = req.user()?;
            let changes: Vec<(String, String)> = req
                .input
                .params
                .iter()
                .filter(|(k, _)| *k != "op")
                .map(|(k, v)| (k.clone(), v.last().cloned().unwrap_or_default()))
                .collect();
            devices::set_owner_data(&app, u, &system_id, &changes).await?;
            current(&app, &system_id).await
        }
        (
            &Method::POST,
            Some("restore_networking_configuration" | "restore_default_configuration"),
        ) => {
            devices::get(&app, &system_id).await?;
            req.admin()?;
            devices::restore_networking(&app, &system_id).await?;
            current(&app, &system_id).await
        }
        (&Method::GET, Some("power_parameters")) => {
            devices::get(&app, &system_id).await?;
            req.admin()?;
            Ok(json(&serde_json::json!({})))
        }
        _ => Err(req.unknown_op()),
    }
}
