//! The one mapping from the region's error kinds to gRPC statuses.

use tonic::Status;

use crate::error::Error;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Validation(fields) => Status::invalid_argument(
                serde_json::to_string(&fields).unwrap_or_else(|_| "invalid input".into()),
            ),
            Error::BadRequest(m) => Status::invalid_argument(m),
            Error::Unauthorized(m) => Status::unauthenticated(m),
            Error::Forbidden(m) => Status::permission_denied(m),
            Error::NotFound(m) => Status::not_found(m),
            Error::MethodNotAllowed(m) => Status::unimplemented(m),
            // A conflict with concurrent work: the rack retries.
            Error::Conflict(m) => Status::aborted(m),
            Error::PayloadTooLarge(m) | Error::RateLimited(m) => Status::resource_exhausted(m),
            Error::Unavailable(m) => Status::unavailable(m),
            Error::TimedOut(m) => Status::deadline_exceeded(m),
            Error::Internal(e) => {
                tracing::error!(error = %e, "rack RPC internal error");
                Status::internal("region internal error; see the region log")
            }
        }
    }
}

/// A wire message that makes no valid model value is the sender's bad input.
impl From<maas_rpc::convert::Invalid> for Error {
    fn from(e: maas_rpc::convert::Invalid) -> Error {
        Error::BadRequest(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn kinds_map_to_codes() {
        let cases = [
            (Error::field("x", "bad"), Code::InvalidArgument),
            (Error::NotFound("n".into()), Code::NotFound),
            (Error::Conflict("c".into()), Code::Aborted),
            (Error::Forbidden("f".into()), Code::PermissionDenied),
            (Error::Unauthorized("u".into()), Code::Unauthenticated),
            (Error::Unavailable("u".into()), Code::Unavailable),
            (Error::RateLimited("r".into()), Code::ResourceExhausted),
            (Error::TimedOut("t".into()), Code::DeadlineExceeded),
            (
                maas_rpc::convert::Invalid::new("events[0].kind", "missing").into(),
                Code::InvalidArgument,
            ),
            (Error::internal("secret detail"), Code::Internal),
        ];
        for (e, code) in cases {
            let s = Status::from(e);
            assert_eq!(s.code(), code);
            assert!(!s.message().contains("secret detail"));
        }
    }
}
