//! `fabrics/{fabric}/vlans/`, `fabrics/{fabric}/vlans/{vid}/`, `vlans/` and
//! `vlans/{id}/`.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json, no_content};
use crate::api::check::Check;
use crate::api::networks::{check_vlan_name, nonempty};
use crate::error::Result;
use crate::services::network::vlans::{self, VlanParams, VlanPatch, VlanRef};

pub async fn fabric_collection(
    State(app): State<App>,
    Path(fabric): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&vlans::on_fabric(&app, &fabric).await?)),
        (&Method::POST, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let vid = ck.int_between("vid", 1, 4094);
            if vid.is_none() && !ck.has("vid") {
                ck.add("vid", "This field is required.");
            }
            let name = nonempty(&ck, "name");
            if let Some(n) = &name {
                check_vlan_name(&mut ck, n);
            }
            let p = VlanParams {
                vid,
                name,
                mtu: ck.int_between("mtu", 552, 65535).unwrap_or(1500),
                description: ck.text("description").unwrap_or_default(),
                space: nonempty(&ck, "space"),
            };
            let out = vlans::create(&app, &fabric, p, ck.into_errors()).await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&vlans::list(&app).await?)),
        _ => Err(req.unknown_op()),
    }
}

pub async fn item(State(app): State<App>, Path(id): Path<String>, req: Req) -> Result<Response> {
    vlan_item(&app, &req, VlanRef::Id(id)).await
}

pub async fn fabric_item(
    State(app): State<App>,
    Path((fabric, vid)): Path<(String, String)>,
    req: Req,
) -> Result<Response> {
    vlan_item(&app, &req, VlanRef::FabricVid(fabric, vid)).await
}

async fn vlan_item(app: &App, req: &Req, r: VlanRef) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => Ok(json(&vlans::get(app, &r).await?)),
        (&Method::PUT, None) => {
            req.admin()?;
            let mut ck = Check::new(&req.input);
            let name = ck.text("name");
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                check_vlan_name(&mut ck, n);
            }
            let p = VlanPatch {
                name,
                description: ck.text("description"),
                vid: ck.int("vid"),
                mtu: ck.int_between("mtu", 552, 65535),
                space: ck.text("space"),
                primary_rack: ck.text("primary_rack"),
                secondary_rack: ck.text("secondary_rack"),
                relay_vlan: ck.text("relay_vlan"),
                dhcp_on: ck.bool("dhcp_on"),
            };
            Ok(json(&vlans::update(app, &r, p, ck.into_errors()).await?))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            vlans::delete(app, &r).await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}
