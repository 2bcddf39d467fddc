//! The HTTP application: shared state, the per-request context (parameters +
//! authenticated user), routing and the server loop.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::params::{self, Input};
use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;

/// The HTTP edge's state: the services' context and the request limits.
#[derive(Clone)]
pub struct App(pub Arc<AppInner>);

pub struct AppInner {
    pub ctx: Ctx,
    pub max_body: usize,
    /// How long a request's body may take to arrive.
    pub body_timeout: std::time::Duration,
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl std::ops::Deref for AppInner {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

/// A parsed, authenticated request.
pub struct Req {
    pub method: Method,
    pub user: Option<User>,
    pub input: Input,
    pub headers: HeaderMap,
    pub path: String,
    /// The client's address, when the server loop recorded it.
    pub peer: Option<std::net::IpAddr>,
}

impl Req {
    /// The caller, or 401 for anonymous requests.
    pub fn user(&self) -> Result<&User> {
        let u = self.user.as_ref().ok_or_else(|| {
            Error::Unauthorized(
                "Authentication required: send an OAuth Authorization header with your API key."
                    .into(),
            )
        })?;
        if u.machine_id.is_some() {
            return Err(node_token_refused());
        }
        Ok(u)
    }

    pub fn admin(&self) -> Result<&User> {
        let u = self.user()?;
        if u.is_superuser {
            Ok(u)
        } else {
            Err(Error::Forbidden(
                "You do not have permission to perform this action (admin only).".into(),
            ))
        }
    }

    pub fn op(&self) -> Option<&str> {
        self.input.op()
    }

    /// `http://host:port` as the client addressed us (describe's `uri`s).
    pub fn base_url(&self) -> String {
        // Through a rack's proxy the client addressed the rack: its Host
        // comes as X-Forwarded-Host.
        let valid = |h: &&str| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        };
        let host = ["x-forwarded-host", header::HOST.as_str()]
            .iter()
            .find_map(|k| self.headers.get(*k)?.to_str().ok().filter(valid))
            .unwrap_or("localhost:5240");
        let proto = self
            .headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https" || *p == "http")
            .unwrap_or("http");
        format!("{proto}://{host}")
    }

    pub fn unknown_op(&self) -> Error {
        match self.op() {
            Some(op) => Error::BadRequest(format!(
                "Unrecognised signature: method={} op={op}",
                self.method
            )),
            None => Error::MethodNotAllowed(format!(
                "Method {} is not allowed on this resource.",
                self.method
            )),
        }
    }
}

impl FromRequest<App> for Req {
    type Rejection = Error;

    async fn from_request(req: Request, state: &App) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let too_large = || {
            Error::PayloadTooLarge(format!(
                "Request body exceeds the limit of {} bytes.",
                state.max_body
            ))
        };
        // A declared length over the limit is refused before reading a byte.
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.max_body as u64) {
            return Err(too_large());
        }
        let bytes = tokio::time::timeout(
            state.body_timeout,
            axum::body::to_bytes(body, state.max_body),
        )
        .await
        .map_err(|_| {
            Error::TimedOut(format!(
                "The request body was not received within {} s.",
                state.body_timeout.as_secs_f64()
            ))
        })?
        .map_err(|_| too_large())?;
        let user =
            crate::api::oauth::authenticate(&state.hot, &state.tokens, &parts.headers).await?;
        let input = params::parse(parts.uri.query(), &parts.headers, &bytes)?;
        Ok(Req {
            method: parts.method,
            user,
            input,
            headers: parts.headers,
            path: parts.uri.path().to_string(),
            peer,
        })
    }
}

pub fn node_token_refused() -> Error {
    Error::Forbidden("A machine's own token can only be used with the metadata API.".into())
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
        Err(e) => Error::Internal(e.into()).into_response(),
    }
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Body limit default: 16 MiB (user data, script results).
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

pub fn new_app(ctx: Ctx, max_body: usize, body_timeout: std::time::Duration) -> App {
    App(Arc::new(AppInner {
        ctx,
        max_body,
        body_timeout,
    }))
}
