//! Errors as HTML pages: the error kinds' HTTP statuses (the same as the
//! API's), the message in a page with the navigation.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::Error;
use crate::ui::views::Nav;

/// The HTTP status of an error kind.
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

/// A message a person can read (field errors joined).
pub fn message(e: &Error) -> String {
    match e {
        Error::Validation(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.join(" ")))
            .collect::<Vec<_>>()
            .join("; "),
        Error::Internal(_) => "Something went wrong on the server; see its log.".into(),
        other => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Nav,
    title: &'a str,
    message: String,
}

/// A page's failure: the error and the navigation to show around it.
pub struct PageError {
    pub nav: Nav,
    pub error: Error,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let code = status(&self.error);
        if let Error::Internal(e) = &self.error {
            tracing::error!(error = %e, "web UI request failed");
        }
        let page = ErrorPage {
            nav: self.nav,
            title: code.canonical_reason().unwrap_or("Error"),
            message: message(&self.error),
        };
        (code, render(&page)).into_response()
    }
}

/// Render a template; a template failure is a plain 500.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A result of a page handler.
pub type PageResult = Result<Response, PageError>;

/// Attach the navigation to a service error.
pub trait OrPage<T> {
    fn or_page(self, nav: &Nav) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, Error> {
    fn or_page(self, nav: &Nav) -> Result<T, PageError> {
        self.map_err(|error| PageError {
            nav: nav.clone(),
            error,
        })
    }
}
