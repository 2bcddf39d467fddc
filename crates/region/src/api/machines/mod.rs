//! `machines/`, `machines/{system_id}/` and the node sub-resources: parse,
//! authorize, call the machine services, render.

mod actions;
mod read;
mod write;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use maas_model::{Action, ids};
use serde_json::json;

use crate::api::app::{App, Req, json, json_bytes, no_content};
use crate::api::misc;
use crate::error::{Error, Result};
use crate::render::{FullMachine, machine_to_json};
use crate::services::{allocate, machines, power};

pub use read::listing_response;

pub fn machine_response(m: &FullMachine) -> Response {
    json_bytes(StatusCode::OK, machine_to_json(m))
}

/// The machine as it is now, rendered.
async fn current(app: &App, system_id: &str) -> Result<Response> {
    Ok(machine_response(&machines::get(app, system_id).await?))
}

/// The required `mac_address` parameter, normalised.
fn mac_param(req: &Req) -> Result<String> {
    let mac = req
        .input
        .get_nonempty("mac_address")
        .ok_or_else(|| Error::field("mac_address", "This field is required."))?;
    ids::normalize_mac(mac).ok_or_else(|| Error::field("mac_address", "Invalid MAC address."))
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => read::list(&app, &req).await,
        (&Method::POST, None) => write::create(&app, &req).await,
        (&Method::POST, Some("allocate")) => {
            let user = req.user()?;
            let m = allocate::allocate(&app, user, &req.input.params).await?;
            Ok(machine_response(&m))
        }
        (&Method::GET, Some("is_registered")) => Ok(json(
            &machines::is_registered(&app, &mac_param(&req)?).await?,
        )),
        (&Method::GET, Some("is_action_in_progress")) => {
            let mac = mac_param(&req)?;
            Ok(json(&machines::action_in_progress(&app, &mac).await?))
        }
        (&Method::POST, Some("add_chassis")) => {
            req.admin()?;
            Err(Error::BadRequest(
                "Adding a chassis is not supported by this region: it has no chassis \
                 drivers (virsh, VMware, Proxmox, …); add the machines one by one."
                    .into(),
            ))
        }
        (&Method::GET, Some("list_allocated")) => read::list_allocated(&app, &req).await,
        (&Method::GET, Some("power_parameters")) => {
            req.admin()?;
            let out = machines::power_parameters(&app, &req.input.list("id")).await?;
            Ok(json(&out))
        }
        (&Method::POST, Some("release")) => actions::release_many(&app, &req).await,
        (&Method::POST, Some(op @ ("accept" | "accept_all"))) => {
            actions::accept(&app, &req, op == "accept_all").await
        }
        (&Method::POST, Some("set_zone")) => {
            let u = req.admin()?;
            let zone = req
                .input
                .get_nonempty("zone")
                .ok_or_else(|| Error::field("zone", "This field is required."))?;
            machines::set_zone(&app, u, zone, &req.input.list("nodes")).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let u = req.user()?;
            Ok(machine_response(
                &machines::get_visible(&app, u, &system_id).await?,
            ))
        }
        (&Method::PUT, None) => write::update(&app, &req, &system_id).await,
        (&Method::DELETE, None) => {
            let user = req.admin()?;
            machines::delete(&app, user, &system_id).await?;
            Ok(no_content())
        }
        (&Method::GET, Some("details")) => misc::results::details(&app, &req, &system_id).await,
        (&Method::GET, Some("query_power_state")) => {
            let u = req.user()?;
            let m = machines::get_visible(&app, u, &system_id).await?;
            let state = power::query(&app, &system_id, &m.row.power_state).await?;
            Ok(json(&json!({"state": state})))
        }
        (&Method::GET, Some("power_parameters")) => {
            req.admin()?;
            Ok(json(
                &machines::power_parameters_of(&app, &system_id).await?,
            ))
        }
        (&Method::GET | &Method::POST, Some("get_token")) => {
            req.admin()?;
            let (ck, tk, ts) = machines::token_of(&app, &system_id).await?;
            Ok(json(&json!({
                "consumer_key": ck, "token_key": tk, "token_secret": ts
            })))
        }
        // `set_owner_data` is MAAS's older name.
        (&Method::POST, Some("set_owner_data" | "set_workload_annotations")) => {
            let user = req.user()?;
            let changes: Vec<(String, String)> = req
                .input
                .params
                .iter()
                .filter(|(k, _)| *k != "op")
                .map(|(k, v)| (k.clone(), v.last().cloned().unwrap_or_default()))
                .collect();
            machines::set_owner_data(&app, user, &system_id, &changes).await?;
            current(&app, &system_id).await
        }
        (&Method::POST, Some(op)) if crate::api::storage::MACHINE_OPS.contains(&op) => {
            crate::api::storage::machine_op(&app, &req, &system_id, op).await
        }
        (&Method::POST, Some("clear_default_gateways")) => {
            let u = req.user()?;
            crate::services::interfaces::clear_default_gateways(&app, u, &system_id).await?;
            current(&app, &system_id).await
        }
        (&Method::POST, Some("restore_networking_configuration")) => {
            let u = req.user()?;
            crate::services::interfaces::restore_networking(&app, u, &system_id).await?;
            current(&app, &system_id).await
        }
        (&Method::POST, Some(op)) => match Action::from_op(op) {
            Some(a) => actions::run(&app, &req, &system_id, a).await,
            None => Err(req.unknown_op()),
        },
        _ => Err(req.unknown_op()),
    }
}
