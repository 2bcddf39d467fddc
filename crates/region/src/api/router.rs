//! Routes of API 2.0, the metadata API and sign-in, and the server loop.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{any, get};
use tower::ServiceExt;

use crate::api::app::App;
use crate::error::Error;

pub fn router(app: App) -> Router {
    use crate::api::{
        account, describe, events, maasconf, machines, metadata, places, rackcontrollers, tags,
        users,
    };
    let api = "/MAAS/api/2.0";
    Router::new()
        .route(&format!("{api}/version/"), get(describe::version))
        .route(&format!("{api}/describe/"), get(describe::describe))
        .route(&format!("{api}/users/"), any(users::collection))
        .route(&format!("{api}/users/{{username}}/"), any(users::item))
        .route(&format!("{api}/account/"), any(account::account))
        .route(
            &format!("{api}/account/prefs/sshkeys/"),
            any(account::sshkeys),
        )
        .route(
            &format!("{api}/account/prefs/sshkeys/{{id}}/"),
            any(account::sshkey),
        )
        .route(&format!("{api}/machines/"), any(machines::collection))
        .route(
            &format!("{api}/machines/{{system_id}}/"),
            any(machines::item),
        )
        .route(&format!("{api}/nodes/{{system_id}}/"), any(machines::item))
        .route(
            &format!("{api}/nodes/{{system_id}}/interfaces/"),
            any(machines::interfaces),
        )
        .route(
            &format!("{api}/nodes/{{system_id}}/blockdevices/"),
            any(machines::blockdevices),
        )
        .route(&format!("{api}/zones/"), any(places::zones))
        .route(&format!("{api}/zones/{{name}}/"), any(places::zone))
        .route(&format!("{api}/resourcepools/"), any(places::pools))
        .route(&format!("{api}/resourcepool/{{id}}/"), any(places::pool))
        .route(&format!("{api}/tags/"), any(tags::collection))
        .route(&format!("{api}/tags/{{name}}/"), any(tags::item))
        .route(
            &format!("{api}/fabrics/"),
            any(crate::api::networks::fabrics::collection),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/"),
            any(crate::api::networks::fabrics::item),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/vlans/"),
            any(crate::api::networks::vlans::fabric_collection),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/vlans/{{vid}}/"),
            any(crate::api::networks::vlans::fabric_item),
        )
        .route(
            &format!("{api}/vlans/"),
            any(crate::api::networks::vlans::collection),
        )
        .route(
            &format!("{api}/vlans/{{vlan_id}}/"),
            any(crate::api::networks::vlans::item),
        )
        .route(
            &format!("{api}/subnets/"),
            any(crate::api::networks::subnets::collection),
        )
        .route(
            &format!("{api}/subnets/{{id}}/"),
            any(crate::api::networks::subnets::item),
        )
        .route(
            &format!("{api}/ipranges/"),
            any(crate::api::networks::ipranges::collection),
        )
        .route(
            &format!("{api}/ipranges/{{id}}/"),
            any(crate::api::networks::ipranges::item),
        )
        .route(
            &format!("{api}/reservedips/"),
            any(crate::api::networks::reservedips::collection),
        )
        .route(
            &format!("{api}/reservedips/{{id}}/"),
            any(crate::api::networks::reservedips::item),
        )
        .route(
            &format!("{api}/spaces/"),
            any(crate::api::networks::spaces::collection),
        )
        .route(
            &format!("{api}/spaces/{{id}}/"),
            any(crate::api::networks::spaces::item),
        )
        .route(&format!("{api}/events/"), any(events::events))
        .route(
            &format!("{api}/rackcontrollers/"),
            any(rackcontrollers::collection),
        )
        .route(
            &format!("{api}/rackcontrollers/{{system_id}}/"),
            any(rackcontrollers::item),
        )
        .route(&format!("{api}/maas/"), any(maasconf::maas))
        .route("/MAAS/accounts/authenticate/", any(account::authenticate))
        .route("/MAAS/metadata/status/{system_id}", any(metadata::status))
        .route("/MAAS/metadata/{version}/", any(metadata::index))
        .route("/MAAS/metadata/{version}/{*rest}", any(metadata::path))
        .fallback(|req: Request| async move {
            Error::NotFound(format!("Unknown API endpoint: {}", req.uri().path()))
        })
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

/// MAAS's API URLs end with `/`; accept them without it too.
fn normalise(mut req: Request) -> Request {
    let path = req.uri().path();
    if (path.starts_with("/MAAS/api/") || path.starts_with("/MAAS/accounts/"))
        && !path.ends_with('/')
    {
        let pq = match req.uri().query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Serve the API on `listener` until `shutdown` resolves.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = router(app);
    let svc = tower::service_fn(move |req: Request| {
        let r = router.clone();
        async move {
            // A NUL byte in the path could only reach a query as an error.
            if req.uri().path().contains("%00") {
                let e = Error::BadRequest("The request path contains a NUL byte.".into());
                return Ok(axum::response::IntoResponse::into_response(e));
            }
            r.oneshot(normalise(req)).await
        }
    });
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(svc),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let l = tokio::net::TcpListener::bind(addr).await?;
    Ok(l)
}
