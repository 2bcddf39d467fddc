//! The tags list (read-only) and the UI's 404.

use askama::Template;
use axum::extract::State;

use crate::error::Error;
use crate::services::tags;
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

/// Unknown paths: the UI's 404 page.
pub async fn not_found(viewer: Viewer) -> PageResult {
    Err(PageError {
        nav: viewer.nav(),
        error: Error::NotFound(format!("No page at {}.", viewer.path)),
    })
}
