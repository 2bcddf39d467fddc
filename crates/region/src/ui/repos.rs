//! `/MAAS/r/repositories` (admins): package repositories (as
//! `package-repositories/`: add, edit on `/MAAS/r/repository/<id>`, delete
//! after a confirm step; the seeded Ubuntu archives are refused by the
//! service) and license keys (as `license-keys/`: add, change a key,
//! delete), with the services' messages beside the fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::{Error, Result};
use crate::services::misc::keys;
use crate::services::misc::repos::{self, Change, Repo};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail,
};
use crate::ui::session::{Posted, Viewer};

const LIST: &str = "/MAAS/r/repositories";

fn check(name: &str, label: &str, on: bool) -> Field {
    Field::text(name, label, if on { "1" } else { "" }).kind("checkbox")
}

fn fields(r: Option<&Repo>) -> Vec<Field> {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let list = |v: Option<&Vec<String>>| v.map(|l| l.join(", ")).unwrap_or_default();
    vec![
        Field::text("name", "Name", &text(r.map(|x| x.name.as_str()))).required(),
        Field::text(
            "url",
            "URL (http, https, ftp, file or ppa:)",
            &text(r.map(|x| x.url.as_str())),
        )
        .required(),
        Field::text(
            "distributions",
            "Distributions, comma-separated",
            &list(r.map(|x| &x.distributions)),
        ),
        Field::text(
            "components",
            "Components, comma-separated",
            &list(r.map(|x| &x.components)),
        ),
        Field::text(
            "arches",
            "Architectures, comma-separated",
            &list(r.map(|x| &x.arches)),
        ),
        Field::text(
            "disabled_pockets",
            "Disabled pockets (updates, security, backports)",
            &list(r.map(|x| &x.disabled_pockets)),
        ),
        Field::text(
            "disabled_components",
            "Disabled components (restricted, universe, multiverse)",
            &list(r.map(|x| &x.disabled_components)),
        ),
        check(
            "disable_sources",
            "Disable deb-src lines",
            r.is_none_or(|x| x.disable_sources),
        ),
        Field::text("key", "GPG key (armored)", &text(r.map(|x| x.key.as_str()))).kind("textarea"),
        check("enabled", "Enabled", r.is_none_or(|x| x.enabled)),
    ]
}

/// The form as the API reads it: lists comma-separated (empty: none),
/// checkboxes always given.
fn change(f: &FormData) -> Change {
    let list = |k: &str| {
        Some(
            f.get(k)
                .unwrap_or("")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    };
    Change {
        name: Some(f.get("name").unwrap_or("").trim().to_string()),
        url: Some(f.get("url").unwrap_or("").trim().to_string()),
        distributions: list("distributions"),
        disabled_pockets: list("disabled_pockets"),
        disabled_components: list("disabled_components"),
        disable_sources: Some(f.checked("disable_sources")),
        components: list("components"),
        arches: list("arches"),
        key: Some(f.get("key").unwrap_or("").to_string()),
        enabled: Some(f.checked("enabled")),
    }
}

fn repo_form() -> FormBlock {
    let mut f = FormBlock::new(format!("{LIST}/add"), "Add repository", fields(None));
    f.id = "add-repo".into();
    f
}

fn license_form() -> FormBlock {
    let mut f = FormBlock::new(
        format!("{LIST}/licenses"),
        "Add license key",
        vec![
            Field::text("osystem", "Operating system", "")
                .id("lic_osystem")
                .required(),
            Field::text("distro_series", "Release", "")
                .id("lic_series")
                .required(),
            Field::text("license_key", "License key", "")
                .id("lic_key")
                .required(),
        ],
    );
    f.id = "add-license".into();
    f
}

async fn page(ui: &Ui, viewer: &Viewer, repo: FormBlock, license: FormBlock) -> Result<Page> {
    let rows = repos::list(ui)
        .await?
        .into_iter()
        .map(|r| {
            let mut row = Row::new(vec![
                Cell::link(&r.name, format!("/MAAS/r/repository/{}", r.id)),
                r.url.clone().into(),
                (if r.enabled { "yes" } else { "no" }).to_string().into(),
            ]);
            if !r.is_default {
                row = row.button(
                    Button::new(
                        "Delete",
                        format!("/MAAS/r/repository/{}/delete", r.id),
                        format!("Delete repository {}", r.name),
                    )
                    .danger(),
                );
            }
            row
        })
        .collect();
    let lics = keys::license_keys(ui)
        .await?
        .into_iter()
        .map(|k| {
            Row::new(vec![k.0.clone().into(), k.1.clone().into()]).button(
                Button::new(
                    "Delete",
                    format!("{LIST}/license/delete"),
                    format!("Delete the license key of {}/{}", k.0, k.1),
                )
                .danger()
                .hidden("osystem", &k.0)
                .hidden("distro_series", &k.1),
            )
        })
        .collect();
    let mut lic_table = Table::new(&["Operating system", "Release"], lics);
    lic_table.empty = "No license keys.".into();
    Ok(
        Page::new(viewer.nav(), "Package repositories and license keys")
            .section(
                Section::new("repos", "Package repositories")
                    .table(Table::new(&["Name", "URL", "Enabled"], rows))
                    .form(repo),
            )
            .section(
                Section::new("licenses", "License keys")
                    .text("Adding a key for a release that has one changes it.")
                    .table(lic_table)
                    .form(license),
            ),
    )
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let p = page(&ui, &viewer, repo_form(), license_form())
        .await
        .or_page(&nav)?;
    Ok(p.ok())
}

async fn again(ui: &Ui, p: &Posted, repo: FormBlock, license: FormBlock) -> PageResult {
    let nav = p.viewer.nav();
    let page = page(ui, &p.viewer, repo, license).await.or_page(&nav)?;
    Ok(page.status(StatusCode::BAD_REQUEST))
}

/// POST `…/add` (as `package-repositories/` POST).
pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    match repos::save(&ui, None, change(&p.form)).await {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ Error::Validation(_)) => {
            again(
                &ui,
                &p,
                repo_form().refill(&p.form).error(&e),
                license_form(),
            )
            .await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn edit_form(r: &Repo) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/repository/{}/edit", r.id),
        "Save repository",
        fields(Some(r)),
    );
    f.id = "edit-repo".into();
    f.cancel = LIST.into();
    f
}

fn edit_page(viewer: &Viewer, r: &Repo, form: FormBlock) -> Page {
    let mut p = Page::new(viewer.nav(), format!("Repository {}", r.name))
        .section(Section::new("edit", "Edit repository").form(form));
    p.back = (LIST.into(), "All repositories".into());
    p
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let r = repos::get(&ui, &id).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &r, edit_form(&r)).ok())
}

/// POST `…/edit` (as `package-repositories/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let r = repos::get(&ui, &id).await.or_page(&nav)?;
    match repos::save(&ui, Some(r.clone()), change(&p.form)).await {
        Ok(_) => Ok(Redirect::to(LIST).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(&r).refill(&p.form).error(&e);
            Ok(edit_page(&p.viewer, &r, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST `…/delete`: confirmed first (the service keeps the Ubuntu archives).
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let r = repos::get(&ui, &id).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete repository",
            &format!("Repository {} ({}) will be deleted.", r.name, r.url),
            &format!("/MAAS/r/repository/{id}/delete"),
            Vec::new(),
            LIST,
        ));
    }
    repos::delete(&ui, &r).await.or_page(&nav)?;
    Ok(Redirect::to(LIST).into_response())
}

/// POST `…/licenses`: a new key, or a new value for a release's key.
pub async fn add_license(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let get = |k: &str| p.form.get(k).unwrap_or("").trim().to_string();
    let (os, series, key) = (get("osystem"), get("distro_series"), get("license_key"));
    let done = match keys::license_key(&ui, &os, &series).await {
        Ok(k) => keys::update_license_key(&ui, &k, &key).await.map(|_| ()),
        Err(Error::NotFound(_)) => keys::create_license_key(&ui, &os, &series, &key)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("{LIST}#licenses")).into_response()),
        Err(e @ Error::Validation(_)) => {
            let form = license_form().refill(&p.form).error(&e);
            again(&ui, &p, repo_form(), form).await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST `…/license/delete` (`osystem`, `distro_series`): confirmed first.
pub async fn delete_license(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let get = |k: &str| p.form.get(k).unwrap_or("").trim().to_string();
    let (os, series) = (get("osystem"), get("distro_series"));
    let k = keys::license_key(&ui, &os, &series).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete license key",
            &format!("The license key of {os}/{series} will be deleted."),
            &format!("{LIST}/license/delete"),
            vec![("osystem".into(), os), ("distro_series".into(), series)],
            LIST,
        ));
    }
    keys::delete_license_key(&ui, &k).await.or_page(&nav)?;
    Ok(Redirect::to(&format!("{LIST}#licenses")).into_response())
}
