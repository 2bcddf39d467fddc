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

impl PowerError {
    /// A short stable name for the kind of failure (for events and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            PowerError::Unreachable { .. } => "unreachable",
            PowerError::AuthRefused(_) => "auth_refused",
            PowerError::Unsupported(_) => "unsupported",
            PowerError::BmcError { .. } => "bmc_error",
            PowerError::Http { .. } => "http_error",
            PowerError::Protocol(_) => "protocol",
            PowerError::BadParameters(_) => "bad_parameters",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed() {
        let e = PowerError::BmcError {
            completion_code: 0xd4,
            meaning: "insufficient privilege level".into(),
        };
        assert_eq!(
            e.to_string(),
            "BMC error: completion code 0xd4 (insufficient privilege level)"
        );
        assert_eq!(e.kind(), "bmc_error");
        let e = PowerError::Unreachable {
            addr: "10.0.0.1:623".into(),
            waited: Duration::from_secs(4),
        };
        assert_eq!(
            e.to_string(),
            "BMC 10.0.0.1:623 unreachable: no answer within 4s"
        );
        assert_eq!(PowerError::AuthRefused("x".into()).kind(), "auth_refused");
    }
}
