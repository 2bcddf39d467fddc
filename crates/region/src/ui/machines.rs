//! `/MAAS/r/machines`: the list (search, sort, group by status, 100 rows a
//! page) and bulk actions with a confirm step.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use maas_model::search;

use crate::services::listing::{self, Order, Ordering};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult, render};
use crate::ui::session::Viewer;
use crate::ui::views::{MachineRow, Nav};

pub use crate::ui::machines_action::action;

/// Rows per page.
pub const PER_PAGE: i64 = 100;

/// A list item: a status heading or a machine.
pub struct Item {
    pub heading: String,
    pub m: Option<MachineRow>,
}

pub struct Column {
    pub label: &'static str,
    pub href: String,
    pub aria_sort: &'static str,
}

#[derive(Template)]
#[template(path = "machines.html")]
struct ListPage {
    nav: Nav,
    q: String,
    error: String,
    keys: String,
    sort: String,
    dir: String,
    group: bool,
    total: i64,
    counts: Vec<(String, i64)>,
    columns: Vec<Column>,
    items: Vec<Item>,
    actions: Vec<(&'static str, &'static str)>,
    from: i64,
    to: i64,
    prev: String,
    next: String,
}

/// Sortable columns: (label, `sort=` value, order); None = not sortable.
const COLUMNS: &[(&str, Option<(&str, Order)>)] = &[
    ("FQDN", Some(("name", Order::Hostname))),
    ("Power", Some(("power", Order::Power))),
    ("Status", Some(("status", Order::Status))),
    ("Owner", Some(("owner", Order::Owner))),
    ("Pool", Some(("pool", Order::Pool))),
    ("Zone", Some(("zone", Order::Zone))),
    ("Cores", Some(("cores", Order::Cores))),
    ("RAM", Some(("ram", Order::Memory))),
    ("Disks", None),
    ("Storage", None),
    ("Tags", None),
];

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn href(q: &str, sort: &str, dir: &str, group: bool, page: i64) -> String {
    let mut h = format!(
        "/MAAS/r/machines?q={}&sort={}&dir={}",
        enc(q),
        enc(sort),
        dir
    );
    if group {
        h.push_str("&group=status");
    }
    if page > 1 {
        h.push_str(&format!("&page={page}"));
    }
    h
}

pub async fn list(
    State(ui): State<Ui>,
    viewer: Viewer,
    Query(p): Query<HashMap<String, String>>,
) -> PageResult {
    let nav = viewer.nav();
    let q = p.get("q").cloned().unwrap_or_default();
    let sort = p.get("sort").cloned().unwrap_or_else(|| "name".into());
    let desc = p.get("dir").is_some_and(|d| d == "desc");
    let dir = if desc { "desc" } else { "asc" };
    let group = p.get("group").is_some_and(|g| g == "status");
    let page = p
        .get("page")
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let by = COLUMNS
        .iter()
        .filter_map(|c| c.1)
        .find(|(k, _)| *k == sort)
        .map(|c| c.1)
        .unwrap_or_default();
    let mut error = String::new();
    let filter = match search::parse(&q).and_then(|s| s.filter()) {
        Ok(f) => Some(f),
        Err(e) => {
            error = e.into_values().flatten().collect::<Vec<_>>().join(" ");
            None
        }
    };
    let order = Ordering {
        by,
        desc,
        group_by_status: group,
    };
    let (machines, counts, total) = match filter {
        Some(f) => {
            let pg = listing::page(&ui, &viewer.user, f, order, (page - 1) * PER_PAGE, PER_PAGE)
                .await
                .or_page(&nav)?;
            (pg.machines, pg.counts, pg.total)
        }
        None => Default::default(),
    };
    let count_of = |code: i64| {
        counts
            .iter()
            .find(|(s, _)| s.as_i16() as i64 == code)
            .map_or(0, |c| c.1)
    };
    let mut items = Vec::with_capacity(machines.len() + 8);
    let mut last_status = None;
    for v in &machines {
        let m = MachineRow::from_json(v);
        if group && last_status != Some(m.status_code) {
            last_status = Some(m.status_code);
            items.push(Item {
                heading: format!("{} ({})", m.status, count_of(m.status_code)),
                m: None,
            });
        }
        items.push(Item {
            heading: String::new(),
            m: Some(m),
        });
    }
    let columns = COLUMNS
        .iter()
        .map(|(label, s)| match s {
            Some((key, _)) => {
                let here = *key == sort;
                let next_dir = if here && !desc { "desc" } else { "asc" };
                Column {
                    label,
                    href: href(&q, key, next_dir, group, 1),
                    aria_sort: match (here, desc) {
                        (true, false) => "ascending",
                        (true, true) => "descending",
                        _ => "",
                    },
                }
            }
            None => Column {
                label,
                href: String::new(),
                aria_sort: "",
            },
        })
        .collect();
    let from = if machines.is_empty() {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let to = (page - 1) * PER_PAGE + machines.len() as i64;
    let page_view = ListPage {
        keys: search::known_keys().join(", "),
        prev: if page > 1 {
            href(&q, &sort, dir, group, page - 1)
        } else {
            String::new()
        },
        next: if to < total {
            href(&q, &sort, dir, group, page + 1)
        } else {
            String::new()
        },
        nav,
        q,
        error,
        sort,
        dir: dir.into(),
        group,
        total,
        counts: counts
            .iter()
            .map(|(s, n)| (s.label().to_string(), *n))
            .collect(),
        columns,
        items,
        actions: crate::ui::machines_action::choices(viewer.user.is_superuser),
        from,
        to,
    };
    Ok(render(&page_view))
}

/// A re-rendered row (the live view).
#[derive(Template)]
#[template(path = "row.html")]
pub struct RowView {
    pub m: MachineRow,
}
