//! The region's one error type, by kind. Domain code returns it; the edges map
//! it once each: to an HTTP response (`api::error`) and to a gRPC status
//! (`rackrpc::error`). Database errors become kinds in `store`.

use maas_model::constraints::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid input, field → messages (MAAS's validation errors).
    #[error("invalid input: {0:?}")]
    Validation(FieldErrors),
    /// Invalid input, one plain message.
    #[error("{0}")]
    BadRequest(String),
    /// No or bad credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Known caller, not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The resource does not take this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Not possible in the current state (status, a name taken, nothing to
    /// allocate).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The client was too slow (a request body not sent in time).
    #[error("{0}")]
    TimedOut(String),
    /// Too many attempts (failed enrollments from one address); try later.
    #[error("{0}")]
    RateLimited(String),
    /// A dependency (database, a rack) cannot serve now; try again.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error on one field.
    pub fn field(field: &str, msg: impl Into<String>) -> Error {
        let mut e = FieldErrors::new();
        e.insert(field.to_string(), vec![msg.into()]);
        Error::Validation(e)
    }

    /// An internal error from a message.
    pub fn internal(msg: impl std::fmt::Display) -> Error {
        Error::Internal(anyhow::anyhow!("{msg}"))
    }
}
