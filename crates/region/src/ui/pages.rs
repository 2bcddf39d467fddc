//! Read-only lists: tags and subnets, pages not built yet, and the UI's
//! 404.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use crate::error::Error;
use crate::services::network::subnets;
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

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

pub async fn subnets(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let list = subnets::list(&ui).await.or_page(&viewer.nav())?;
    let rows = list
        .iter()
        .map(|v| {
            vec![
                s(&v["cidr"]),
                s(&v["name"]),
                format!("{} / {}", s(&v["vlan"]["fabric"]), s(&v["vlan"]["vid"])),
                s(&v["gateway_ip"]),
                if v["managed"].as_bool().unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ]
        })
        .collect();
    table(
        &viewer,
        "Subnets",
        vec!["CIDR", "Name", "Fabric / VLAN", "Gateway", "Managed"],
        rows,
    )
}

/// Sections in the navigation that have no page yet, and unknown paths.
pub async fn not_found(viewer: Viewer) -> PageResult {
    let section = viewer.path.trim_start_matches("/MAAS/r/");
    if matches!(section, "dns") {
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
