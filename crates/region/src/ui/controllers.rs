//! `/MAAS/r/controllers`: region and rack controllers (version, last seen,
//! the region a rack is connected to, its services' health, interfaces);
//! `/MAAS/r/controller/<system_id>`: one of them; admins delete a rack
//! (confirmed; its certificate is revoked, as `DELETE rackcontrollers/…`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::error::Error;
use crate::services::racks::{self, Rack};
use crate::services::regions;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::kit::{Button, Cell, Page, Row, Section, Table, confirm, confirmed, fail, when};
use crate::ui::session::{Posted, Viewer};

fn href(sid: &str) -> String {
    format!("/MAAS/r/controller/{sid}")
}

/// Each service as "name: status".
fn services(r: &Rack) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = r
        .row
        .services
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, v)| {
                    (
                        name.clone(),
                        v["status"].as_str().unwrap_or("unknown").to_string(),
                        v["info"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn health(r: &Rack) -> String {
    let s = services(r);
    if s.is_empty() {
        return "no report yet".into();
    }
    s.iter()
        .map(|(n, st, _)| format!("{n}: {st}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn connected(r: &Rack) -> String {
    match &r.row.connected_region {
        Some(region) => format!("yes, to {region} since {}", when(r.row.connected_since)),
        None => "no".into(),
    }
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    let regions = regions::list(&ui.db, None).await.or_page(&nav)?;
    let racks = racks::list(&ui.db, None).await.or_page(&nav)?;
    let region_rows = regions
        .iter()
        .map(|r| {
            Row::new(vec![
                Cell::link(&r.hostname, href(&r.system_id)),
                r.system_id.clone().into(),
                r.version.clone().into(),
                when(Some(r.last_seen)).into(),
            ])
        })
        .collect();
    let rack_rows = racks
        .iter()
        .map(|r| {
            Row::new(vec![
                Cell::link(&r.row.hostname, href(&r.row.system_id)),
                r.row.system_id.clone().into(),
                r.row.version.clone().into(),
                connected(r).into(),
                when(r.row.last_seen).into(),
                health(r).into(),
                r.interfaces.len().to_string().into(),
            ])
        })
        .collect();
    let mut rack_table = Table::new(
        &[
            "Name",
            "System id",
            "Version",
            "Connected",
            "Last seen",
            "Services",
            "Interfaces",
        ],
        rack_rows,
    );
    rack_table.empty = "No rack controller has enrolled yet.".into();
    Ok(Page::new(nav, "Controllers")
        .section(
            Section::new("regions", "Region controllers").table(Table::new(
                &["Name", "System id", "Version", "Last seen"],
                region_rows,
            )),
        )
        .section(Section::new("racks", "Rack controllers").table(rack_table))
        .ok())
}

fn not_found(sid: &str) -> Error {
    Error::NotFound(format!("No controller matches the given query ({sid})."))
}

pub async fn show(State(ui): State<Ui>, Path(sid): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    if let Some(r) = racks::list(&ui.db, Some(&sid))
        .await
        .or_page(&nav)?
        .into_iter()
        .next()
    {
        let row = &r.row;
        let svc = services(&r)
            .into_iter()
            .map(|(n, st, info)| Row::new(vec![n.into(), st.into(), info.into()]))
            .collect();
        let ifaces = r
            .interfaces
            .iter()
            .map(|i| {
                let vlan = match (&i.fabric, i.vlan_vid) {
                    (Some(f), Some(v)) => format!("{f} / {v}"),
                    _ => String::new(),
                };
                Row::new(vec![
                    i.name.clone().into(),
                    i.mac_address.clone().into(),
                    i.kind.clone().into(),
                    vlan.into(),
                    i.addresses.join(", ").into(),
                ])
            })
            .collect();
        let mut page = Page::new(nav.clone(), &row.hostname)
            .section(Section::new("summary", "Rack controller").facts(vec![
                ("System id", row.system_id.clone()),
                ("Version", row.version.clone()),
                ("Connected", connected(&r)),
                ("Last seen", when(row.last_seen)),
                (
                    "Configuration",
                    format!(
                        "generation {} applied, {} pushed",
                        row.applied_generation, row.pushed_generation
                    ),
                ),
            ]))
            .section(
                Section::new("services", "Services")
                    .table(Table::new(&["Service", "Status", "Information"], svc)),
            )
            .section(Section::new("interfaces", "Interfaces").table(Table::new(
                &["Name", "MAC", "Type", "Fabric / VLAN", "Addresses"],
                ifaces,
            )));
        page.subtitle = row.system_id.clone();
        page.back = ("/MAAS/r/controllers".into(), "All controllers".into());
        if nav.is_admin {
            let mut t = Table::new(
                &["What"],
                vec![
                    Row::new(vec![
                        "Delete this rack: its certificate is revoked and its session closed; to bring it back, wipe its data directory and enroll it again."
                            .into(),
                    ])
                    .button(
                        Button::new(
                            "Delete rack",
                            format!("{}/delete", href(&row.system_id)),
                            format!("Delete rack {}", row.hostname),
                        )
                        .danger(),
                    ),
                ],
            );
            t.empty.clear();
            page = page.section(Section::new("admin", "Administration").table(t));
        }
        return Ok(page.ok());
    }
    let region = regions::list(&ui.db, Some(&sid))
        .await
        .or_page(&nav)?
        .into_iter()
        .next()
        .ok_or_else(|| fail(&nav, not_found(&sid)))?;
    let mut page = Page::new(nav, &region.hostname).section(
        Section::new("summary", "Region controller").facts(vec![
            ("System id", region.system_id.clone()),
            ("Version", region.version.clone()),
            ("Last seen", when(Some(region.last_seen))),
        ]),
    );
    page.subtitle = region.system_id;
    page.back = ("/MAAS/r/controllers".into(), "All controllers".into());
    Ok(page.ok())
}

/// POST: delete a rack (admins), after the confirm page.
pub async fn delete(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = p.viewer.admin()?;
    let rack = racks::list(&ui.db, Some(&sid))
        .await
        .or_page(&nav)?
        .into_iter()
        .next()
        .ok_or_else(|| fail(&nav, not_found(&sid)))?;
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Delete rack",
            &format!(
                "Rack controller {} ({sid}) will be deleted and its certificate revoked.",
                rack.row.hostname
            ),
            &format!("{}/delete", href(&sid)),
            vec![],
            &href(&sid),
        ));
    }
    racks::delete(&ui.db, &sid, &user.username)
        .await
        .or_page(&nav)?;
    Ok((StatusCode::SEE_OTHER, Redirect::to("/MAAS/r/controllers")).into_response())
}
