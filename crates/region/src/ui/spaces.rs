//! `/MAAS/r/spaces`: every space with its VLANs and subnets; admins add,
//! rename/edit (`/MAAS/r/space/<id>`) and delete (confirmed; its VLANs go
//! back to no space), through `services::network::spaces` as the API's
//! `spaces/` does. A VLAN's space is set on the VLAN's own form.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::network::{not_found, spaces};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fabrics::check_name;
use crate::ui::fields::Field;
use crate::ui::kit::{Button, Cell, FormBlock, Page, Row, Section, Table, fail};
use crate::ui::netform::{Confirm, Parse, confirm_then, s};
use crate::ui::networks::vlan_label;
use crate::ui::session::{Posted, Viewer};

fn space_id(id: &str) -> Result<i64> {
    id.trim().parse::<i64>().map_err(|_| not_found("Space"))
}

fn fields(name: &str, description: &str) -> Vec<Field> {
    vec![
        Field::text("name", "Name", name),
        Field::text("description", "Description", description),
    ]
}

fn create_form() -> FormBlock {
    let mut f = FormBlock::new("/MAAS/r/spaces/add", "Add space", fields("", ""));
    f.id = "add-space".into();
    f
}

fn names(v: &Value, key: &str, f: impl Fn(&Value) -> String) -> String {
    v[key]
        .as_array()
        .map(|a| a.iter().map(f).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

async fn list_page(ui: &Ui, viewer: &Viewer, form: FormBlock) -> Result<Page> {
    let admin = viewer.user.is_superuser;
    let rows = spaces::list(ui)
        .await?
        .iter()
        .map(|sp| {
            let id = s(&sp["id"]);
            let name = s(&sp["name"]);
            let first = if admin {
                Cell::link(&name, format!("/MAAS/r/space/{id}"))
            } else {
                name.clone().into()
            };
            let mut r = Row::new(vec![
                first,
                s(&sp["description"]).into(),
                names(sp, "vlans", |v| {
                    format!("{} / {}", s(&v["fabric"]), vlan_label(v))
                })
                .into(),
                names(sp, "subnets", |sn| s(&sn["cidr"])).into(),
            ]);
            if admin {
                r = r.button(
                    Button::new(
                        "Delete…",
                        format!("/MAAS/r/space/{id}/delete"),
                        format!("Delete space {name}"),
                    )
                    .danger(),
                );
            }
            r
        })
        .collect();
    let mut t = Table::new(&["Name", "Description", "VLANs", "Subnets"], rows);
    t.empty = "No spaces yet.".into();
    let mut page = Page::new(viewer.nav(), "Spaces").section(
        Section::new("list", "")
            .text("A VLAN joins a space on the VLAN's page.")
            .table(t),
    );
    page.back = ("/MAAS/r/subnets".into(), "All subnets".into());
    if admin {
        page = page.section(Section::new("add", "Add a space").form(form));
    }
    Ok(page)
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    Ok(list_page(&ui, &viewer, create_form())
        .await
        .or_page(&nav)?
        .ok())
}

/// POST: a new space (admins, as `spaces/` POST).
pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut f = Parse::new(&p.form);
    let name = f.nonempty("name");
    if let Some(n) = &name {
        check_name(&mut f, "space", n);
    }
    let description = f.text("description").unwrap_or_default();
    match spaces::create(&ui, name, description, f.errs).await {
        Ok(_) => Ok(Redirect::to("/MAAS/r/spaces").into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = create_form().refill(&p.form).error(&e);
            let page = list_page(&ui, &p.viewer, form).await.or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn edit_form(id: i64, sp: &Value) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/space/{id}/edit"),
        "Save space",
        fields(&s(&sp["name"]), &s(&sp["description"])),
    );
    f.id = "edit-space".into();
    f.cancel = "/MAAS/r/spaces".into();
    f
}

fn edit_page(viewer: &Viewer, sp: &Value, form: FormBlock) -> Page {
    let mut page = Page::new(viewer.nav(), format!("Space {}", s(&sp["name"])))
        .section(Section::new("edit", "Edit space").form(form));
    page.back = ("/MAAS/r/spaces".into(), "All spaces".into());
    page
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let id = space_id(&id).or_page(&nav)?;
    let sp = spaces::get(&ui, &id.to_string()).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &sp, edit_form(id, &sp)).ok())
}

/// POST: rename / describe a space (as `spaces/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = space_id(&id).or_page(&nav)?;
    let sp = spaces::get(&ui, &id.to_string()).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let name = f.text("name");
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        check_name(&mut f, "space", n);
    }
    let patch = spaces::SpacePatch {
        name,
        description: f.text("description"),
    };
    match spaces::update(&ui, &id.to_string(), patch, f.errs).await {
        Ok(_) => Ok(Redirect::to("/MAAS/r/spaces").into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(id, &sp).refill(&p.form).error(&e);
            Ok(edit_page(&p.viewer, &sp, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: delete a space, after the confirm step.
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = space_id(&id).or_page(&nav)?;
    let sp = spaces::get(&ui, &id.to_string()).await.or_page(&nav)?;
    let name = s(&sp["name"]);
    let c = Confirm {
        title: format!("Delete space {name}"),
        text: format!("Space {name} will be deleted; its VLANs will have no space."),
        action: format!("/MAAS/r/space/{id}/delete"),
        back: "/MAAS/r/spaces".into(),
        hidden: vec![],
    };
    let spec = id.to_string();
    confirm_then(&p, c, || spaces::delete(&ui, &spec)).await
}
