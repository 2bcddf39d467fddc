//! The one mapping from the region's error kinds to HTTP responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// The HTTP status for an error kind.
pub fn status(e: &Error) -> StatusCode {
    match e {
        Error::Validation(_) | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
        Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = status(&self);
        let mut resp = match &self {
            Error::Validation(fields) => (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(fields).unwrap_or_default(),
            )
                .into_response(),
            Error::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                (
                    status,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Internal server error; see the region log.".to_string(),
                )
                    .into_response()
            }
            other => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                other.to_string(),
            )
                .into_response(),
        };
        if status == StatusCode::UNAUTHORIZED {
            // MAAS-style clients compute their clock skew from Date.
            let now = chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            if let Ok(v) = HeaderValue::from_str(&now) {
                resp.headers_mut().insert(header::DATE, v);
            }
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth realm=\"OAuth\""),
            );
        }
        resp
    }
}
