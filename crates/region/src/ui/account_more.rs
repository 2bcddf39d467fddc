//! More of `/MAAS/r/account`: the viewer's SSL keys (as
//! `account/prefs/sslkeys/`: add, with the service's check and message
//! beside the field; delete after a confirm step) and renaming an API key
//! (as `account/?op=update_token_name`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::{Error, Result};
use crate::services::account;
use crate::services::misc::keys;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{Button, FormBlock, Row, Section, Table, confirm, confirmed, fail};
use crate::ui::session::{Posted, Viewer};

const HOME: &str = "/MAAS/r/account";

pub fn ssl_form() -> FormBlock {
    let mut f = FormBlock::new(
        format!("{HOME}/sslkeys"),
        "Add SSL key",
        vec![
            Field::text("ssl_key", "Certificate (PEM)", "")
                .kind("textarea")
                .id("ssl_key"),
        ],
    );
    f.id = "add-sslkey".into();
    f
}

/// The rename form for the viewer's API keys ((token key, label) pairs).
pub fn rename_form(tokens: Vec<(String, String)>) -> FormBlock {
    let mut f = FormBlock::new(
        format!("{HOME}/token/rename"),
        "Rename API key",
        vec![
            Field::select("token_key", "API key", "", &[])
                .choices(tokens)
                .id("rename_token"),
            Field::text("name", "New name", "")
                .id("rename_name")
                .required(),
        ],
    );
    f.id = "rename-token".into();
    f
}

/// The SSL keys section with `form` (as it is: refused input kept).
pub async fn ssl_section(ui: &Ui, viewer: &Viewer, form: FormBlock) -> Result<Section> {
    let rows = keys::ssl_keys(ui, &viewer.user)
        .await?
        .into_iter()
        .map(|k| {
            let first = k.2.lines().find(|l| !l.starts_with("-----")).unwrap_or("");
            let short: String = first.chars().take(32).collect();
            Row::new(vec![format!("{short}…").into(), k.0.to_string().into()]).button(
                Button::new(
                    "Delete",
                    format!("{HOME}/sslkey/{}/delete", k.0),
                    format!("Delete SSL key {}", k.0),
                )
                .danger(),
            )
        })
        .collect();
    let mut table = Table::new(&["Key", "Id"], rows);
    table.empty = "No SSL keys.".into();
    Ok(Section::new("sslkeys", "SSL keys").table(table).form(form))
}

/// The account page with one of its forms replaced (a refusal, 400).
async fn refused(ui: &Ui, p: &Posted, form: FormBlock) -> PageResult {
    let nav = p.viewer.nav();
    let page = crate::ui::account::page_with(ui, &p.viewer, Some(form))
        .await
        .or_page(&nav)?;
    Ok(page.status(StatusCode::BAD_REQUEST))
}

/// POST `…/sslkeys`: `keys::add_ssl_key`.
pub async fn add_ssl(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let key = p.form.get("ssl_key").unwrap_or("").trim().to_string();
    let added = if key.is_empty() {
        Err(Error::field("key", "This field is required."))
    } else {
        keys::add_ssl_key(&ui, &p.viewer.user, &key)
            .await
            .map(|_| ())
    };
    match added {
        Ok(()) => Ok(Redirect::to(HOME).into_response()),
        Err(Error::Validation(mut errs)) => {
            // The API's field is `key`; this form's is `ssl_key`.
            if let Some(m) = errs.remove("key") {
                errs.insert("ssl_key".into(), m);
            }
            let form = ssl_form().refill(&p.form).error(&Error::Validation(errs));
            refused(&ui, &p, form).await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST `…/sslkey/<id>/delete`: confirmed first.
pub async fn delete_ssl(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let k = keys::ssl_key(&ui, &p.viewer.user, &id)
        .await
        .or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete SSL key",
            &format!("SSL key {} will be removed from your account.", k.0),
            &format!("{HOME}/sslkey/{id}/delete"),
            vec![],
            HOME,
        ));
    }
    keys::delete_ssl_key(&ui, &p.viewer.user, &id)
        .await
        .or_page(&nav)?;
    Ok(Redirect::to(HOME).into_response())
}

/// POST `…/token/rename` (`token_key`, `name`): `account::rename_token`.
pub async fn rename_token(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let tk = p.form.text("token_key").unwrap_or_default();
    let name = p.form.text("name");
    let r = match name {
        None => Err(Error::field("name", "This field is required.")),
        Some(n) => account::rename_token(&ui.db, p.viewer.user.id, &tk, &n).await,
    };
    match r {
        Ok(()) => Ok(Redirect::to(HOME).into_response()),
        Err(e @ Error::Validation(_)) => {
            let tokens = crate::ui::account::token_choices(&ui, &p.viewer)
                .await
                .or_page(&nav)?;
            let form = rename_form(tokens).refill(&p.form).error(&e);
            refused(&ui, &p, form).await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}
