//! `version/` and `describe/`: the anonymous documents clients read first.
//! `describe/` lists every handler with its URI template, parameters and
//! actions; python-libmaas and the `maas` CLI build their calls from it.

use axum::response::Response;
use serde_json::{Value, json};

use crate::api::app::{Req, json};

mod core;
mod devices;
mod dns;
mod interfaces;
mod misc;
mod storage;

/// Every area's handlers, in the order `describe/` lists them. An area
/// adds its table here (one file per area keeps merges apart).
fn tables() -> [&'static [Resource]; 6] {
    [
        core::RESOURCES,
        dns::RESOURCES,
        devices::RESOURCES,
        interfaces::RESOURCES,
        storage::RESOURCES,
        misc::RESOURCES,
    ]
}

pub const VERSION: &str = "3.5.0";

pub async fn version(_req: Req) -> Response {
    json(&json!({
        "capabilities": [
            "networks-management", "static-ipaddresses", "ipv6-deployment-ubuntu",
            "devices-management", "storage-deployment-ubuntu", "network-deployment-ubuntu",
            "bridging-interface-ubuntu", "bridging-automatic-ubuntu", "authenticate-api"
        ],
        "version": VERSION,
        "subversion": concat!("maas-rs ", env!("CARGO_PKG_VERSION")),
    }))
}

pub type Act = (&'static str, &'static str, Option<&'static str>);

/// (resource name, anonymous handler, authenticated handler)
pub type Resource = (&'static str, Option<Handler>, Option<Handler>);

/// A handler: (name, path under /MAAS/api/2.0, params, doc, actions).
pub struct Handler {
    pub name: &'static str,
    pub path: &'static str,
    pub params: &'static [&'static str],
    pub doc: &'static str,
    pub actions: &'static [Act],
}

pub const R: Act = ("read", "GET", None);
pub const C: Act = ("create", "POST", None);
pub const U: Act = ("update", "PUT", None);
pub const D: Act = ("delete", "DELETE", None);

pub const fn post(op: &'static str) -> Act {
    (op, "POST", Some(op))
}
pub const fn get(op: &'static str) -> Act {
    (op, "GET", Some(op))
}

/// An authenticated-only resource whose handler has the resource's name.
pub const fn auth(
    name: &'static str,
    path: &'static str,
    params: &'static [&'static str],
    doc: &'static str,
    actions: &'static [Act],
) -> Resource {
    (
        name,
        None,
        Some(Handler {
            name,
            path,
            params,
            doc,
            actions,
        }),
    )
}

fn handler_json(h: &Handler, base: &str) -> Value {
    let path = format!("/MAAS/api/2.0{}", h.path);
    json!({
        "name": h.name,
        "doc": h.doc,
        "path": path,
        "uri": format!("{base}{path}"),
        "params": h.params,
        "actions": h.actions.iter().map(|(name, method, op)| json!({
            "name": name, "method": method, "op": op, "restful": op.is_none(), "doc": "",
        })).collect::<Vec<_>>(),
    })
}

pub fn describe_doc(base: &str) -> Value {
    let mut handlers = Vec::new();
    let resources: Vec<Value> = tables()
        .into_iter()
        .flatten()
        .map(|(name, anon, auth)| {
            let a = anon.as_ref().map(|h| handler_json(h, base));
            let b = auth.as_ref().map(|h| handler_json(h, base));
            handlers.extend(a.iter().cloned());
            handlers.extend(b.iter().cloned());
            json!({"name": name, "anon": a, "auth": b})
        })
        .collect();
    json!({
        "doc": "MAAS API",
        "hash": concat!("maas-rs-", env!("CARGO_PKG_VERSION")),
        "resources": resources,
        "handlers": handlers,
    })
}

pub async fn describe(req: Req) -> Response {
    json(&describe_doc(&req.base_url()))
}
