//! Building blocks for the pages that are tables, facts and forms
//! (controllers, images, devices, account, admin): one template
//! (`kit.html`) draws a page of sections; a section holds facts (a `dl`),
//! a table (cells may link, rows may carry buttons that post a form) and/or
//! a form (fields from `fields.rs`, the service's errors beside them).
//! Destructive buttons post without `confirmed=1` and get [`confirm`]'s
//! page first.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::ui::error::{PageError, message, render};
use crate::ui::fields::{Field, attach};
use crate::ui::form::FormData;
use crate::ui::views::Nav;

#[derive(Default)]
pub struct Cell {
    pub text: String,
    pub href: String,
}

impl Cell {
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: href.into(),
        }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(t: T) -> Cell {
        Cell {
            text: t.into(),
            href: String::new(),
        }
    }
}

/// A button posting a small form (the CSRF token is added by the template).
pub struct Button {
    pub label: String,
    pub action: String,
    pub danger: bool,
    pub hidden: Vec<(String, String)>,
    /// For screen readers: what the button acts on ("Delete key 3").
    pub aria: String,
}

impl Button {
    pub fn new(label: &str, action: impl Into<String>, aria: impl Into<String>) -> Button {
        Button {
            label: label.into(),
            action: action.into(),
            danger: false,
            hidden: Vec::new(),
            aria: aria.into(),
        }
    }

    pub fn danger(mut self) -> Button {
        self.danger = true;
        self
    }

    pub fn hidden(mut self, k: &str, v: impl Into<String>) -> Button {
        self.hidden.push((k.into(), v.into()));
        self
    }
}

#[derive(Default)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub buttons: Vec<Button>,
}

impl Row {
    pub fn new(cells: Vec<Cell>) -> Row {
        Row {
            cells,
            buttons: Vec::new(),
        }
    }

    pub fn button(mut self, b: Button) -> Row {
        self.buttons.push(b);
        self
    }
}

#[derive(Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    /// Whether some row has buttons (an "Actions" column).
    pub actions: bool,
    pub empty: String,
}

impl Table {
    pub fn new(headers: &[&str], rows: Vec<Row>) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            actions: rows.iter().any(|r| !r.buttons.is_empty()),
            rows,
            empty: "None yet.".into(),
        }
    }
}

#[derive(Default)]
pub struct FormBlock {
    pub id: String,
    /// An `h3` above the form (pages with several forms in a section).
    pub heading: String,
    pub action: String,
    pub multipart: bool,
    pub hidden: Vec<(String, String)>,
    pub fields: Vec<Field>,
    pub submit: String,
    pub danger: bool,
    pub cancel: String,
    pub errors: Vec<String>,
}

impl FormBlock {
    pub fn new(action: impl Into<String>, submit: &str, fields: Vec<Field>) -> FormBlock {
        FormBlock {
            action: action.into(),
            submit: submit.into(),
            fields,
            ..Default::default()
        }
    }

    /// Values as posted (passwords never echoed).
    pub fn refill(mut self, f: &FormData) -> FormBlock {
        for fld in self.fields.iter_mut() {
            if fld.kind == "password" || fld.kind == "file" {
                continue;
            }
            if fld.kind == "multiselect" {
                fld.value = f.all(&fld.name).join(",");
            } else if let Some(v) = f.get(&fld.name) {
                fld.value = if fld.kind == "checkbox" {
                    if f.checked(&fld.name) { "1" } else { "" }.into()
                } else {
                    v.to_string()
                };
            } else if fld.kind == "checkbox" && !f.0.is_empty() {
                fld.value.clear();
            }
        }
        self
    }

    /// A service error: field errors beside their fields, others above.
    pub fn error(mut self, e: &Error) -> FormBlock {
        match e {
            Error::Validation(errs) => {
                let mut rest = attach(&mut [&mut self.fields], errs);
                if rest.is_empty() {
                    rest.push("Correct the fields marked below.".into());
                }
                self.errors = rest;
            }
            other => self.errors = vec![message(other)],
        }
        self
    }
}

#[derive(Default)]
pub struct Section {
    pub id: String,
    pub heading: String,
    pub text: String,
    pub facts: Vec<(String, String)>,
    pub table: Option<Table>,
    pub form: Option<FormBlock>,
    /// Shown once, in a `<pre>` to copy (a new API key).
    pub secret: String,
}

impl Section {
    pub fn new(id: &str, heading: &str) -> Section {
        Section {
            id: id.into(),
            heading: heading.into(),
            ..Default::default()
        }
    }

    pub fn text(mut self, t: impl Into<String>) -> Section {
        self.text = t.into();
        self
    }

    pub fn facts(mut self, f: Vec<(&str, String)>) -> Section {
        self.facts = f.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        self
    }

    pub fn table(mut self, t: Table) -> Section {
        self.table = Some(t);
        self
    }

    pub fn form(mut self, f: FormBlock) -> Section {
        self.form = Some(f);
        self
    }
}

#[derive(Template)]
#[template(path = "kit.html")]
pub struct Page {
    pub nav: Nav,
    pub title: String,
    pub subtitle: String,
    pub back: (String, String),
    pub notice: String,
    pub error: String,
    pub sections: Vec<Section>,
}

impl Page {
    pub fn new(nav: Nav, title: impl Into<String>) -> Page {
        Page {
            nav,
            title: title.into(),
            subtitle: String::new(),
            back: (String::new(), String::new()),
            notice: String::new(),
            error: String::new(),
            sections: Vec::new(),
        }
    }

    pub fn section(mut self, s: Section) -> Page {
        self.sections.push(s);
        self
    }

    pub fn ok(&self) -> Response {
        render(self)
    }

    /// The page with a status (400 for a refused form).
    pub fn status(&self, code: StatusCode) -> Response {
        (code, render(self)).into_response()
    }
}

/// Whether a destructive form was confirmed.
pub fn confirmed(f: &FormData) -> bool {
    f.checked("confirmed")
}

/// The confirm page of a destructive action: what happens, the same form
/// again with `confirmed=1`.
pub fn confirm(
    nav: Nav,
    title: &str,
    what: &str,
    action: &str,
    hidden: Vec<(String, String)>,
    cancel: &str,
) -> Response {
    let mut form = FormBlock::new(action, title, Vec::new());
    form.hidden = hidden;
    form.hidden.push(("confirmed".into(), "1".into()));
    form.danger = true;
    form.cancel = cancel.into();
    Page::new(nav, title)
        .section(
            Section::new("confirm", "")
                .text(format!("{what} This cannot be undone."))
                .form(form),
        )
        .ok()
}

/// A service error as a page error.
pub fn fail(nav: &Nav, error: Error) -> PageError {
    PageError {
        nav: nav.clone(),
        error,
    }
}

/// Text of a JSON value (strings bare, null empty).
pub fn s(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        o => o.to_string(),
    }
}

/// A time as "2026-12-02 10:40:00 UTC".
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "never".into())
}
