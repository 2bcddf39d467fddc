//! Machine actions: the request's options become a typed `ActionRequest`.

use axum::response::Response;
use maas_model::Action;
use maas_model::filter::MachineFilter;

use crate::api::app::{App, Req, json};
use crate::api::machines::read::{listing_response, visible_to};
use crate::error::{Error, Result};
use crate::services::actions::{self, ActionRequest, CommissionOptions, DeployRequest};
use crate::services::{load, machines};

/// `user_data` is base64 (MAAS).
fn decode_user_data(b: &[u8]) -> Result<Vec<u8>> {
    use base64::Engine;
    let clean: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&clean)
        .map_err(|_| Error::field("user_data", "user_data must be base64-encoded."))
}

/// The action's options from the request.
fn parse(req: &Req, action: Action) -> Result<ActionRequest> {
    let i = &req.input;
    let mut r = ActionRequest::new(action);
    r.comment = i.get_nonempty("comment").map(str::to_string);
    r.agent_name = i.get("agent_name").unwrap_or("").to_string();
    match action {
        Action::Deploy => {
            let user_data = match i.text_or_file("user_data") {
                Some(b) if !b.is_empty() => Some(decode_user_data(&b)?),
                _ => None,
            };
            r.deploy = DeployRequest {
                osystem: i.get_nonempty("osystem").map(str::to_string),
                distro_series: i.get_nonempty("distro_series").map(str::to_string),
                hwe_kernel: i.get_nonempty("hwe_kernel").map(str::to_string),
                user_data,
                ephemeral: i.bool("ephemeral_deploy")?.unwrap_or(false),
            };
        }
        Action::Release => {
            r.secure_erase = i.bool("secure_erase")?.unwrap_or(false);
            r.quick_erase = i.bool("quick_erase")?.unwrap_or(false);
            r.erase = i.bool("erase")?.unwrap_or(false) || r.secure_erase || r.quick_erase;
        }
        Action::Commission => {
            r.commission = CommissionOptions {
                enable_ssh: i.bool("enable_ssh")?.unwrap_or(false),
                skip_bmc_config: i.bool("skip_bmc_config")?.unwrap_or(false),
                skip_networking: i.bool("skip_networking")?.unwrap_or(false),
                skip_storage: i.bool("skip_storage")?.unwrap_or(false),
            };
        }
        Action::Test => {
            r.commission.enable_ssh = i.bool("enable_ssh")?.unwrap_or(false);
        }
        Action::MarkBroken => {
            r.reason = i
                .get_nonempty("comment")
                .or(i.get_nonempty("error_description"))
                .unwrap_or("")
                .to_string();
        }
        Action::PowerOff => {
            if let Some(mode) = i.get_nonempty("stop_mode")
                && mode != "soft"
                && mode != "hard"
            {
                return Err(Error::field(
                    "stop_mode",
                    "stop_mode must be 'soft' or 'hard'.",
                ));
            }
            r.soft_off = i.get_nonempty("stop_mode") == Some("soft");
        }
        _ => {}
    }
    Ok(r)
}

/// `op=<action>` on one machine; answers with the machine after it.
pub async fn run(app: &App, req: &Req, system_id: &str, action: Action) -> Result<Response> {
    let user = req.user()?;
    let r = parse(req, action)?;
    actions::run(app, user, system_id, &r).await?;
    super::current(app, system_id).await
}

/// `machines/?op=release&machines=…`.
pub async fn release_many(app: &App, req: &Req) -> Result<Response> {
    let user = req.user()?;
    let r = parse(req, Action::Release)?;
    let ids = req.input.list("machines");
    actions::check_known(app, &ids).await?;
    let mut released = Vec::new();
    for sid in ids {
        actions::run(app, user, &sid, &r).await?;
        released.push(sid);
    }
    Ok(json(&released))
}

/// `op=accept` / `op=accept_all`: enlisted machines go to commissioning.
pub async fn accept(app: &App, req: &Req, all: bool) -> Result<Response> {
    let u = req.admin()?;
    let ids = if all {
        machines::enlisted(app).await?
    } else {
        let ids = req.input.list("machines");
        actions::check_known(app, &ids).await?;
        ids
    };
    let accepted = actions::accept(app, u, &ids).await?;
    let mut f: MachineFilter = visible_to(u);
    f.system_id.any = accepted;
    if f.system_id.any.is_empty() {
        f.id = Some(-1);
    }
    Ok(listing_response(load::list(app, &f, None).await?))
}
