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
use crate::services::network::{not_found, read};
use crate::store::networks::fabric_by_spec;
use crate::store::networks::vlans::VlanFilter;
use crate::store::{self, Conn};

pub async fn fabric_collection(
    State(app): State<App>,
    Path(spec): Path<String>,
    req: Req,
) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            let fid = fabric_by_spec(&mut c, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
            let f = VlanFilter {
                fabrics: Some(vec![fid]),
                ..VlanFilter::default()
            };
            Ok(json(&read::vlans(&mut c, &f).await?))
        }
        (&Method::POST, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let fid = fabric_by_spec(&mut tx, &spec)
                .await?
                .ok_or_else(|| not_found("Fabric"))?;
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
            let id = vlans::create(&mut tx, fid, p, ck.into_errors()).await?;
            let out = read::vlan(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        _ => Err(req.unknown_op()),
    }
}

pub async fn collection(State(app): State<App>, req: Req) -> Result<Response> {
    req.user()?;
    match (&req.method, req.op()) {
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            Ok(json(&read::vlans(&mut c, &VlanFilter::default()).await?))
        }
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
        (&Method::GET, None) => {
            let mut c = store::acquire(&app.db).await?;
            let id = vlans::resolve(&mut c, &r).await?;
            Ok(json(&read::vlan(&mut c, id).await?))
        }
        (&Method::PUT, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let id = vlans::resolve(&mut tx, &r).await?;
            update(&mut tx, req, id).await?;
            let out = read::vlan(&mut tx, id).await?;
            tx.commit().await?;
            Ok(json(&out))
        }
        (&Method::DELETE, None) => {
            req.admin()?;
            let mut tx = store::begin(&app.db).await?;
            let id = vlans::resolve(&mut tx, &r).await?;
            vlans::delete(&mut tx, id).await?;
            tx.commit().await?;
            Ok(no_content())
        }
        _ => Err(req.unknown_op()),
    }
}

async fn update(c: &mut Conn, req: &Req, id: i64) -> Result<()> {
    let mut ck = Check::new(&req.input);
    let name = ck.text("name");
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        check_vlan_name(&mut ck, n);
    }
    let patch = VlanPatch {
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
    vlans::update(c, id, patch, ck.into_errors()).await
}
