//! `/MAAS/r/tags`: everyone sees the tags; admins create, edit
//! (`/MAAS/r/tag/<name>`) and delete (confirmed; machines lose the tag)
//! through `services::tags`, with the API's messages beside the fields.
//! Applying a manual tag to machines is the machine list's bulk action; a
//! tag with an XPath definition picks its machines itself.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::{Error, Result};
use crate::services::tags::{self, TagRow};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail,
};
use crate::ui::session::{Posted, Viewer};

const LIST: &str = "/MAAS/r/tags";

fn href(t: &TagRow) -> String {
    format!("/MAAS/r/tag/{}", t.name)
}

fn fields(name: &str, comment: &str, kernel_opts: &str, definition: &str) -> Vec<Field> {
    vec![
        Field::text("name", "Name", name).required(),
        Field::text("comment", "Comment", comment),
        Field::text("kernel_opts", "Kernel options", kernel_opts),
        Field::text(
            "definition",
            "XPath definition over lshw (empty: a manual tag)",
            definition,
        ),
    ]
}

fn create_form() -> FormBlock {
    let mut f = FormBlock::new(format!("{LIST}/add"), "Add tag", fields("", "", "", ""));
    f.id = "add-tag".into();
    f
}

async fn list_page(ui: &Ui, viewer: &Viewer, form: FormBlock) -> Result<Page> {
    let admin = viewer.user.is_superuser;
    let rows = tags::list(ui)
        .await?
        .into_iter()
        .map(|t| {
            let name = if admin {
                Cell::link(&t.name, href(&t))
            } else {
                t.name.clone().into()
            };
            let mut r = Row::new(vec![
                name,
                t.comment.clone().into(),
                t.definition.clone().into(),
                t.kernel_opts.clone().into(),
            ]);
            if admin {
                r = r.button(
                    Button::new(
                        "Delete",
                        format!("{}/delete", href(&t)),
                        format!("Delete tag {}", t.name),
                    )
                    .danger(),
                );
            }
            r
        })
        .collect();
    let table = Table::new(&["Name", "Comment", "Definition", "Kernel options"], rows);
    let mut page = Page::new(viewer.nav(), "Tags").section(Section::new("list", "").table(table));
    if admin {
        page = page.section(Section::new("add", "Add a tag").form(form));
    }
    Ok(page)
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = list_page(&ui, &viewer, create_form())
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

fn text<'a>(f: &'a FormData, key: &str) -> &'a str {
    f.get(key).unwrap_or("")
}

pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let f = &p.form;
    let made = tags::create(
        &ui,
        text(f, "name").trim(),
        text(f, "comment"),
        text(f, "kernel_opts"),
        text(f, "definition"),
    )
    .await;
    match made {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = create_form().refill(f).error(&e);
            let page = list_page(&ui, &p.viewer, form).await.or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn edit_form(t: &TagRow) -> FormBlock {
    let mut f = FormBlock::new(
        format!("{}/edit", href(t)),
        "Save changes",
        fields(&t.name, &t.comment, &t.kernel_opts, &t.definition),
    );
    f.id = "edit-tag".into();
    f.cancel = LIST.into();
    f
}

fn edit_page(viewer: &Viewer, t: &TagRow, form: FormBlock) -> Page {
    let mut page =
        Page::new(viewer.nav(), &t.name).section(Section::new("edit", "Edit tag").form(form));
    page.back = (LIST.into(), "All tags".into());
    page
}

pub async fn show(State(ui): State<Ui>, Path(name): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let t = tags::get(&ui, &name).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &t, edit_form(&t)).ok())
}

pub async fn edit(State(ui): State<Ui>, Path(name): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let t = tags::get(&ui, &name).await.or_page(&nav)?;
    let f = &p.form;
    let changed = tags::update(
        &ui,
        &t,
        text(f, "name").trim(),
        f.get("comment"),
        f.get("kernel_opts"),
        f.get("definition"),
    )
    .await;
    match changed {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(&t).refill(f).error(&e);
            Ok(edit_page(&p.viewer, &t, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn delete(State(ui): State<Ui>, Path(name): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let t = tags::get(&ui, &name).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete tag",
            &format!(
                "Tag {} will be deleted; machines carrying it lose it.",
                t.name
            ),
            &format!("{}/delete", href(&t)),
            vec![],
            LIST,
        ));
    }
    tags::delete(&ui, &t).await.or_page(&nav)?;
    Ok(Redirect::to(LIST).into_response())
}
