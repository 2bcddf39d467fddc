//! `/MAAS/r/account`: the viewer's own SSH keys (add, with the API's key
//! check and message beside the field; delete) and API keys (a new key is
//! shown once, in full; the list shows names and token keys only; delete).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Error, Result};
use crate::services::account;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{Button, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail};
use crate::ui::session::{Posted, Viewer};

const HOME: &str = "/MAAS/r/account";

/// A key as a short line: type, the start and end of its data, comment.
fn short(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let t = parts.next().unwrap_or("");
    let data = parts.next().unwrap_or("");
    let comment: Vec<&str> = parts.collect();
    let data = if data.len() > 24 && data.is_ascii() {
        format!("{}…{}", &data[..12], &data[data.len() - 8..])
    } else {
        data.to_string()
    };
    format!("{t} {data} {}", comment.join(" "))
        .trim()
        .to_string()
}

fn ssh_form() -> FormBlock {
    let mut f = FormBlock::new(
        format!("{HOME}/sshkeys"),
        "Add SSH key",
        vec![
            Field::text(
                "key",
                "Public key (one line, as in ~/.ssh/id_ed25519.pub)",
                "",
            )
            .kind("textarea"),
        ],
    );
    f.id = "add-sshkey".into();
    f
}

fn token_form() -> FormBlock {
    let mut f = FormBlock::new(
        format!("{HOME}/tokens"),
        "Create API key",
        vec![Field::text("name", "Name (optional)", "")],
    );
    f.id = "add-token".into();
    f
}

/// The viewer's API keys as rename choices: (token key, name).
pub async fn token_choices(ui: &Ui, viewer: &Viewer) -> Result<Vec<(String, String)>> {
    Ok(account::tokens(&ui.db, viewer.user.id)
        .await?
        .into_iter()
        .map(|t| {
            let label = if t.name.is_empty() {
                t.key.token_key.clone()
            } else {
                format!("{} ({})", t.name, t.key.token_key)
            };
            (t.key.token_key.clone(), label)
        })
        .collect())
}

/// The account page with `refused` in place of the form with its id (the
/// SSL key or rename form, refused input kept).
pub async fn page_with(ui: &Ui, viewer: &Viewer, refused: Option<FormBlock>) -> Result<Page> {
    page_full(ui, viewer, ssh_form(), token_form(), String::new(), refused).await
}

/// The account page; `ssh`/`token`: the forms as they are (refused input),
/// `secret`: a new API key to show once.
async fn page(
    ui: &Ui,
    viewer: &Viewer,
    ssh: FormBlock,
    token: FormBlock,
    secret: String,
) -> Result<Page> {
    page_full(ui, viewer, ssh, token, secret, None).await
}

async fn page_full(
    ui: &Ui,
    viewer: &Viewer,
    ssh: FormBlock,
    token: FormBlock,
    secret: String,
    refused: Option<FormBlock>,
) -> Result<Page> {
    use crate::ui::account_more::{rename_form, ssl_form, ssl_section};
    let (mut ssl, mut rename) = (None, None);
    match refused {
        Some(f) if f.id == "add-sslkey" => ssl = Some(f),
        Some(f) => rename = Some(f),
        None => {}
    }
    let uid = viewer.user.id;
    let keys = account::ssh_keys(&ui.db, uid).await?;
    let rows = keys
        .iter()
        .map(|k| {
            Row::new(vec![short(&k.key).into(), k.id.to_string().into()]).button(
                Button::new(
                    "Delete",
                    format!("{HOME}/sshkey/{}/delete", k.id),
                    format!("Delete SSH key {}", k.id),
                )
                .danger(),
            )
        })
        .collect();
    let mut ssh_table = Table::new(&["Key", "Id"], rows);
    ssh_table.empty = "No SSH keys: deployed machines will not let you in.".into();
    let tokens = account::tokens(&ui.db, uid).await?;
    let rows = tokens
        .iter()
        .map(|t| {
            let name = if t.name.is_empty() {
                "(unnamed)"
            } else {
                &t.name
            };
            Row::new(vec![name.into(), t.key.token_key.clone().into()]).button(
                Button::new(
                    "Delete",
                    format!("{HOME}/token/delete"),
                    format!("Delete API key {}", t.key.token_key),
                )
                .danger()
                .hidden("token_key", &t.key.token_key),
            )
        })
        .collect();
    let mut token_section = Section::new("apikeys", "API keys")
        .text("An API key is shown in full only when it is created; store it then (maas login <profile> <url> <key>).")
        .table(Table::new(&["Name", "Token key"], rows))
        .form(token);
    token_section.secret = secret;
    let mut p = Page::new(viewer.nav(), "Account")
        .section(
            Section::new("sshkeys", "SSH keys")
                .table(ssh_table)
                .form(ssh),
        )
        .section(token_section);
    let choices = token_choices(ui, viewer).await?;
    if !choices.is_empty() {
        let form = rename.unwrap_or_else(|| rename_form(choices));
        p = p.section(Section::new("rename", "Rename an API key").form(form));
    }
    let ssl = ssl_section(ui, viewer, ssl.unwrap_or_else(ssl_form)).await?;
    p = p.section(ssl);
    p.subtitle = viewer.user.username.clone();
    Ok(p)
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = page(&ui, &viewer, ssh_form(), token_form(), String::new())
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

fn back() -> Response {
    Redirect::to(HOME).into_response()
}

pub async fn add_ssh_key(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let key = p.form.get("key").unwrap_or("").trim().to_string();
    let added = if key.is_empty() {
        Err(Error::field("key", "This field is required."))
    } else {
        account::add_ssh_key(&ui.db, p.viewer.user.id, &key).await
    };
    match added {
        Ok(_) => Ok(back()),
        Err(e @ Error::Validation(_)) => {
            let ssh = ssh_form().refill(&p.form).error(&e);
            let page = page(&ui, &p.viewer, ssh, token_form(), String::new())
                .await
                .or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn delete_ssh_key(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let id: i64 = id
        .parse()
        .map_err(|_| fail(&nav, Error::NotFound(format!("No SSH key {id}."))))?;
    let key = account::ssh_key(&ui.db, &p.viewer.user, id)
        .await
        .or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete SSH key",
            &format!(
                "SSH key {} will be removed from your account; machines deployed from now on will not have it.",
                short(&key.key)
            ),
            &format!("{HOME}/sshkey/{id}/delete"),
            vec![],
            HOME,
        ));
    }
    account::delete_ssh_key(&ui.db, &key).await.or_page(&nav)?;
    Ok(back())
}

pub async fn create_token(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let name = p.form.get("name").unwrap_or("").trim().to_string();
    let k = account::create_token(&ui.db, p.viewer.user.id, &name)
        .await
        .or_page(&nav)?;
    let mut page = page(&ui, &p.viewer, ssh_form(), token_form(), k.to_string())
        .await
        .or_page(&nav)?;
    page.notice = "A new API key: copy it now, it is not shown again.".into();
    Ok(page.ok())
}

pub async fn delete_token(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let tk = p.form.text("token_key").unwrap_or_default();
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete API key",
            &format!("API key {tk} will stop working at once."),
            &format!("{HOME}/token/delete"),
            vec![("token_key".into(), tk)],
            HOME,
        ));
    }
    account::delete_token(&ui, p.viewer.user.id, &tk)
        .await
        .or_page(&nav)?;
    Ok(back())
}
