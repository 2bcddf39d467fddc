//! The region's one error type, mapped to HTTP status by kind.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maas_model::constraints::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a field → messages JSON body (MAAS's validation errors).
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    /// 400 with a plain message.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: action not allowed in the current status, nothing to allocate.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, msg: impl Into<String>) -> ApiError {
        let mut e = FieldErrors::new();
        e.insert(field.to_string(), vec![msg.into()]);
        ApiError::Validation(e)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // Unique violations that slipped past validation (a race with
            // another request) are the caller's conflict, not our fault.
            if db.code().as_deref() == Some("23505") {
                return ApiError::Conflict(format!(
                    "Conflicts with an existing object ({}).",
                    db.constraint().unwrap_or("unique")
                ));
            }
        }
        ApiError::Internal(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = match &self {
            ApiError::Validation(fields) => (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(fields).unwrap_or_default(),
            )
                .into_response(),
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
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
