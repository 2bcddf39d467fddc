//! Static routes (MAAS's StaticRoute): a source subnet reaches a destination
//! subnet through a gateway in the source; same IP family; unique (source,
//! destination, gateway). Admins write, everyone reads.

use maas_model::constraints::FieldErrors;
use maas_model::net::Cidr;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::render::API;
use crate::services::Ctx;
use crate::services::network::{not_found, read};
use crate::store::networks::subnet_by_spec;
use crate::store::networks::subnets;
use crate::store::regions::{self as db, RouteRow};
use crate::store::{self, Conn};

async fn render(c: &mut Conn, r: &RouteRow) -> Result<Value> {
    Ok(json!({
        "id": r.id,
        "source": read::subnet(c, r.source_id).await?,
        "destination": read::subnet(c, r.destination_id).await?,
        "gateway_ip": r.gateway_ip,
        "metric": r.metric,
        "resource_uri": format!("{API}/static-routes/{}/", r.id),
    }))
}

pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    let mut out = Vec::new();
    for r in db::routes(&mut c, None).await? {
        out.push(render(&mut c, &r).await?);
    }
    Ok(out)
}

fn route_not_found() -> Error {
    not_found("StaticRoute")
}

fn id_of(id: &str) -> Result<i64> {
    id.parse().map_err(|_| route_not_found())
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    let r = db::routes(&mut c, Some(id_of(id)?))
        .await?
        .pop()
        .ok_or_else(route_not_found)?;
    render(&mut c, &r).await
}

/// Fields as given (None: absent; on create, absent required fields are
/// errors).
#[derive(Debug, Default)]
pub struct RouteFields {
    pub source: Option<String>,
    pub destination: Option<String>,
    pub gateway_ip: Option<String>,
    pub metric: Option<i64>,
}

fn add(e: &mut FieldErrors, k: &str, m: impl Into<String>) {
    e.entry(k.to_string()).or_default().push(m.into());
}

/// Apply `f` onto `r` and check the whole route.
async fn apply(c: &mut Conn, r: &mut RouteRow, f: RouteFields, mut e: FieldErrors) -> Result<()> {
    const BAD: &str = "Select a valid choice. That choice is not one of the available choices.";
    for (key, spec, slot) in [
        ("source", &f.source, &mut r.source_id),
        ("destination", &f.destination, &mut r.destination_id),
    ] {
        if let Some(s) = spec {
            match subnet_by_spec(c, s).await? {
                Some(id) => *slot = id,
                None => add(&mut e, key, BAD),
            }
        }
    }
    if let Some(g) = &f.gateway_ip {
        match g.trim().parse::<std::net::IpAddr>() {
            Ok(ip) => r.gateway_ip = ip.to_string(),
            Err(_) => add(&mut e, "gateway_ip", "Enter a valid IPv4 or IPv6 address."),
        }
    }
    if let Some(m) = f.metric {
        match i32::try_from(m) {
            Ok(m) if m >= 0 => r.metric = m,
            _ => add(
                &mut e,
                "metric",
                "Ensure this value is greater than or equal to 0.",
            ),
        }
    }
    if !e.is_empty() {
        return Err(Error::Validation(e));
    }
    let cidr = |s: &subnets::SubnetRow| Cidr::parse(&s.cidr).ok();
    let src = subnets::get(c, r.source_id)
        .await?
        .ok_or_else(|| not_found("Subnet"))?;
    let dst = subnets::get(c, r.destination_id)
        .await?
        .ok_or_else(|| not_found("Subnet"))?;
    let (Some(sc), Some(dc)) = (cidr(&src), cidr(&dst)) else {
        return Err(Error::internal("a subnet's CIDR does not parse"));
    };
    let gw: std::net::IpAddr = r
        .gateway_ip
        .parse()
        .map_err(|_| Error::field("gateway_ip", "Enter a valid IPv4 or IPv6 address."))?;
    if !sc.contains(&gw) {
        return Err(Error::field(
            "gateway_ip",
            format!("Enter an IP address in {}.", src.cidr),
        ));
    }
    let all = |m: &str| Error::field("__all__", m);
    if r.source_id == r.destination_id {
        return Err(all("source and destination cannot be the same subnet."));
    }
    if sc.is_ipv4() != dc.is_ipv4() {
        return Err(all("source and destination must be the same IP version."));
    }
    if db::route_exists(c, r).await? {
        return Err(all(
            "Static route with this Source, Destination and Gateway ip already exists.",
        ));
    }
    Ok(())
}

pub async fn create(ctx: &Ctx, f: RouteFields) -> Result<Value> {
    let mut e = FieldErrors::new();
    for (k, v) in [
        ("source", &f.source),
        ("destination", &f.destination),
        ("gateway_ip", &f.gateway_ip),
    ] {
        if v.is_none() {
            add(&mut e, k, "This field is required.");
        }
    }
    let mut tx = store::begin(&ctx.db).await?;
    let mut r = RouteRow {
        id: -1,
        source_id: -1,
        destination_id: -1,
        gateway_ip: String::new(),
        metric: 0,
    };
    apply(&mut tx, &mut r, f, e).await?;
    r.id = db::insert_route(&mut tx, &r).await?;
    let out = render(&mut tx, &r).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn update(ctx: &Ctx, id: &str, f: RouteFields) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let mut r = db::lock_route(&mut tx, id_of(id)?)
        .await?
        .ok_or_else(route_not_found)?;
    apply(&mut tx, &mut r, f, FieldErrors::new()).await?;
    db::update_route(&mut tx, &r).await?;
    let out = render(&mut tx, &r).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let r = db::lock_route(&mut tx, id_of(id)?)
        .await?
        .ok_or_else(route_not_found)?;
    db::delete_route(&mut tx, r.id).await?;
    tx.commit().await?;
    Ok(())
}
