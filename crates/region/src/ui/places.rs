//! `/MAAS/r/zones` and `/MAAS/r/pools`: everyone sees the list; admins
//! create, edit (`/MAAS/r/zone/<name>`, `/MAAS/r/pool/<id>`) and delete
//! (confirmed; a zone's machines move to the default zone, a pool must be
//! empty), through `services::places` with the API's messages.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::{Error, Result};
use crate::services::places::{self, Place};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{
    Button, Cell, FormBlock, Page, Row, Section, Table, confirm, confirmed, fail,
};
use crate::ui::session::{Posted, Viewer};

/// Zones or pools: what differs between the two.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Zone,
    Pool,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Zone => "Zones",
            Kind::Pool => "Resource pools",
        }
    }
    fn one(self) -> &'static str {
        match self {
            Kind::Zone => "zone",
            Kind::Pool => "resource pool",
        }
    }
    fn list_href(self) -> &'static str {
        match self {
            Kind::Zone => "/MAAS/r/zones",
            Kind::Pool => "/MAAS/r/pools",
        }
    }
    /// The item's page: zones by name, pools by id (as the API names them).
    fn href(self, p: &Place) -> String {
        match self {
            Kind::Zone => format!("/MAAS/r/zone/{}", p.name),
            Kind::Pool => format!("/MAAS/r/pool/{}", p.id),
        }
    }
    async fn all(self, ui: &Ui) -> Result<Vec<Place>> {
        match self {
            Kind::Zone => places::zones(&ui.db).await,
            Kind::Pool => places::pools(&ui.db).await,
        }
    }
    async fn get(self, ui: &Ui, key: &str) -> Result<Place> {
        match self {
            Kind::Zone => places::zone(&ui.db, key).await,
            Kind::Pool => places::pool(&ui.db, key).await,
        }
    }
}

fn fields(name: &str, description: &str) -> Vec<Field> {
    vec![
        Field::text("name", "Name", name).required(),
        Field::text("description", "Description", description),
    ]
}

fn create_form(kind: Kind) -> FormBlock {
    let mut f = FormBlock::new(
        format!("{}/add", kind.list_href()),
        &format!("Add {}", kind.one()),
        fields("", ""),
    );
    f.id = "add-place".into();
    f
}

async fn list_page(ui: &Ui, viewer: &Viewer, kind: Kind, form: FormBlock) -> Result<Page> {
    let admin = viewer.user.is_superuser;
    let rows = kind
        .all(ui)
        .await?
        .into_iter()
        .map(|p| {
            let name = if admin {
                Cell::link(&p.name, kind.href(&p))
            } else {
                p.name.clone().into()
            };
            let mut r = Row::new(vec![name, p.description.clone().into()]);
            if admin {
                r = r.button(
                    Button::new(
                        "Delete",
                        format!("{}/delete", kind.href(&p)),
                        format!("Delete {} {}", kind.one(), p.name),
                    )
                    .danger(),
                );
            }
            r
        })
        .collect();
    let mut page = Page::new(viewer.nav(), kind.title())
        .section(Section::new("list", "").table(Table::new(&["Name", "Description"], rows)));
    if admin {
        page = page.section(Section::new("add", &format!("Add a {}", kind.one())).form(form));
    }
    Ok(page)
}

async fn list(ui: Ui, viewer: Viewer, kind: Kind) -> PageResult {
    let p = list_page(&ui, &viewer, kind, create_form(kind))
        .await
        .or_page(&viewer.nav())?;
    Ok(p.ok())
}

pub async fn zones(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    list(ui, viewer, Kind::Zone).await
}

pub async fn pools(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    list(ui, viewer, Kind::Pool).await
}

fn required_name(f: &FormData) -> Result<String> {
    f.text("name")
        .ok_or_else(|| Error::field("name", "This field is required."))
}

async fn create(ui: Ui, p: Posted, kind: Kind) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let description = p.form.get("description").unwrap_or("");
    let made = match required_name(&p.form) {
        Ok(name) => match kind {
            Kind::Zone => places::create_zone(&ui.db, &name, description).await,
            Kind::Pool => places::create_pool(&ui.db, &name, description).await,
        },
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(Redirect::to(kind.list_href()).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = create_form(kind).refill(&p.form).error(&e);
            let page = list_page(&ui, &p.viewer, kind, form).await.or_page(&nav)?;
            Ok(page.status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn create_zone(State(ui): State<Ui>, p: Posted) -> PageResult {
    create(ui, p, Kind::Zone).await
}

pub async fn create_pool(State(ui): State<Ui>, p: Posted) -> PageResult {
    create(ui, p, Kind::Pool).await
}

fn edit_page(viewer: &Viewer, kind: Kind, place: &Place, form: FormBlock) -> Page {
    let mut page = Page::new(viewer.nav(), &place.name)
        .section(Section::new("edit", &format!("Edit {}", kind.one())).form(form));
    page.back = (
        kind.list_href().into(),
        format!("All {}", kind.title().to_lowercase()),
    );
    page
}

fn edit_form(kind: Kind, place: &Place) -> FormBlock {
    let mut f = FormBlock::new(
        format!("{}/edit", kind.href(place)),
        "Save changes",
        fields(&place.name, &place.description),
    );
    f.id = "edit-place".into();
    f.cancel = kind.list_href().into();
    f
}

async fn show(ui: Ui, viewer: Viewer, kind: Kind, key: String) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let place = kind.get(&ui, &key).await.or_page(&nav)?;
    Ok(edit_page(&viewer, kind, &place, edit_form(kind, &place)).ok())
}

pub async fn zone(State(ui): State<Ui>, Path(k): Path<String>, viewer: Viewer) -> PageResult {
    show(ui, viewer, Kind::Zone, k).await
}

pub async fn pool(State(ui): State<Ui>, Path(k): Path<String>, viewer: Viewer) -> PageResult {
    show(ui, viewer, Kind::Pool, k).await
}

async fn edit(ui: Ui, p: Posted, kind: Kind, key: String) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let place = kind.get(&ui, &key).await.or_page(&nav)?;
    let description = p.form.get("description");
    let changed = match required_name(&p.form) {
        Ok(name) => match kind {
            Kind::Zone => places::update_zone(&ui.db, &place, Some(&name), description).await,
            Kind::Pool => places::update_pool(&ui.db, &place, Some(&name), description).await,
        },
        Err(e) => Err(e),
    };
    match changed {
        Ok(_) => Ok(Redirect::to(kind.list_href()).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(kind, &place).refill(&p.form).error(&e);
            Ok(edit_page(&p.viewer, kind, &place, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

pub async fn edit_zone(State(ui): State<Ui>, Path(k): Path<String>, p: Posted) -> PageResult {
    edit(ui, p, Kind::Zone, k).await
}

pub async fn edit_pool(State(ui): State<Ui>, Path(k): Path<String>, p: Posted) -> PageResult {
    edit(ui, p, Kind::Pool, k).await
}

async fn delete(ui: Ui, p: Posted, kind: Kind, key: String) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let place = kind.get(&ui, &key).await.or_page(&nav)?;
    if !confirmed(&p.form) {
        let what = match kind {
            Kind::Zone => format!(
                "Zone {} will be deleted; its machines move to the default zone.",
                place.name
            ),
            Kind::Pool => format!("Resource pool {} will be deleted.", place.name),
        };
        return Ok(confirm(
            nav,
            &format!("Delete {}", kind.one()),
            &what,
            &format!("{}/delete", kind.href(&place)),
            vec![],
            kind.list_href(),
        ));
    }
    match kind {
        Kind::Zone => places::delete_zone(&ui.db, &place).await,
        Kind::Pool => places::delete_pool(&ui.db, &place).await,
    }
    .or_page(&nav)?;
    Ok(Redirect::to(kind.list_href()).into_response())
}

pub async fn delete_zone(State(ui): State<Ui>, Path(k): Path<String>, p: Posted) -> PageResult {
    delete(ui, p, Kind::Zone, k).await
}

pub async fn delete_pool(State(ui): State<Ui>, Path(k): Path<String>, p: Posted) -> PageResult {
    delete(ui, p, Kind::Pool, k).await
}
