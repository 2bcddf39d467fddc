//! `domains/` and `domains/{id}/`: DNS domains as MAAS renders them.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::dns::{DOMAIN_TTL_MAX, SERIAL_MAX};
use serde_json::{Value, json};

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::dns::{text, ttl};
use crate::error::{Error, Result};
use crate::services::dns::domains::{self, Domain, DomainRequest};

pub fn domain_json(d: &Domain) -> Value {
    json!({
        "id": d.id,
        "name": d.name,
        "ttl": d.ttl,
        "authoritative": d.authoritative,
        "is_default": d.is_default,
        "resource_record_count": d.resource_record_count,
        "resource_uri": format!("/MAAS/api/2.0/domains/{}/", d.id),
    })
}

fn request(req: &Req) -> (DomainRequest, maas_model::constraints::FieldErrors) {
    let mut ck = Check::new(&req.input);
    let r = DomainRequest {
        name: text(&req.input, "name"),
        ttl: ttl(&mut ck, &req.input, "ttl", 1, DOMAIN_TTL_MAX),
        authoritative: match req.input.get_nonempty("authoritative") {
            Some(_) => ck.bool("authoritative"),
            None => None,
        },
    };
    (r, ck.into_errors())
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(
            &domains::list(&app)
                .await?
                .iter()
                .map(domain_json)
                .collect::<Vec<_>>(),
        )),
        (&Method::POST, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&domain_json(&domains::create(&app, r, errs).await?)))
        }
        (&Method::POST, Some("set_serial")) => {
            req.admin()?;
            let Some(v) = req.input.get("serial") else {
                return Err(Error::field("serial", "Missing parameter"));
            };
            let serial: i64 = v
                .trim()
                .parse()
                .map_err(|_| Error::field("serial", "Expected a serial number"))?;
            if !(1..=SERIAL_MAX).contains(&serial) {
                return Err(Error::field(
                    "serial",
                    format!("Expected a serial number between 1 and {SERIAL_MAX}"),
                ));
            }
            domains::set_serial(&app, serial).await?;
            Ok(json(&Value::Null))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&domain_json(&domains::get(&app, &id).await?))),
        (&Method::PUT, None) => {
            req.admin()?;
            let (r, errs) = request(&req);
            Ok(json(&domain_json(
                &domains::update(&app, &id, r, errs).await?,
            )))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            domains::delete(&app, &id).await?;
            Ok(no_content())
        }
        (&Method::POST, Some("set_default")) => {
            req.admin()?;
            Ok(json(&domain_json(&domains::set_default(&app, &id).await?)))
        }
        _ => Err(req.unknown_op()),
    }
}
