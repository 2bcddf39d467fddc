//! Admin pages: `/MAAS/r/users` (create, delete, make admin or not),
//! `/MAAS/r/settings` (the API's `set_config` names, kinds and messages)
//! and the first-run page `/MAAS/r/intro` (region name, upstream DNS, the
//! admin's SSH key, how to add a rack) shown after an admin signs in until
//! it is completed (`completed_intro`). Users get the 403 page, as the API.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::config::{self, Kind};
use crate::services::{account, racks, users};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{Button, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail};
use crate::ui::session::{Posted, Viewer};

const USERS: &str = "/MAAS/r/users";

fn user_form() -> FormBlock {
    let mut f = FormBlock::new(
        format!("{USERS}/add"),
        "Add user",
        vec![
            Field::text("username", "Username", "").required(),
            Field::text("email", "Email", "").required(),
            Field::text("password", "Password", "")
                .kind("password")
                .required(),
            Field::text("is_superuser", "Administrator", "").kind("checkbox"),
        ],
    );
    f.id = "add-user".into();
    // A new user's password is a new one (not "unchanged when empty").
    f
}

async fn users_page(ui: &Ui, viewer: &Viewer, form: FormBlock) -> Result<Page> {
    let me = &viewer.user.username;
    let rows = users::list(&ui.db)
        .await?
        .into_iter()
        .map(|u| {
            let role = if u.is_superuser { "admin" } else { "user" };
            let mut r = Row::new(vec![
                u.username.clone().into(),
                u.email.clone().into(),
                role.into(),
            ]);
            if &u.username != me {
                let (label, to) = if u.is_superuser {
                    ("Make user", "0")
                } else {
                    ("Make admin", "1")
                };
                r = r
                    .button(
                        Button::new(
                            label,
                            format!("/MAAS/r/user/{}/role", u.username),
                            format!("{label}: {}", u.username),
                        )
                        .hidden("admin", to),
                    )
                    .button(
                        Button::new(
                            "Delete",
                            format!("/MAAS/r/user/{}/delete", u.username),
                            format!("Delete user {}", u.username),
                        )
                        .danger(),
                    );
            }
            r
        })
        .collect();
    Ok(Page::new(viewer.nav(), "Users")
        .section(Section::new("list", "").table(Table::new(&["Username", "Email", "Role"], rows)))
        .section(Section::new("add", "Add a user").form(form)))
}

pub async fn users(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    viewer.admin()?;
    let p = users_page(&ui, &viewer, user_form())
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

pub async fn create_user(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let f = &p.form;
    let mut missing = maas_model::constraints::FieldErrors::new();
    for k in ["username", "email", "password"] {
        if f.get(k).unwrap_or("").is_empty() {
            missing.insert(k.into(), vec!["This field is required.".into()]);
        }
    }
    let made = if missing.is_empty() {
        users::create(
            &ui.db,
            f.get("username").unwrap_or("").trim(),
            f.get("email").unwrap_or("").trim(),
            f.get("password").unwrap_or(""),
            f.checked("is_superuser"),
        )
        .await
        .map(|_| ())
    } else {
        Err(Error::Validation(missing))
    };
    match made {
        Ok(()) => Ok(Redirect::to(USERS).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = user_form().refill(f).error(&e);
            let page = users_page(&ui, &p.viewer, form).await.or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn delete_user(State(ui): State<Ui>, Path(name): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let me = p.viewer.admin()?.clone();
    let u = users::get(&ui.db, &name).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete user",
            &format!(
                "User {} will be deleted with their API keys and SSH keys.",
                u.username
            ),
            &format!("/MAAS/r/user/{}/delete", u.username),
            vec![],
            USERS,
        ));
    }
    users::delete(&ui, &me, &name).await.or_page(&nav)?;
    Ok(Redirect::to(USERS).into_response())
}

pub async fn set_role(State(ui): State<Ui>, Path(name): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let me = p.viewer.admin()?.clone();
    users::set_admin(&ui, &me, &name, p.form.checked("admin"))
        .await
        .or_page(&nav)?;
    Ok(Redirect::to(USERS).into_response())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

/// One setting as a field, showing `value`.
fn setting_field(name: &str, kind: Kind, value: &str) -> Field {
    let label = name.replace('_', " ");
    match kind {
        Kind::Bool => {
            let mut f = Field::text(name, &label, "").kind("checkbox");
            if value == "true" {
                f.value = "1".into();
            }
            f
        }
        Kind::Choice(c) => {
            let opts: Vec<String> = c.iter().map(|s| s.to_string()).collect();
            Field::select(name, &label, value, &opts)
        }
        Kind::Int { .. } | Kind::Str => Field::text(name, &label, value),
    }
}

async fn settings_form(ui: &Ui) -> Result<FormBlock> {
    let mut fields = Vec::new();
    let mut hidden = Vec::new();
    for (name, kind, _) in config::SETTINGS {
        let v = text(&config::get(&ui.db, name).await?);
        fields.push(setting_field(name, *kind, &v));
        // An unticked box posts nothing: this "false" comes first, a ticked
        // box's value after it wins.
        if matches!(kind, Kind::Bool) {
            hidden.push((name.to_string(), "false".to_string()));
        }
    }
    let mut f = FormBlock::new("/MAAS/r/settings", "Save settings", fields);
    f.hidden = hidden;
    f.id = "settings".into();
    Ok(f)
}

fn settings_page(viewer: &Viewer, form: FormBlock, notice: &str) -> Page {
    let mut p = Page::new(viewer.nav(), "Settings").section(
        Section::new("all", "")
            .text("The names are the API's (maas <profile> maas set-config name=… value=…).")
            .form(form),
    );
    p.notice = notice.into();
    p
}

pub async fn settings(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    viewer.admin()?;
    let f = settings_form(&ui).await.or_page(&viewer.nav())?;
    Ok(settings_page(&viewer, f, "").ok())
}

/// The value a setting's field posted (an unchecked box is false).
fn posted(f: &FormData, name: &str, kind: Kind) -> String {
    match kind {
        Kind::Bool => if f.checked(name) { "true" } else { "false" }.into(),
        _ => f.get(name).unwrap_or("").trim().to_string(),
    }
}

/// POST: every changed setting the form carries is checked first; nothing is written
/// unless all are valid (errors beside their fields).
pub async fn save_settings(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let me = p.viewer.admin()?.clone();
    let mut changes = Vec::new();
    let mut errs = maas_model::constraints::FieldErrors::new();
    for (name, kind, _) in config::SETTINGS {
        // Only the settings the form carries (a partial post changes no others).
        if p.form.get(name).is_none() {
            continue;
        }
        let new = posted(&p.form, name, *kind);
        let old = text(&config::get(&ui.db, name).await.or_page(&nav)?);
        if new == old {
            continue;
        }
        match config::validate(name, &new) {
            Ok(_) => changes.push((*name, new)),
            Err(Error::Validation(e)) => {
                let msgs: Vec<String> = e.into_values().flatten().collect();
                errs.insert(name.to_string(), msgs);
            }
            Err(e) => return Err(fail(&nav, e)),
        }
    }
    if !errs.is_empty() {
        let form = settings_form(&ui)
            .await
            .or_page(&nav)?
            .refill(&p.form)
            .error(&Error::Validation(errs));
        return Ok(settings_page(&p.viewer, form, "").status(StatusCode::BAD_REQUEST));
    }
    for (name, value) in &changes {
        config::change(&ui.db, &me.username, name, value)
            .await
            .or_page(&nav)?;
    }
    let f = settings_form(&ui).await.or_page(&nav)?;
    let notice = match changes.len() {
        0 => "Nothing changed.".to_string(),
        n => format!(
            "Saved {n} setting{}: {}.",
            if n == 1 { "" } else { "s" },
            changes.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
        ),
    };
    Ok(settings_page(&p.viewer, f, &notice).ok())
}

/// The config key that marks the first-run page done.
pub const INTRO_DONE: &str = "completed_intro";

/// Where an admin goes after signing in: the first-run page until done.
pub async fn after_sign_in(ui: &Ui, username: &str, next: String) -> String {
    let admin = users::get(&ui.db, username)
        .await
        .is_ok_and(|u| u.is_superuser);
    if admin && !config::get_bool(&ui.db, INTRO_DONE).await.unwrap_or(true) {
        let q: String =
            percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        return format!("/MAAS/r/intro?next={q}");
    }
    next
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/MAAS/r/") && !n.contains("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/MAAS/r/machines".into(),
    }
}

async fn intro_form(ui: &Ui) -> Result<FormBlock> {
    let name = config::get_str(&ui.db, "maas_name").await?;
    let dns = config::get_str(&ui.db, "upstream_dns").await?;
    Ok(FormBlock::new(
        "/MAAS/r/intro",
        "Save and finish",
        vec![
            Field::text("maas_name", "Region name (maas_name)", &name).required(),
            Field::text(
                "upstream_dns",
                "Upstream DNS servers (space-separated addresses; blank: none)",
                &dns,
            ),
            Field::text(
                "ssh_key",
                "Your SSH public key (optional; deployed machines let it in)",
                "",
            )
            .kind("textarea"),
        ],
    ))
}

async fn intro_page(
    ui: &Ui,
    viewer: &Viewer,
    host: &str,
    next: &str,
    form: FormBlock,
) -> Result<Page> {
    let mut form = form;
    form.id = "intro".into();
    form.hidden = vec![("next".into(), next.into())];
    let secret = racks::enrollment_secret(&ui.db).await?;
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let host = if host.is_empty() { "REGION" } else { host };
    let mut rack = Section::new("rack", "Add a rack controller").text(
        "On the rack's host, run (5250 is the region's --rpc-listen port; the rack's first start enrolls it with this secret):",
    );
    rack.secret = format!(
        "maas-rack serve --region https://{host}:5250 --secret {secret} --data-dir /var/lib/maas-rack"
    );
    let mut skip = FormBlock::new("/MAAS/r/intro", "Skip for now", Vec::new());
    skip.hidden = vec![("skip".into(), "1".into()), ("next".into(), next.into())];
    let mut p = Page::new(viewer.nav(), "Welcome to MAAS")
        .section(
            Section::new("setup", "Region")
                .text("A few settings before the first machines; all can be changed later in Settings and Account.")
                .form(form),
        )
        .section(rack)
        .section(Section::new("skip", "").form(skip));
    p.notice = "This page is shown after each sign-in until it is completed.".into();
    Ok(p)
}

fn host_of(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(*c))
        .collect()
}

pub async fn intro(
    State(ui): State<Ui>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    viewer: Viewer,
) -> PageResult {
    viewer.admin()?;
    let next = safe_next(q.get("next").map(String::as_str));
    let nav = viewer.nav();
    let form = intro_form(&ui).await.or_page(&nav)?;
    let p = intro_page(&ui, &viewer, &host_of(&headers), &next, form)
        .await
        .or_page(&nav)?;
    Ok(p.ok())
}

pub async fn finish_intro(State(ui): State<Ui>, headers: HeaderMap, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let me = p.viewer.admin()?.clone();
    let f = &p.form;
    let next = safe_next(f.get("next"));
    if !f.checked("skip") {
        let name = f.get("maas_name").unwrap_or("").trim().to_string();
        let dns = f.get("upstream_dns").unwrap_or("").trim().to_string();
        let key = f.get("ssh_key").unwrap_or("").trim().to_string();
        let mut errs = maas_model::constraints::FieldErrors::new();
        if name.is_empty() {
            errs.insert("maas_name".into(), vec!["This field is required.".into()]);
        }
        if !key.is_empty()
            && let Err(m) = account::validate_ssh_key(&key)
        {
            errs.insert("ssh_key".into(), vec![m]);
        }
        for (n, v) in [("maas_name", &name), ("upstream_dns", &dns)] {
            if let Err(Error::Validation(e)) = config::validate(n, v) {
                errs.insert(n.into(), e.into_values().flatten().collect());
            }
        }
        let mut saved = Ok(());
        if errs.is_empty() {
            config::change(&ui.db, &me.username, "maas_name", &name)
                .await
                .or_page(&nav)?;
            config::change(&ui.db, &me.username, "upstream_dns", &dns)
                .await
                .or_page(&nav)?;
            if !key.is_empty() {
                saved = account::add_ssh_key(&ui.db, me.id, &key).await.map(|_| ());
                if let Err(Error::Validation(e)) = &saved {
                    errs.extend(e.values().map(|v| ("ssh_key".to_string(), v.clone())));
                }
            }
        }
        if !errs.is_empty() {
            let fb = intro_form(&ui)
                .await
                .or_page(&nav)?
                .refill(f)
                .error(&Error::Validation(errs));
            let page = intro_page(&ui, &p.viewer, &host_of(&headers), &next, fb)
                .await
                .or_page(&nav)?;
            return Ok(page.status(StatusCode::BAD_REQUEST));
        }
        saved.or_page(&nav)?;
    }
    config::change(&ui.db, &me.username, INTRO_DONE, "true")
        .await
        .or_page(&nav)?;
    Ok(Redirect::to(&next).into_response())
}
