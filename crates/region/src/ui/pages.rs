//! Read-only lists: zones, pools, tags, users and settings (the
//! last two for admins), pages not built yet, and the UI's 404.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::error::Error;
use crate::services::{config, places, tags, users};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageError, PageResult, render};
use crate::ui::session::Viewer;
use crate::ui::views::Nav;

#[derive(Template)]
#[template(path = "table.html")]
struct TablePage {
    nav: Nav,
    title: String,
    note: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

fn table(
    viewer: &Viewer,
    title: &str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
) -> PageResult {
    Ok(render(&TablePage {
        nav: viewer.nav(),
        title: title.into(),
        note: String::new(),
        headers,
        rows,
    }))
}

pub async fn zones(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let z = places::zones(&ui.db).await.or_page(&viewer.nav())?;
    let rows = z.into_iter().map(|z| vec![z.name, z.description]).collect();
    table(&viewer, "Zones", vec!["Name", "Description"], rows)
}

pub async fn pools(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = places::pools(&ui.db).await.or_page(&viewer.nav())?;
    let rows = p.into_iter().map(|p| vec![p.name, p.description]).collect();
    table(&viewer, "Resource pools", vec!["Name", "Description"], rows)
}

pub async fn tags(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let t = tags::list(&ui).await.or_page(&viewer.nav())?;
    let rows = t
        .into_iter()
        .map(|t| vec![t.name, t.comment, t.definition, t.kernel_opts])
        .collect();
    table(
        &viewer,
        "Tags",
        vec!["Name", "Comment", "Definition", "Kernel options"],
        rows,
    )
}

pub async fn users(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    viewer.admin()?;
    let list = users::list(&ui.db).await.or_page(&viewer.nav())?;
    let rows = list
        .into_iter()
        .map(|u| {
            let role = if u.is_superuser { "admin" } else { "user" };
            vec![u.username, u.email, role.into()]
        })
        .collect();
    table(&viewer, "Users", vec!["Username", "Email", "Role"], rows)
}

pub async fn settings(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    viewer.admin()?;
    let mut rows = Vec::new();
    for (name, _, _) in config::SETTINGS {
        let v = config::get_str(&ui.db, name).await.or_page(&viewer.nav())?;
        rows.push(vec![name.to_string(), v]);
    }
    let mut page = TablePage {
        nav: viewer.nav(),
        title: "Settings".into(),
        note: "Change settings with `maas <profile> maas set-config name=… value=…`; editing here comes later.".into(),
        headers: vec!["Name", "Value"],
        rows,
    };
    page.note = page.note.replace('`', "");
    Ok(render(&page))
}

/// Sections in the navigation that have no page yet, and unknown paths.
pub async fn not_found(viewer: Viewer) -> PageResult {
    let section = viewer.path.trim_start_matches("/MAAS/r/");
    if matches!(section, "devices" | "controllers" | "images") {
        let page = TablePage {
            nav: viewer.nav(),
            title: section[..1].to_uppercase() + &section[1..],
            note: "This page is not in the web UI yet; the API and the maas CLI have it.".into(),
            headers: vec![],
            rows: vec![],
        };
        return Ok((StatusCode::OK, render(&page)).into_response());
    }
    Err(PageError {
        nav: viewer.nav(),
        error: Error::NotFound(format!("No page at {}.", viewer.path)),
    })
}
