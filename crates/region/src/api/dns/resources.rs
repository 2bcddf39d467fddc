//! `dnsresources/` and `dnsresources/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::dns::RECORD_TTL_MAX;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::dns::records::record_json;
use crate::api::dns::{text, ttl};
use crate::error::Result;
use crate::services::dns::resources::{
    self, IpView, ListRequest, Listed, ResourceRequest, ResourceView,
};

/// MAAS's USER_RESERVED static address type.
const USER_RESERVED: i32 = 4;

fn ip_json(i: &IpView) -> Value {
    json!({
        "alloc_type": USER_RESERVED,
        "alloc_type_name": "User reserved",
        "created": i.row.created.format("%a, %d %b. %Y %H:%M:%S").to_string(),
        "ip": i.row.ip,
        "owner": i.row.owner.as_ref().map(|u| crate::render::user_ref(
            &u.username, &u.email, u.is_superuser, u.is_local,
        )),
        "interface_set": [],
        "subnet": i.subnet,
        "resource_uri": "/MAAS/api/2.0/ipaddresses/",
    })
}

pub fn resource_json(v: &ResourceView) -> Value {
    json!({
        "id": v.row.id,
        "fqdn": v.row.fqdn(),
        "address_ttl": v.row.address_ttl,
        "ip_addresses": v.ips.iter().map(ip_json).collect::<Vec<_>>(),
        "resource_records": v.records.iter().map(record_json).collect::<Vec<_>>(),
        "resource_uri": format!("/MAAS/api/2.0/dnsresources/{}/", v.row.id),
    })
}

fn listed_json(l: &Listed) -> Value {
    match l {
        Listed::Resource(v) => resource_json(v),
        Listed::Implicit { fqdn, records } => json!({
            "id": -1,
            "fqdn": fqdn,
            "address_ttl": null,
            "ip_addresses": null,
            "resource_records": records.iter().map(|r| json!({
                "system_id": r.system_id,
                "node_type": r.node_type,
                "user_id": null,
                "dnsresource_id": null,
                "ttl": null,
                "rrtype": r.rrtype,
                "rrdata": r.rrdata,
                "dnsdata_id": null,
            })).collect::<Vec<_>>(),
            "resource_uri": "/MAAS/api/2.0/dnsresources/-1/",
        }),
    }
}

fn request(req: &Req) -> (ResourceRequest, maas_model::constraints::FieldErrors) {
    let mut ck = Check::new(&req.input);
    let r = ResourceRequest {
        fqdn: text(&req.input, "fqdn"),
        name: text(&req.input, "name"),
        domain: text(&req.input, "domain"),
        address_ttl: ttl(&mut ck, &req.input, "address_ttl", 0, RECORD_TTL_MAX),
        ip_addresses: req.input.get("ip_addresses").map(str::to_string),
    };
    (r, ck.into_errors())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    let user = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut ck = Check::new(&req.input);
            let all = ck.bool("all").unwrap_or(false);
            ck.finish()?;
            let r = ListRequest {
                fqdn: text(&req.input, "fqdn"),
                name: text(&req.input, "name"),
                domain: text(&req.input, "domain"),
                rrtype: text(&req.input, "rrtype").map(|t| t.to_uppercase()),
                all,
            };
            Ok(json(
                &resources::list(&app, r)
                    .await?
                    .iter()
                    .map(listed_json)
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&resource_json(
                &resources::create(&app, user, r, errs).await?,
            )))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    let user = req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&resource_json(&resources::get(&app, &id).await?))),
        (&Method::PUT, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&resource_json(
                &resources::update(&app, user, &id, r, errs).await?,
            )))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            resources::delete(&app, &id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
