//! The one error enum of the power drivers.

use std::time::Duration;

/// What failed when talking to a BMC. The rack reports the `Display` text as the
/// machine's status message, so each variant says plainly what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowerError {
    /// No (valid) answer within the timeout, after the retries.
    #[error("BMC {addr} unreachable: no answer within {waited:?}")]
    Unreachable { addr: String, waited: Duration },
    /// The BMC refused the credentials (or the privilege level).
    #[error("BMC refused authentication: {0}")]
    AuthRefused(String),
    /// The BMC (or driver) does not support the request.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The BMC answered with an IPMI completion code other than 0.
    #[error("BMC error: completion code {completion_code:#04x} ({meaning})")]
    BmcError {
        completion_code: u8,
        meaning: String,
    },
    /// An HTTP BMC (Redfish, webhook) answered with an error status.
    #[error("BMC answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// Garbage, truncated or unexpected replies.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The power parameters are missing or invalid.
    #[error("bad power parameters: {0}")]
    BadParameters(String),
}

pub type Result<T> = std::result::Result<T, PowerError>;
