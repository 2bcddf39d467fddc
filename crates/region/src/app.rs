//! The HTTP application: shared state, the per-request context (parameters +
//! authenticated user), routing and the server loop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde::Serialize;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::auth::{self, TokenCache, User};
use crate::crypto::SecretBox;
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Input};
use crate::rendercache::RenderCache;

#[derive(Clone)]
pub struct App(pub Arc<AppInner>);

pub struct AppInner {
    pub db: PgPool,
    /// Connections for hot single statements (see `db::Hot`).
    pub hot: crate::db::Hot,
    pub secrets: SecretBox,
    pub max_body: usize,
    /// Valid API keys seen recently (kept in step by `auth::follow_token_changes`).
    pub tokens: Arc<TokenCache>,
    /// Machines' related sets and rendered objects, by version.
    pub render: RenderCache,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// A parsed, authenticated request.
pub struct Req {
    pub method: Method,
    pub user: Option<User>,
    pub input: Input,
    pub headers: HeaderMap,
    pub path: String,
}

impl Req {
    /// The caller, or 401 for anonymous requests.
    pub fn user(&self) -> ApiResult<&User> {
        let u = self.user.as_ref().ok_or_else(|| {
            ApiError::Unauthorized(
                "Authentication required: send an OAuth Authorization header with your API key."
                    .into(),
            )
        })?;
        if u.machine_id.is_some() {
            return Err(node_token_refused());
        }
        Ok(u)
    }

    pub fn admin(&self) -> ApiResult<&User> {
        let u = self.user()?;
        if u.is_superuser {
            Ok(u)
        } else {
            Err(ApiError::Forbidden(
                "You do not have permission to perform this action (admin only).".into(),
            ))
        }
    }

    pub fn op(&self) -> Option<&str> {
        self.input.op()
    }

    /// `http://host:port` as the client addressed us (describe's `uri`s).
    pub fn base_url(&self) -> String {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
            })
            .unwrap_or("localhost:5240");
        let proto = self
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https" || *p == "http")
            .unwrap_or("http");
        format!("{proto}://{host}")
    }

    pub fn unknown_op(&self) -> ApiError {
        match self.op() {
            Some(op) => ApiError::BadRequest(format!(
                "Unrecognised signature: method={} op={op}",
                self.method
            )),
            None => ApiError::MethodNotAllowed(format!(
                "Method {} is not allowed on this resource.",
                self.method
            )),
        }
    }
}

impl FromRequest<App> for Req {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &App) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, state.max_body)
            .await
            .map_err(|_| {
                ApiError::PayloadTooLarge(format!(
                    "Request body exceeds the limit of {} bytes.",
                    state.max_body
                ))
            })?;
        let user = auth::authenticate(&state.hot, &state.tokens, &parts.headers).await?;
        let input = params::parse(parts.uri.query(), &parts.headers, &bytes)?;
        Ok(Req {
            method: parts.method,
            user,
            input,
            headers: parts.headers,
            path: parts.uri.path().to_string(),
        })
    }
}

pub fn node_token_refused() -> ApiError {
    ApiError::Forbidden("A machine's own token can only be used with the metadata API.".into())
}

/// A JSON response from pre-serialised bytes.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(bytes),
    )
        .into_response()
}

pub fn json<T: Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => json_bytes(StatusCode::OK, b),
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

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
            any(crate::api::networks::fabrics),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/"),
            any(crate::api::networks::fabric),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/vlans/"),
            any(crate::api::networks::fabric_vlans),
        )
        .route(
            &format!("{api}/fabrics/{{fabric_id}}/vlans/{{vid}}/"),
            any(crate::api::networks::fabric_vlan),
        )
        .route(&format!("{api}/vlans/"), any(crate::api::networks::vlans))
        .route(
            &format!("{api}/vlans/{{vlan_id}}/"),
            any(crate::api::networks::vlan),
        )
        .route(
            &format!("{api}/subnets/"),
            any(crate::api::networks::subnets),
        )
        .route(
            &format!("{api}/subnets/{{id}}/"),
            any(crate::api::networks::subnet),
        )
        .route(
            &format!("{api}/ipranges/"),
            any(crate::api::networks::ipranges),
        )
        .route(
            &format!("{api}/ipranges/{{id}}/"),
            any(crate::api::networks::iprange),
        )
        .route(
            &format!("{api}/reservedips/"),
            any(crate::api::networks::reserved_ips),
        )
        .route(
            &format!("{api}/reservedips/{{id}}/"),
            any(crate::api::networks::reserved_ip),
        )
        .route(&format!("{api}/spaces/"), any(crate::api::networks::spaces))
        .route(
            &format!("{api}/spaces/{{id}}/"),
            any(crate::api::networks::space),
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
            ApiError::NotFound(format!("Unknown API endpoint: {}", req.uri().path()))
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
        async move { r.oneshot(normalise(req)).await }
    });
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(svc),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

/// Body limit default: 16 MiB (user data, script results).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// `hot` bounds the connections for hot single statements (besides the
/// pool); `render_cache` the machines each render cache holds.
pub fn new_app(
    db: PgPool,
    hot: usize,
    render_cache: usize,
    secrets: SecretBox,
    max_body: usize,
) -> App {
    App(Arc::new(AppInner {
        hot: crate::db::Hot::new(&db, hot),
        db,
        secrets,
        max_body,
        tokens: Arc::new(TokenCache::default()),
        render: RenderCache::new(render_cache),
    }))
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let l = tokio::net::TcpListener::bind(addr).await?;
    Ok(l)
}
