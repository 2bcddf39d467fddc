//! `dnsresourcerecords/` and `dnsresourcerecords/{id}/` (MAAS's DNSData).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::dns::RECORD_TTL_MAX;
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::dns::{text, ttl};
use crate::error::Result;
use crate::services::dns::records::{self, ListRequest, RecordRequest};
use crate::store::dns::records::DataRow;

pub fn record_json(x: &DataRow) -> Value {
    json!({
        "id": x.id,
        "fqdn": x.fqdn(),
        "ttl": x.ttl,
        "rrtype": x.rrtype,
        "rrdata": x.rrdata,
        "resource_uri": format!("/MAAS/api/2.0/dnsresourcerecords/{}/", x.id),
    })
}

fn request(req: &Req) -> (RecordRequest, maas_model::constraints::FieldErrors) {
    let mut ck = Check::new(&req.input);
    let r = RecordRequest {
        fqdn: text(&req.input, "fqdn"),
        name: text(&req.input, "name"),
        domain: text(&req.input, "domain"),
        rrtype: text(&req.input, "rrtype"),
        rrdata: text(&req.input, "rrdata"),
        ttl: ttl(&mut ck, &req.input, "ttl", 0, RECORD_TTL_MAX),
    };
    (r, ck.into_errors())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let r = ListRequest {
                fqdn: text(&req.input, "fqdn"),
                name: text(&req.input, "name"),
                domain: text(&req.input, "domain"),
                rrtype: text(&req.input, "rrtype"),
            };
            Ok(json(
                &records::list(&app, r)
                    .await?
                    .iter()
                    .map(record_json)
                    .collect::<Vec<_>>(),
            ))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&record_json(&records::create(&app, r, errs).await?)))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&record_json(&records::get(&app, &id).await?))),
        (&Method::PUT, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&record_json(
                &records::update(&app, &id, r, errs).await?,
            )))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            records::delete(&app, &id).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
