//! `nodes/{system_id}/interfaces/` and `nodes/{system_id}/interfaces/{id}/`:
//! list and create (physical, bond, bridge, VLAN); read, update, delete,
//! link and unlink subnets, disconnect, default gateway, tags.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;
use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::error::{Error, Result};
use crate::services::interfaces::links::{self, LinkRequest, Mode};
use crate::services::interfaces::{self, IfaceSpec, Kind, params};
use crate::services::machines;
use crate::services::network::not_found;

pub fn routes(api: &str) -> Router<App> {
    Router::new()
        .route(
            &format!("{api}/nodes/{{system_id}}/interfaces/"),
            any(collection),
        )
        .route(
            &format!("{api}/nodes/{{system_id}}/interfaces/{{id}}/"),
            any(item),
        )
}

/// A parameter given with an empty value: drop the stored one.
fn present_empty(req: &Req, key: &str) -> bool {
    req.input.get(key).is_some_and(|v| v.trim().is_empty())
}

/// Every interface parameter the request carries, checked.
fn spec(req: &Req, c: &mut Check, parent_keys: &[&str]) -> IfaceSpec {
    let i = &req.input;
    let mut s = IfaceSpec {
        name: c.text("name").filter(|n| !n.is_empty()),
        ..Default::default()
    };
    if let Some(m) = i.get_nonempty("mac_address") {
        match maas_model::ids::normalize_mac(m) {
            Some(n) => s.mac = Some(n),
            None => c.add("mac_address", format!("'{m}' is not a valid MAC address.")),
        }
    }
    if i.has("tags") {
        s.tags = Some(i.list("tags"));
    }
    if let Some(v) = i.get("vlan") {
        let v = v.trim();
        if v.is_empty() {
            s.vlan = Some(None);
        } else {
            match v.parse::<i64>() {
                Ok(id) => s.vlan = Some(Some(id)),
                Err(_) => c.add(
                    "vlan",
                    "Select a valid choice. That choice is not one of the available choices.",
                ),
            }
        }
    }
    for k in parent_keys {
        if i.has(k) {
            let mut all = s.parents.take().unwrap_or_default();
            all.extend(i.list(k));
            s.parents = Some(all);
        }
    }
    let mut set = |k: &str, v: Option<Value>| s.params.push((k.to_string(), v));
    if let Some(m) = c.int("mtu") {
        if m < 552 {
            c.add("mtu", "Ensure this value is greater than or equal to 552.");
        } else {
            set("mtu", Some(m.into()));
        }
    } else if present_empty(req, "mtu") {
        set("mtu", None);
    }
    if let Some(b) = c.bool("accept_ra") {
        set("accept-ra", Some(b.into()));
    } else if present_empty(req, "accept_ra") {
        set("accept-ra", None);
    }
    let mut errs = FieldErrors::new();
    for (k, v) in params::check(|k| i.get(k).map(str::to_string), &mut errs) {
        set(&k, Some(v));
    }
    for (k, msgs) in errs {
        for m in msgs {
            c.add(&k, m);
        }
    }
    s.enabled = c.bool("enabled");
    s.link_connected = c.bool("link_connected");
    s.link_speed = c
        .int_between("link_speed", 0, i32::MAX as i64)
        .map(|n| n as i32);
    s.interface_speed = c
        .int_between("interface_speed", 0, i32::MAX as i64)
        .map(|n| n as i32);
    s
}

async fn respond(app: &App, req: &Req, system_id: &str, id: i64) -> Result<Response> {
    let u = req.user()?;
    Ok(json(&interfaces::get(app, u, system_id, id).await?))
}

pub async fn collection(
    State(app): State<App>,
    Path(system_id): Path<String>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    if crate::services::devices::exists(&app, &system_id).await? {
        return crate::api::devices::nodes::interfaces(&app, &req, &system_id).await;
    }
    let kind = match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let m = machines::get_visible(&app, u, &system_id).await?;
            return Ok(json(&m.related.interfaces));
        }
        (&Method::POST, Some("create_physical")) => Kind::Physical,
        (&Method::POST, Some("create_bond")) => Kind::Bond,
        (&Method::POST, Some("create_bridge")) => Kind::Bridge,
        (&Method::POST, Some("create_vlan")) => Kind::Vlan,
        _ => return Err(req.unknown_op()),
    };
    if kind == Kind::Bridge && req.input.has("parent") && req.input.has("parents") {
        return Err(Error::BadRequest(
            "Cannot specify both parent and parents fields.".into(),
        ));
    }
    let keys: &[&str] = match kind {
        Kind::Physical => &[],
        Kind::Bond => &["parents"],
        Kind::Bridge | Kind::Vlan => &["parent", "parents"],
    };
    let mut c = Check::new(&req.input);
    let s = spec(&req, &mut c, keys);
    let errs = c.into_errors();
    let id = interfaces::create(&app, u, &system_id, kind, s, errs).await?;
    respond(&app, &req, &system_id, id).await
}

pub async fn item(
    State(app): State<App>,
    Path((system_id, id)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    let u = req.user()?;
    let id: i64 = id.trim().parse().map_err(|_| not_found("Interface"))?;
    let sid = system_id.as_str();
    if crate::services::devices::exists(&app, sid).await? {
        return crate::api::devices::interfaces::item(&app, &req, sid, id).await;
    }
    match (&req.method, req.op()) {
        (&Method::GET, None) => respond(&app, &req, sid, id).await,
        (&Method::PUT, None) => {
            let mut c = Check::new(&req.input);
            let s = spec(&req, &mut c, &["parent", "parents"]);
            interfaces::update(&app, u, sid, id, s, c.into_errors()).await?;
            respond(&app, &req, sid, id).await
        }
        (&Method::DELETE, None) => {
            interfaces::delete(&app, u, sid, id).await?;
            Ok(no_content())
        }
        (&Method::POST, Some("link_subnet")) => {
            let i = &req.input;
            let mut errs = FieldErrors::new();
            let mut add = |f: &str, m: String| errs.entry(f.to_string()).or_default().push(m);
            let mode = match i.get_nonempty("mode") {
                None => {
                    add("mode", "This field is required.".into());
                    None
                }
                Some(m) => {
                    let p = Mode::parse(m);
                    if p.is_none() {
                        let choices = ["auto", "dhcp", "static", "link_up"];
                        add("mode", params::invalid_choice(m.trim(), "mode", &choices));
                    }
                    p
                }
            };
            let force = i.bool("force")?.unwrap_or(false);
            let default_gateway = i.bool("default_gateway")?.unwrap_or(false);
            let ip = match i.get_nonempty("ip_address") {
                Some(v) => links::parse_ip(v, "ip_address", &mut errs),
                None => None,
            };
            let r = LinkRequest {
                mode,
                subnet: i.get_nonempty("subnet").map(|s| s.trim().to_string()),
                ip,
                default_gateway,
                force,
            };
            links::link_subnet(&app, u, sid, id, r, errs).await?;
            respond(&app, &req, sid, id).await
        }
        (&Method::POST, Some("unlink_subnet")) => {
            links::unlink_subnet(&app, u, sid, id, req.input.get_nonempty("id")).await?;
            respond(&app, &req, sid, id).await
        }
        (&Method::POST, Some("disconnect")) => {
            links::disconnect(&app, u, sid, id).await?;
            respond(&app, &req, sid, id).await
        }
        (&Method::POST, Some("set_default_gateway")) => {
            let link = req.input.get_nonempty("link_id");
            links::set_default_gateway(&app, u, sid, id, link).await?;
            respond(&app, &req, sid, id).await
        }
        (&Method::POST, Some(op @ ("add_tag" | "remove_tag"))) => {
            let tag = req
                .input
                .get_nonempty("tag")
                .ok_or_else(|| Error::field("tag", "This field is required."))?;
            interfaces::tag(&app, u, sid, id, tag.trim(), op == "add_tag").await?;
            respond(&app, &req, sid, id).await
        }
        _ => Err(req.unknown_op()),
    }
}
