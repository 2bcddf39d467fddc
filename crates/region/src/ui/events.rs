//! `/MAAS/r/events`: server-sent events for the machines a page shows
//! (`?ids=a,b,c`, `&view=row|summary`, `&added=1` on a list). Each change the region hears (one
//! LISTEN per region, `services::live`) to one of them is re-rendered for
//! this viewer and pushed: `row`/`summary` with the new HTML, `gone` when
//! it was deleted or is no longer theirs to see, `resync` when changes may
//! have been missed, `added` (a list's) when a machine its viewer may see
//! was created. Comments keep the connection alive.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

use crate::services::live::Change;
use crate::services::machines;
use crate::ui::Ui;
use crate::ui::machine::SummaryView;
use crate::ui::machines::RowView;
use crate::ui::session::Viewer;
use crate::ui::views::MachineRow;

/// Machines one stream follows at most (a page shows 100).
const MAX_IDS: usize = 500;

async fn render_one(ui: &Ui, viewer: &Viewer, sid: &str, summary: bool) -> Event {
    let m = match machines::get_visible(ui, &viewer.user, sid).await {
        Ok(m) => m,
        Err(_) => return Event::default().event("gone").data(sid),
    };
    let v = serde_json::to_value(m.json()).unwrap_or_default();
    let html = if summary {
        SummaryView::from_json(&v).render()
    } else {
        RowView {
            m: MachineRow::from_json(&v),
        }
        .render()
    };
    match html {
        Ok(h) => Event::default()
            .event(if summary { "summary" } else { "row" })
            .data(h),
        Err(_) => Event::default().event("resync").data("template"),
    }
}

pub async fn stream(
    State(ui): State<Ui>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ids: HashSet<String> = q
        .get("ids")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .take(MAX_IDS)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let summary = q.get("view").is_some_and(|v| v == "summary");
    // A list page also hears of machines created after it loaded.
    let added = q.get("added").is_some_and(|v| v == "1");
    let mut rx = ui.changes.subscribe();
    let s = async_stream(move |tx| async move {
        loop {
            let got = tokio::select! {
                r = rx.recv() => r,
                _ = tx.closed() => return,
            };
            let ev = match got {
                Ok(Change::Machine(sid)) if ids.contains(&sid) => {
                    render_one(&ui, &viewer, &sid, summary).await
                }
                Ok(Change::Machine(_)) => continue,
                Ok(Change::Created(sid)) if added => {
                    match machines::get_visible(&ui, &viewer.user, &sid).await {
                        Ok(_) => Event::default().event("added").data(sid),
                        Err(_) => continue,
                    }
                }
                Ok(Change::Created(_)) => continue,
                Ok(Change::Resync) | Err(RecvError::Lagged(_)) => {
                    Event::default().event("resync").data("missed")
                }
                Ok(Change::Shutdown) | Err(RecvError::Closed) => return,
            };
            if tx.send(Ok(ev)).await.is_err() {
                return;
            }
        }
    });
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// A stream fed by a task (ends when the task returns or the client goes).
fn async_stream<F, Fut>(f: F) -> tokio_stream::wrappers::ReceiverStream<Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(f(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
