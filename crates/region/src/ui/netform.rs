//! Shared by the network and DNS pages: form fields read with the API's
//! messages (the API's own parser is in `api/`, which the UI may not
//! import), the confirm step every deletion goes through, and JSON values
//! as text.

use std::future::Future;
use std::net::IpAddr;

use askama::Template;
use axum::response::{IntoResponse, Redirect};
use maas_model::constraints::FieldErrors;
use maas_model::net;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ui::error::{PageError, PageResult, message, render, status};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::session::Posted;
use crate::ui::views::Nav;

pub const REQUIRED: &str = "This field is required.";

/// A form's fields read as the API reads its parameters, collecting every
/// field's errors with the API's messages.
pub struct Parse<'a> {
    pub form: &'a FormData,
    pub errs: FieldErrors,
}

impl<'a> Parse<'a> {
    pub fn new(form: &'a FormData) -> Parse<'a> {
        Parse {
            form,
            errs: FieldErrors::new(),
        }
    }

    pub fn add(&mut self, key: &str, msg: impl Into<String>) {
        self.errs
            .entry(key.to_string())
            .or_default()
            .push(msg.into());
    }

    /// A present field, trimmed (`Some("")`: given empty).
    pub fn text(&self, key: &str) -> Option<String> {
        self.form.get(key).map(|s| s.trim().to_string())
    }

    /// A field given and not empty.
    pub fn nonempty(&self, key: &str) -> Option<String> {
        self.form.text(key)
    }

    /// A non-empty field; "This field is required." otherwise.
    pub fn required(&mut self, key: &str) -> Option<String> {
        let v = self.nonempty(key);
        if v.is_none() {
            self.add(key, REQUIRED);
        }
        v
    }

    /// An IP address (empty is absent).
    pub fn ip(&mut self, key: &str, required: bool) -> Option<IpAddr> {
        let v = if required {
            self.required(key)?
        } else {
            self.nonempty(key)?
        };
        match net::parse_ip(&v) {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.add(key, "Enter a valid IPv4 or IPv6 address.");
                None
            }
        }
    }

    /// An integer within `lo..=hi` (empty is absent).
    pub fn int_between(&mut self, key: &str, lo: i64, hi: i64) -> Option<i64> {
        let v = self.nonempty(key)?;
        let Ok(n) = v.parse::<i64>() else {
            self.add(key, format!("'{v}' is not a valid integer."));
            return None;
        };
        match maas_model::constraints::out_of_range(n, lo, hi) {
            Some(msg) => {
                self.add(key, msg);
                None
            }
            None => Some(n),
        }
    }

    /// A TTL: absent → None, empty → Some(None) (no TTL of its own).
    pub fn ttl(&mut self, key: &str, lo: i64, hi: i64) -> Option<Option<i32>> {
        let v = self.form.get(key)?;
        if v.trim().is_empty() {
            return Some(None);
        }
        self.int_between(key, lo, hi).map(|n| Some(n as i32))
    }
}

/// A JSON value as text (null: empty).
pub fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

/// A service's refusal of a form: field errors go beside their fields
/// (`aliases` maps the service's names to the form's), the rest into the
/// list above the form (`__all__` too, unless aliased to a field). Other
/// errors are the page's.
pub fn place_errors(
    e: Error,
    fields: &mut [&mut Vec<Field>],
    aliases: &[(&str, &str)],
    nav: &Nav,
) -> std::result::Result<Vec<String>, PageError> {
    match e {
        Error::Validation(errs) => {
            let mut renamed = FieldErrors::new();
            let mut general = Vec::new();
            for (k, v) in errs {
                let alias = aliases.iter().find(|(from, _)| *from == k);
                match alias {
                    Some((_, to)) => renamed.entry(to.to_string()).or_default().extend(v),
                    None if k == "__all__" => general.extend(v),
                    None => renamed.entry(k).or_default().extend(v),
                }
            }
            general.extend(crate::ui::fields::attach(fields, &renamed));
            if general.is_empty() {
                general.push("Correct the fields marked below.".into());
            }
            Ok(general)
        }
        e @ (Error::BadRequest(_) | Error::Conflict(_)) => Ok(vec![message(&e)]),
        error => Err(PageError {
            nav: nav.clone(),
            error,
        }),
    }
}

#[derive(Template)]
#[template(path = "netconfirm.html")]
struct ConfirmPage {
    nav: Nav,
    title: String,
    text: String,
    action: String,
    back: String,
    hidden: Vec<(String, String)>,
    error: String,
}

/// A deletion's confirm step: what is deleted, where the form goes, and
/// where to go after (or on cancel).
pub struct Confirm {
    pub title: String,
    pub text: String,
    pub action: String,
    pub back: String,
    /// Fields the confirmed form sends again.
    pub hidden: Vec<(String, String)>,
}

/// Deletions are for administrators and ask first: without `confirmed` the
/// confirm page; with it, `run`, then back (a refusal: the confirm page
/// with the service's message).
pub async fn confirm_then<F, Fut>(p: &Posted, c: Confirm, run: F) -> PageResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    p.viewer.admin()?;
    let page = |error: String| ConfirmPage {
        nav: p.viewer.nav(),
        title: c.title.clone(),
        text: c.text.clone(),
        action: c.action.clone(),
        back: c.back.clone(),
        hidden: c.hidden.clone(),
        error,
    };
    if !p.form.checked("confirmed") {
        return Ok(render(&page(String::new())));
    }
    match run().await {
        Ok(()) => Ok(Redirect::to(&c.back).into_response()),
        Err(e @ (Error::BadRequest(_) | Error::Conflict(_) | Error::Validation(_))) => {
            Ok((status(&e), render(&page(message(&e)))).into_response())
        }
        Err(error) => Err(PageError {
            nav: p.viewer.nav(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_with_the_apis_messages() {
        let f = FormData::parse(b"a=x&b=700&c=&d=10.0.0.300&e=fe80::1&t=");
        let mut p = Parse::new(&f);
        assert_eq!(p.int_between("a", 1, 10), None);
        assert_eq!(p.int_between("b", 1, 10), None);
        assert_eq!(p.required("c"), None);
        assert_eq!(p.ip("d", true), None);
        assert!(p.ip("e", true).is_some());
        assert_eq!(p.ttl("t", 0, 10), Some(None));
        assert_eq!(p.ttl("absent", 0, 10), None);
        assert_eq!(p.errs["a"], vec!["'x' is not a valid integer."]);
        assert_eq!(
            p.errs["b"],
            vec!["Ensure this value is less than or equal to 10."]
        );
        assert_eq!(p.errs["c"], vec![REQUIRED]);
        assert_eq!(p.errs["d"], vec!["Enter a valid IPv4 or IPv6 address."]);
    }
}
