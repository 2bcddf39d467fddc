//! A machine's workload annotations (MAAS's owner data) on its page: the
//! key/value pairs, and a form that sets one (an empty value removes it)
//! for the owner or an admin, as `op=set_workload_annotations`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::Error;
use crate::services::machines;
use crate::ui::Ui;
use crate::ui::error::PageResult;
use crate::ui::fields::Field;
use crate::ui::kit::FormBlock;
use crate::ui::machine::{Refusal, refused};
use crate::ui::session::Posted;

#[derive(Default)]
pub struct NotesView {
    pub items: Vec<(String, String)>,
    /// The owner and admins: the set form.
    pub form: Option<FormBlock>,
}

/// The annotations in the machine's JSON (`workload_annotations`).
pub fn view(sid: &str, machine: &Value, can_edit: bool) -> NotesView {
    let mut items: Vec<(String, String)> = machine["workload_annotations"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    items.sort();
    let form = can_edit.then(|| {
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/annotations"),
            "Set annotation",
            vec![
                Field::text("key", "Key", "").id("note_key").required(),
                Field::text("value", "Value (empty: remove the key)", "").id("note_value"),
            ],
        );
        f.id = "notes-form".into();
        f
    });
    NotesView { items, form }
}

/// POST `…/annotations` (`key`, `value`): `machines::set_owner_data`.
pub async fn set(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("notes-form");
    let r = match p.form.text("key") {
        None => Err(Error::field("key", "This field is required.")),
        Some(k) => {
            let v = p.form.get("value").unwrap_or("").trim().to_string();
            machines::set_owner_data(&ui, &p.viewer.user, &sid, &[(k, v)]).await
        }
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/MAAS/r/machine/{sid}#annotations")).into_response()),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}
