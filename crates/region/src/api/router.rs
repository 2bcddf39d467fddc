//! Routes of API 2.0, the metadata API and sign-in, and the server loop.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::routing::{any, get};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

use crate::api::app::App;
use crate::api::conn::{self, Activity, Limits, PeerCounts, Watched};
use crate::api::drain;
use crate::error::Error;

/// How long an early answer waits for the rest of a small unread body.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

pub fn router(app: App) -> Router {
    use crate::api::{
        account, describe, events, maasconf, machines, metadata, places, rackcontrollers, tags,
        users,
    };
    let api = "/MAAS/api/2.0";
    Router::new()
        .merge(crate::api::dns::routes(api))
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
        .merge(crate::api::storage::routes(api))
        .merge(crate::api::interfaces::routes(api))
        .merge(crate::api::ipaddresses::routes(api))
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
        .merge(crate::api::devices::routes(api))
        .merge(crate::api::misc::routes(api))
        .merge(crate::api::node_devices::routes(api))
        .route("/MAAS/accounts/authenticate/", any(account::authenticate))
        .route("/MAAS/images/{sha256}", get(crate::api::images::image))
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

/// Serve `router` (the API's, with the web UI's merged in) on `listener` until `shutdown` resolves, each connection
/// under `limits`; then wait (briefly) for open connections to finish.
pub async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let peers = PeerCounts::default();
    // Closed on shutdown: every connection then finishes gracefully.
    let (stop_tx, stop_rx) = watch::channel(());
    // Each connection holds a sender; all dropped = all connections closed.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = peers.acquire(peer.ip(), limits.per_peer) else {
            tracing::debug!(%peer, "too many connections from this address; refused");
            tokio::spawn(conn::refuse(tcp, limits.header_read));
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let conn = serve_connection(router.clone(), tcp, peer, limits, stop_rx.clone());
        let done = done_tx.clone();
        tokio::spawn(async move {
            conn.await;
            drop(slot);
            drop(done);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(())
}

/// One connection: HTTP/1.1 with the head read timeout, closed when idle
/// (no request in progress, no bytes moving) for `limits.idle`.
async fn serve_connection(
    router: Router,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    limits: Limits,
    mut stop: watch::Receiver<()>,
) {
    let activity = Activity::new();
    let svc = {
        let activity = activity.clone();
        tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
            let r = router.clone();
            let guard = activity.request();
            async move {
                // A client that waits for 100-continue sends nothing unasked.
                let expects = req.headers().contains_key(axum::http::header::EXPECT);
                let (parts, incoming) = req.into_parts();
                let (body, unread) = drain::returning(incoming);
                let mut req = axum::http::Request::from_parts(parts, axum::body::Body::new(body));
                // Handlers that need the client's address (sign-in throttling).
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                // A NUL byte in the path could only reach a query as an error.
                let resp = if req.uri().path().contains("%00") {
                    let e = Error::BadRequest("The request path contains a NUL byte.".into());
                    axum::response::IntoResponse::into_response(e)
                } else {
                    r.oneshot(normalise(req)).await?
                };
                // Timeouts and refused lengths close the connection instead.
                let closing = matches!(resp.status().as_u16(), 408 | 413);
                if !expects && !closing {
                    drain::rest(unread, limits.body_read.min(DRAIN_WAIT)).await;
                }
                drop(guard);
                Ok::<_, std::convert::Infallible>(resp)
            }
        })
    };
    let io = TokioIo::new(Watched::new(tcp, activity.clone()));
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(io, TowerToHyperService::new(svc));
    let mut conn = std::pin::pin!(conn);
    let tick = (limits.idle / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(tick);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "API connection ended");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = ticks.tick() => {
                if activity.idle_for() >= limits.idle {
                    tracing::debug!("idle API connection closed");
                    return;
                }
            }
        }
    }
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let l = tokio::net::TcpListener::bind(addr).await?;
    Ok(l)
}
