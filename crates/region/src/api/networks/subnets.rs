//! `subnets/` and `subnets/{id}/` (with the `reserved_ip_ranges`,
//! `unreserved_ip_ranges` and `statistics` reads).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use maas_model::constraints::FieldErrors;
use maas_model::net::{self, Cidr};

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::nonempty;
use crate::error::Result;
use crate::services::network::invalid_choice;
use crate::services::network::subnets::{self, Placement, SubnetFields, SubnetRead};

/// The fields of a subnet given (create and update).
fn fields(c: &mut Check, req: &Req) -> SubnetFields {
    let cidr = match c.text("cidr") {
        None => None,
        Some(s) if s.is_empty() => {
            c.add("cidr", "This field cannot be blank.");
            None
        }
        Some(s) => match Cidr::parse(&s) {
            Ok(cidr) => Some(cidr),
            Err(err) => {
                c.add("cidr", err.to_string());
                None
            }
        },
    };
    let gateway = match c.text("gateway_ip") {
        None => None,
        Some(s) if s.is_empty() => Some(None),
        Some(s) => match net::parse_ip(&s) {
            Ok(ip) => Some(Some(ip)),
            Err(_) => {
                c.add("gateway_ip", "Enter a valid IPv4 or IPv6 address.");
                None
            }
        },
    };
    let dns_servers = req.input.has("dns_servers").then(|| {
        let mut out = Vec::new();
        for v in req.input.all("dns_servers") {
            for d in v.split(|ch: char| ch == ',' || ch.is_whitespace()) {
                if d.is_empty() {
                    continue;
                }
                match net::parse_ip(d) {
                    Ok(ip) => out.push(ip.to_string()),
                    Err(err) => c.add("dns_servers", err.to_string()),
                }
            }
        }
        out
    });
    let rdns_mode = c.int("rdns_mode").and_then(|m| {
        if (0..=2).contains(&m) {
            Some(m as i16)
        } else {
            c.add("rdns_mode", invalid_choice(&m.to_string()));
            None
        }
    });
    SubnetFields {
        cidr,
        name: c.text("name"),
        description: c.text("description"),
        gateway,
        dns_servers,
        rdns_mode,
        allow_dns: c.bool("allow_dns"),
        allow_proxy: c.bool("allow_proxy"),
        managed: c.bool("managed"),
        active_discovery: c.bool("active_discovery"),
    }
}

/// `vlan`, `fabric` and `vid`: where the subnet goes.
fn placement(c: &mut Check) -> Placement {
    Placement {
        vlan: nonempty(c, "vlan"),
        fabric: nonempty(c, "fabric"),
        vid: c.int("vid"),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&subnets::list(&app).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let f = fields(&mut ck, &req);
            if f.cidr.is_none() && !ck.has("cidr") {
                ck.add("cidr", "This field is required.");
            }
            let p = placement(&mut ck);
            Ok(json(&subnets::create(&app, f, &p, ck.into_errors()).await?))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(spec): Path<String>, req: Req) -> Result<Response> {
    req.user()?;
    if req.method == Method::GET {
        let mut ck = Check::new(&req.input);
        let what = match req.op() {
            None => SubnetRead::Subnet,
            Some("reserved_ip_ranges") => SubnetRead::Reserved,
            Some("unreserved_ip_ranges") => SubnetRead::Unreserved,
            Some("statistics") => SubnetRead::Statistics {
                ranges: ck.bool("include_ranges").unwrap_or(false),
                suggestions: ck.bool("include_suggestions").unwrap_or(false),
            },
            Some(_) => {
                // An unknown read of an unknown subnet is a 404.
                subnets::get(&app, &spec, SubnetRead::Exists, FieldErrors::new()).await?;
                return Err(req.unknown_op());
            }
        };
        return Ok(json(
            &subnets::get(&app, &spec, what, ck.into_errors()).await?,
        ));
    }
    match (&req.method, req.op()) {
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let f = fields(&mut ck, &req);
            let p = placement(&mut ck);
            let out = subnets::update(&app, &spec, f, &p, ck.into_errors()).await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let force = ck.bool("force").unwrap_or(false);
            ck.finish()?;
            subnets::delete(&app, &spec, force).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
