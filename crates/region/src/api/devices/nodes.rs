//! `nodes/`: every node the caller may see (devices, machines, rack
//! controllers, as MAAS lists them); `nodes/{system_id}/` and its interfaces
//! for devices as well as machines (machines keep their handlers).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maas_model::filter::MachineFilter;

use crate::api::app::{App, Req, json, json_bytes, no_content};
use crate::api::check::Check;
use crate::api::devices::regions::region_json;
use crate::api::devices::{device_json, filter};
use crate::api::rackcontrollers::rack_json;
use crate::error::{Error, Result};
use crate::services::devices::InterfaceRequest;
use crate::services::{devices, load, machines, racks, regions};

async fn list(app: &App, req: &Req) -> Result<Response> {
    let u = req.user()?;
    let dfilter = filter(req)?;
    let mut mf = MachineFilter::from_read_params(&req.input.params).map_err(Error::Validation)?;
    mf.visibility = u.visibility();
    let devs = devices::list(app, u, dfilter.clone()).await?;
    let machines = load::list(app, &mf, None).await?;
    let mut parts: Vec<Vec<u8>> = devs
        .iter()
        .map(|d| serde_json::to_vec(&device_json(d)).unwrap_or_default())
        .collect();
    // The machines' array, without its brackets.
    let inner = &machines.body[1..machines.body.len().saturating_sub(1)];
    if !inner.is_empty() {
        parts.push(inner.to_vec());
    }
    // Controllers are the admins' to see; only the id and hostname filters
    // apply to them.
    let others = ["mac_address", "domain", "zone", "pool", "agent_name"];
    if u.is_superuser && !others.iter().any(|k| req.input.has(k)) {
        for r in racks::list(&app.db, None).await? {
            let sid_ok = dfilter.ids.is_empty() || dfilter.ids.contains(&r.row.system_id);
            let host_ok =
                dfilter.hostnames.is_empty() || dfilter.hostnames.contains(&r.row.hostname);
            if sid_ok && host_ok {
                parts.push(serde_json::to_vec(&rack_json(&r)).unwrap_or_default());
            }
        }
        for r in regions::list(&app.db, None).await? {
            let sid_ok = dfilter.ids.is_empty() || dfilter.ids.contains(&r.system_id);
            let host_ok = dfilter.hostnames.is_empty() || dfilter.hostnames.contains(&r.hostname);
            if sid_ok && host_ok {
                parts.push(serde_json::to_vec(&region_json(&r)).unwrap_or_default());
            }
        }
    }
    let mut body = b"[".to_vec();
    body.extend(parts.join(&b","[..]));
    body.push(b']');
    Ok(json_bytes(StatusCode::OK, body))
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => list(&app, &req).await,
        (&Method::GET, Some("is_registered")) => {
            req.user()?;
            let mac = req
                .input
                .get_nonempty("mac_address")
                .ok_or_else(|| Error::BadRequest("No provided mac_address!".into()))?;
            let mac = maas_model::ids::normalize_mac(mac)
                .ok_or_else(|| Error::field("mac_address", "Invalid MAC address."))?;
            Ok(json(&machines::is_registered(&app, &mac).await?))
        }
        (&Method::POST, Some("set_zone")) => {
            let u = req.admin()?;
            let zone = req
                .input
                .get_nonempty("zone")
                .ok_or_else(|| Error::field("zone", "This field is required."))?;
            let ids = req.input.list("nodes");
            machines::set_zone(&app, u, zone, &ids).await?;
            devices::set_zone(&app, zone, &ids).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

/// `nodes/{system_id}/`: a device is read (or deleted by an admin) here;
/// anything else is the machine handler's.
pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    if devices::exists(&app, &system_id).await? {
        return match (&req.method, req.op()) {
            (&Method::GET, None) => {
                req.user()?;
                Ok(json(&device_json(&devices::get(&app, &system_id).await?)))
            }
            (&Method::DELETE, None) => {
                let u = req.admin()?;
                devices::delete(&app, u, &system_id).await?;
                Ok(no_content())
            }
            _ => Err(req.unknown_op()),
        };
    }
    crate::api::machines::item(State(app), Path(system_id), req).await
}

/// `nodes/{system_id}/interfaces/`: a device's interfaces, or the machine
/// handler's.
/// `nodes/{system_id}/interfaces/` of a device: list; `op=create_physical`.
pub async fn interfaces(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            req.user()?;
            let d = devices::get(app, system_id).await?;
            Ok(json(&d.interfaces))
        }
        (&Method::POST, Some("create_physical")) => create_physical(app, req, system_id).await,
        _ => Err(req.unknown_op()),
    }
}

/// A physical interface added to a device (Juju adds a container's NICs so).
async fn create_physical(app: &App, req: &Req, system_id: &str) -> Result<Response> {
    let u = req.user()?;
    let i = &req.input;
    let mut c = Check::new(i);
    let mac = match i.get_nonempty("mac_address") {
        None => {
            c.add("mac_address", "This field is required.");
            None
        }
        Some(m) => {
            let n = maas_model::ids::normalize_mac(m);
            if n.is_none() {
                c.add("mac_address", format!("'{m}' is not a valid MAC address."));
            }
            n
        }
    };
    let vlan = c.int("vlan");
    c.finish()?;
    let r = InterfaceRequest {
        mac: mac.unwrap_or_default(),
        name: i.get_nonempty("name").map(str::to_string),
        vlan,
        tags: i.list("tags"),
        link_speed: 0,
    };
    let name = devices::add_interface(app, u, system_id, r).await?;
    let d = devices::get(app, system_id).await?;
    let iface = d.interfaces.iter().find(|x| x.name == name);
    Ok(json(&iface))
}
