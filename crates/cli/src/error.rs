//! Errors that know which exit code they end the process with.
//!
//! Exit codes (see docs/cli.md):
//! - 0: success (2xx from the region, or a local command that worked)
//! - 1: the region could not be reached, or a local I/O problem
//! - 2: usage errors (unknown profile/resource/action, bad arguments) and
//!   requests the region refused (any non-2xx response)

use std::fmt;

/// An error carrying the text to print on stderr and the process exit code.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

impl Exit {
    /// Bad invocation: unknown names, missing arguments, malformed input. Exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Exit {
            code: 2,
            message: format!("error: {}", message.into()),
        }
    }

    /// Text printed verbatim (e.g. a help listing on stderr). Exit 2.
    pub fn usage_raw(message: impl Into<String>) -> Self {
        Exit {
            code: 2,
            message: message.into(),
        }
    }

    /// The region answered with a non-2xx status. Exit 2.
    pub fn refused(message: impl Into<String>) -> Self {
        Exit {
            code: 2,
            message: message.into(),
        }
    }

    /// The region could not be reached, or a local failure. Exit 1.
    pub fn failure(message: impl Into<String>) -> Self {
        Exit {
            code: 1,
            message: format!("error: {}", message.into()),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Map any error to (message, exit code). Errors that are not an [`Exit`]
/// are unexpected local failures and end with code 1.
pub fn exit_code_and_message(err: &anyhow::Error) -> (i32, String) {
    match err.downcast_ref::<Exit>() {
        Some(exit) => (exit.code, exit.message.clone()),
        None => (1, format!("error: {err:#}")),
    }
}
