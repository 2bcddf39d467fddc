//! Fabrics and their VLANs: `/MAAS/r/fabric/<id>` (its VLANs; admins edit
//! it, add a VLAN, delete it), a new fabric from `/MAAS/r/subnets`, and a
//! VLAN's deletion. Every write is the `services::network` call the API's
//! `fabrics/` and `fabrics/<id>/vlans/` make, with their messages.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::network::fabrics::{self, FabricPatch, NewFabric};
use crate::services::network::vlans::{self, VlanParams, VlanRef};
use crate::services::network::{not_found, spaces};
use crate::services::places::valid_name;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{Button, Cell, FormBlock, Page, Row, Section, Table, fail};
use crate::ui::netform::{Confirm, Parse, confirm_then, s};
use crate::ui::networks::{dhcp_text, vlan_label};
use crate::ui::session::{Posted, Viewer};

/// The API's check of a fabric or space name (`api/networks`).
pub fn check_name(f: &mut Parse, what: &str, n: &str) {
    if !valid_name(n) {
        f.add(
            "name",
            format!("'{n}' is not a valid {what} name: use letters, digits, '-', '_' and '.'."),
        );
    }
}

/// The API's check of a VLAN name.
pub fn check_vlan_name(f: &mut Parse, n: &str) {
    if n.len() > 256 || n.chars().any(char::is_control) {
        f.add(
            "name",
            "A VLAN name has at most 256 characters and no control characters.",
        );
    }
}

/// Fabric ids in paths are numbers.
fn fabric_id(id: &str) -> Result<i64> {
    id.trim().parse::<i64>().map_err(|_| not_found("Fabric"))
}

/// The new-fabric form (on the subnets page).
pub fn create_form() -> FormBlock {
    let mut f = FormBlock::new(
        "/MAAS/r/fabrics/add",
        "Add fabric",
        vec![
            Field::text("name", "Name", "").id("fabric-name"),
            Field::text("class_type", "Class type", "").id("fabric-class_type"),
        ],
    );
    f.id = "add-fabric".into();
    f.heading = "Add a fabric".into();
    f
}

/// POST `/MAAS/r/fabrics/add` (admins, as `fabrics/` POST).
pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut f = Parse::new(&p.form);
    let name = f.nonempty("name");
    if let Some(n) = &name {
        check_name(&mut f, "fabric", n);
    }
    let new = NewFabric {
        name,
        class_type: f.nonempty("class_type"),
    };
    match fabrics::create(&ui, new, f.errs).await {
        Ok(v) => Ok(Redirect::to(&format!("/MAAS/r/fabric/{}", s(&v["id"]))).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = create_form().refill(&p.form).error(&e);
            crate::ui::networks::list_with(&ui, &p.viewer, vec![form], StatusCode::BAD_REQUEST)
                .await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// Spaces as choices ("" first: no space).
pub async fn space_choices(ui: &Ui) -> Result<Vec<(String, String)>> {
    let mut out = vec![(String::new(), "(no space)".to_string())];
    out.extend(
        spaces::list(ui)
            .await?
            .iter()
            .map(|sp| (s(&sp["name"]), s(&sp["name"]))),
    );
    Ok(out)
}

fn edit_form(id: i64, fab: &Value) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/fabric/{id}/edit"),
        "Save fabric",
        vec![
            Field::text("name", "Name", &s(&fab["name"])).id("fabric-name"),
            Field::text("class_type", "Class type", &s(&fab["class_type"])).id("fabric-class_type"),
        ],
    );
    f.id = "edit-fabric".into();
    f
}

fn vlan_form(id: i64, spaces: Vec<(String, String)>) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/fabric/{id}/vlans"),
        "Add VLAN",
        vec![
            Field::text("vid", "VID (1–4094)", "")
                .id("vlan-vid")
                .required(),
            Field::text("name", "Name", "").id("vlan-name"),
            Field::text("mtu", "MTU", "1500").id("vlan-mtu"),
            Field::text("space", "Space", "")
                .kind("select")
                .choices(spaces)
                .id("vlan-space"),
        ],
    );
    f.id = "add-vlan".into();
    f
}

fn delete_form(id: i64) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/fabric/{id}/delete"),
        "Delete fabric…",
        Vec::new(),
    );
    f.id = "delete-fabric".into();
    f.danger = true;
    f
}

/// The fabric page; `edit`/`add` replace the blank forms (a refusal).
async fn page(
    ui: &Ui,
    viewer: &Viewer,
    id: i64,
    edit: Option<FormBlock>,
    add: Option<FormBlock>,
) -> Result<Page> {
    let fab = fabrics::get(ui, &id.to_string()).await?;
    let admin = viewer.user.is_superuser;
    let vlans = fab["vlans"].as_array().cloned().unwrap_or_default();
    let rows = vlans
        .iter()
        .map(|v| {
            let vid = v["id"].as_i64().unwrap_or(0);
            let mut r = Row::new(vec![
                Cell::link(vlan_label(v), format!("/MAAS/r/vlan/{vid}")),
                s(&v["vid"]).into(),
                s(&v["mtu"]).into(),
                s(&v["space"]).into(),
                dhcp_text(v).into(),
            ]);
            if admin && v["vid"].as_i64() != Some(0) {
                r = r.button(
                    Button::new(
                        "Delete…",
                        format!("/MAAS/r/vlan/{vid}/delete"),
                        format!("Delete {}", vlan_label(v)),
                    )
                    .danger(),
                );
            }
            r
        })
        .collect();
    let class = s(&fab["class_type"]);
    let mut p = Page::new(viewer.nav(), format!("Fabric {}", s(&fab["name"])))
        .section(Section::new("facts", "").facts(vec![
            (
                "Class type",
                if class.is_empty() {
                    "none".into()
                } else {
                    class
                },
            ),
            ("VLANs", vlans.len().to_string()),
        ]))
        .section(
            Section::new("vlans", "VLANs")
                .table(Table::new(&["VLAN", "VID", "MTU", "Space", "DHCP"], rows)),
        );
    p.back = ("/MAAS/r/subnets".into(), "All subnets".into());
    if admin {
        let add = match add {
            Some(a) => a,
            None => vlan_form(id, space_choices(ui).await?),
        };
        p = p
            .section(Section::new("add-vlan-s", "Add a VLAN").form(add))
            .section(
                Section::new("edit-fabric-s", "Edit fabric")
                    .form(edit.unwrap_or_else(|| edit_form(id, &fab))),
            )
            .section(
                Section::new("delete-fabric-s", "Delete fabric")
                    .text("A fabric can go when no subnets or interfaces are on its VLANs.")
                    .form(delete_form(id)),
            );
    }
    Ok(p)
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    let nav = viewer.nav();
    let id = fabric_id(&id).or_page(&nav)?;
    Ok(page(&ui, &viewer, id, None, None).await.or_page(&nav)?.ok())
}

/// POST: the fabric's name and class type (as `fabrics/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = fabric_id(&id).or_page(&nav)?;
    let fab = fabrics::get(&ui, &id.to_string()).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let name = f.text("name");
    if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
        check_name(&mut f, "fabric", n);
    }
    let patch = FabricPatch {
        name,
        class_type: f.text("class_type"),
    };
    match fabrics::update(&ui, &id.to_string(), patch, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/fabric/{id}")).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(id, &fab).refill(&p.form).error(&e);
            let page = page(&ui, &p.viewer, id, Some(form), None)
                .await
                .or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: a new VLAN on the fabric (as `fabrics/<id>/vlans/` POST).
pub async fn add_vlan(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = fabric_id(&id).or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let vid = f.int_between("vid", 1, 4094);
    if vid.is_none() && !f.errs.contains_key("vid") {
        f.add("vid", crate::ui::netform::REQUIRED);
    }
    let name = f.nonempty("name");
    if let Some(n) = &name {
        check_vlan_name(&mut f, n);
    }
    let params = VlanParams {
        vid,
        name,
        mtu: f.int_between("mtu", 552, 65535).unwrap_or(1500),
        description: f.text("description").unwrap_or_default(),
        space: f.nonempty("space"),
    };
    match vlans::create(&ui, &id.to_string(), params, f.errs).await {
        Ok(v) => Ok(Redirect::to(&format!("/MAAS/r/vlan/{}", s(&v["id"]))).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let spaces = space_choices(&ui).await.or_page(&nav)?;
            let form = vlan_form(id, spaces).refill(&p.form).error(&e);
            let page = page(&ui, &p.viewer, id, None, Some(form))
                .await
                .or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: delete the fabric, after the confirm step (the service refuses
/// while subnets or interfaces are on it).
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = fabric_id(&id).or_page(&nav)?;
    let fab = fabrics::get(&ui, &id.to_string()).await.or_page(&nav)?;
    let name = s(&fab["name"]);
    let c = Confirm {
        title: format!("Delete fabric {name}"),
        text: format!("Fabric {name} and its VLANs will be deleted."),
        action: format!("/MAAS/r/fabric/{id}/delete"),
        back: "/MAAS/r/subnets".into(),
        hidden: vec![],
    };
    let spec = id.to_string();
    confirm_then(&p, c, || fabrics::delete(&ui, &spec)).await
}

/// POST: delete a VLAN, after the confirm step (the default VLAN and a
/// VLAN with subnets are refused by the service).
pub async fn delete_vlan(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let r = VlanRef::Id(id.clone());
    let v = vlans::get(&ui, &r).await.or_page(&nav)?;
    let c = Confirm {
        title: format!("Delete {}", vlan_label(&v)),
        text: format!(
            "{} of fabric {} will be deleted.",
            vlan_label(&v),
            s(&v["fabric"])
        ),
        action: format!("/MAAS/r/vlan/{}/delete", s(&v["id"])),
        back: format!("/MAAS/r/fabric/{}", s(&v["fabric_id"])),
        hidden: vec![],
    };
    confirm_then(&p, c, || vlans::delete(&ui, &r)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::form::FormData;

    #[test]
    fn names_checked_like_the_api() {
        let form = FormData::default();
        let mut f = Parse::new(&form);
        check_name(&mut f, "fabric", "bad name");
        check_vlan_name(&mut f, "ok");
        assert_eq!(
            f.errs["name"],
            vec!["'bad name' is not a valid fabric name: use letters, digits, '-', '_' and '.'."]
        );
    }
}
