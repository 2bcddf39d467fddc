//! `/MAAS/r/notifications`: the notifications addressed to the viewer
//! (dismissable ones have a Dismiss button, as `op=dismiss`); admins also
//! create them, edit one on its own page (`/MAAS/r/notification/<id>`) and
//! delete it after a confirm step, through `services::misc::notifications`
//! with the API's messages beside the fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::Error;
use crate::services::misc::notifications::{self as notes, CATEGORIES, Change, Notification};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail,
};
use crate::ui::session::{Posted, Viewer};

const LIST: &str = "/MAAS/r/notifications";

fn check(name: &str, label: &str, on: bool) -> Field {
    Field::text(name, label, if on { "1" } else { "" }).kind("checkbox")
}

fn fields(n: Option<&Notification>, user: &str) -> Vec<Field> {
    let cats: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
    let ctx = n.map(|x| x.context.to_string()).unwrap_or_default();
    vec![
        Field::text(
            "message",
            "Message",
            n.map(|x| x.message.as_str()).unwrap_or(""),
        )
        .kind("textarea")
        .required(),
        Field::select(
            "category",
            "Category",
            n.map(|x| x.category.as_str()).unwrap_or("info"),
            &cats,
        ),
        check("users", "For every user", n.is_some_and(|x| x.users)),
        check(
            "admins",
            "For every administrator",
            n.is_some_and(|x| x.admins),
        ),
        Field::text("user", "For one user (name; empty: none)", user),
        check(
            "dismissable",
            "Dismissable",
            n.is_none_or(|x| x.dismissable),
        ),
        Field::text(
            "ident",
            "Identifier (optional)",
            n.and_then(|x| x.ident.as_deref()).unwrap_or(""),
        ),
        Field::text("context", "Context (a JSON object)", &ctx),
    ]
}

/// The form as the API reads it; checkboxes always given.
fn change(f: &FormData) -> Change {
    Change {
        ident: Some(f.get("ident").unwrap_or("").to_string()),
        user: Some(f.get("user").unwrap_or("").to_string()),
        users: Some(f.checked("users")),
        admins: Some(f.checked("admins")),
        message: Some(f.get("message").unwrap_or("").to_string()),
        context: Some(f.get("context").unwrap_or("").to_string()),
        category: Some(f.get("category").unwrap_or("").to_string()),
        dismissable: Some(f.checked("dismissable")),
    }
}

fn create_form() -> FormBlock {
    let mut f = FormBlock::new(format!("{LIST}/add"), "Add notification", fields(None, ""));
    f.id = "add-notification".into();
    f
}

async fn list_page(ui: &Ui, viewer: &Viewer, form: FormBlock) -> crate::error::Result<Page> {
    let admin = viewer.user.is_superuser;
    let rows = notes::list(ui, &viewer.user)
        .await?
        .into_iter()
        .map(|n| {
            let msg: Cell = if admin {
                Cell::link(&n.message, format!("/MAAS/r/notification/{}", n.id))
            } else {
                n.message.clone().into()
            };
            let mut r = Row::new(vec![msg, n.category.clone().into()]);
            if n.dismissable {
                r = r.button(Button::new(
                    "Dismiss",
                    format!("/MAAS/r/notification/{}/dismiss", n.id),
                    format!("Dismiss notification {}", n.id),
                ));
            }
            if admin {
                r = r.button(
                    Button::new(
                        "Delete",
                        format!("/MAAS/r/notification/{}/delete", n.id),
                        format!("Delete notification {}", n.id),
                    )
                    .danger(),
                );
            }
            r
        })
        .collect();
    let table = Table::new(&["Message", "Category"], rows);
    let mut page = Page::new(viewer.nav(), "Notifications")
        .section(Section::new("list", "For you").table(table));
    if admin {
        let rows = notes::all(ui, &viewer.user)
            .await?
            .into_iter()
            .map(|n| {
                let to = match (n.users, n.admins, n.user_id.is_some()) {
                    (true, true, _) => "everyone",
                    (true, false, _) => "users",
                    (false, true, _) => "administrators",
                    (false, false, true) => "one user",
                    _ => "nobody",
                };
                Row::new(vec![
                    Cell::link(&n.message, format!("/MAAS/r/notification/{}", n.id)),
                    n.category.clone().into(),
                    to.to_string().into(),
                ])
                .button(
                    Button::new(
                        "Delete",
                        format!("/MAAS/r/notification/{}/delete", n.id),
                        format!("Delete notification {} (all)", n.id),
                    )
                    .danger(),
                )
            })
            .collect();
        let all = Table::new(&["Message", "Category", "For"], rows);
        page = page
            .section(Section::new("all", "Every notification").table(all))
            .section(Section::new("add", "Add a notification").form(form));
    }
    Ok(page)
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = list_page(&ui, &viewer, create_form())
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

/// POST `…/add` (admins, as `notifications/` POST).
pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    match notes::save(&ui, None, change(&p.form)).await {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ Error::Validation(_)) => {
            let form = create_form().refill(&p.form).error(&e);
            let page = list_page(&ui, &p.viewer, form).await.or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

async fn edit_form(ui: &Ui, n: &Notification) -> crate::error::Result<FormBlock> {
    let user = match notes::addressee(ui, n).await? {
        Some(a) => a.1,
        None => String::new(),
    };
    let mut f = FormBlock::new(
        format!("/MAAS/r/notification/{}/edit", n.id),
        "Save notification",
        fields(Some(n), &user),
    );
    f.id = "edit-notification".into();
    f.cancel = LIST.into();
    Ok(f)
}

fn edit_page(viewer: &Viewer, n: &Notification, form: FormBlock) -> Page {
    let mut page = Page::new(viewer.nav(), format!("Notification {}", n.id))
        .section(Section::new("edit", "Edit notification").form(form));
    page.back = (LIST.into(), "All notifications".into());
    page
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let n = notes::get(&ui, &viewer.user, &id).await.or_page(&nav)?;
    let form = edit_form(&ui, &n).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &n, form).ok())
}

/// POST `…/edit` (admins, as `notifications/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let n = notes::get(&ui, &p.viewer.user, &id).await.or_page(&nav)?;
    match notes::save(&ui, Some(n.clone()), change(&p.form)).await {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ Error::Validation(_)) => {
            let form = edit_form(&ui, &n)
                .await
                .or_page(&nav)?
                .refill(&p.form)
                .error(&e);
            Ok(edit_page(&p.viewer, &n, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST `…/dismiss` (anyone it is addressed to, as `op=dismiss`).
pub async fn dismiss(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let n = notes::get(&ui, &p.viewer.user, &id).await.or_page(&nav)?;
    notes::dismiss(&ui, &p.viewer.user, &n)
        .await
        .or_page(&nav)?;
    Ok(Redirect::to(LIST).into_response())
}

/// POST `…/delete` (admins): confirmed first.
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let n = notes::get(&ui, &p.viewer.user, &id).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete notification",
            &format!(
                "The notification \"{}\" will be deleted for everyone.",
                n.message
            ),
            &format!("/MAAS/r/notification/{id}/delete"),
            Vec::new(),
            LIST,
        ));
    }
    notes::delete(&ui, &n).await.or_page(&nav)?;
    Ok(Redirect::to(LIST).into_response())
}
