//! The machine page's special filesystems (tmpfs and ramfs mounts, as
//! `op=mount_special` / `op=unmount_special`) and its restore actions
//! (`op=restore_networking_configuration`,
//! `op=restore_storage_configuration`, `op=restore_default_configuration`,
//! `op=clear_default_gateways`), each through the service the API calls.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};

use crate::render::FsJson;
use crate::services::interfaces;
use crate::services::storage::layout;
use crate::ui::Ui;
use crate::ui::error::PageResult;
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, confirm, confirmed};
use crate::ui::machine::{Refusal, refused};
use crate::ui::machine_disks::done;
use crate::ui::session::Posted;

/// The special filesystems MAAS mounts (no block device).
const SPECIAL_TYPES: [&str; 2] = ["tmpfs", "ramfs"];

pub struct SpecialView {
    pub fstype: String,
    pub mount: String,
    pub options: String,
}

pub fn rows(special: &[FsJson]) -> Vec<SpecialView> {
    special
        .iter()
        .map(|f| SpecialView {
            fstype: f.fstype.clone(),
            mount: f.mount_point.clone().unwrap_or_default(),
            options: f.mount_options.clone().unwrap_or_default(),
        })
        .collect()
}

/// What the restore form offers: (value, label).
const RESTORES: [(&str, &str); 3] = [
    ("networking", "Networking configuration (as commissioned)"),
    ("storage", "Storage configuration (the default layout)"),
    ("default", "Default configuration"),
];

/// The mount form (`can_fs`) and, for admins, the restore form.
pub fn forms(sid: &str, can_fs: bool, admin: bool) -> Vec<FormBlock> {
    let mut out = Vec::new();
    if can_fs {
        let types: Vec<String> = SPECIAL_TYPES.iter().map(|t| t.to_string()).collect();
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/special"),
            "Mount",
            vec![
                Field::select("fstype", "Filesystem", "tmpfs", &types).id("special_fstype"),
                Field::text("mount_point", "Mount point", "")
                    .id("special_mount_point")
                    .required(),
                Field::text("mount_options", "Mount options (e.g. size=1G)", "")
                    .id("special_mount_options"),
            ],
        );
        f.id = "special-form".into();
        f.heading = "Mount a special filesystem".into();
        out.push(f);
    }
    if admin {
        let opts = RESTORES
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect();
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/restore"),
            "Restore",
            vec![
                Field::select("what", "Restore", "", &[])
                    .choices(opts)
                    .id("restore_what"),
            ],
        );
        f.id = "restore-form".into();
        f.heading = "Restore a configuration".into();
        f.danger = true;
        out.push(f);
    }
    out
}

/// POST `…/special` (`fstype`, `mount_point`, `mount_options`).
pub async fn mount(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let f = &p.form;
    let (t, mp, o) = (
        f.text("fstype"),
        f.text("mount_point"),
        f.text("mount_options"),
    );
    let r = layout::mount_special(
        &ui,
        &p.viewer.user,
        &sid,
        t.as_deref(),
        mp.as_deref(),
        o.as_deref(),
    )
    .await;
    match r {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::form("special-form"), e).await,
    }
}

/// POST `…/special/unmount` (`mount_point`).
pub async fn unmount(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let mp = p.form.text("mount_point");
    match layout::unmount_special(&ui, &p.viewer.user, &sid, mp.as_deref()).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("storage"), e).await,
    }
}

/// POST `…/restore` (`what`): confirmed, then the API's restore op.
pub async fn restore(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let what = p.form.text("what").unwrap_or_default();
    let Some((_, label)) = RESTORES.iter().find(|(v, _)| *v == what) else {
        let e = crate::error::Error::field("what", "Select a valid choice.");
        return refused(&ui, &p, &sid, Refusal::form("restore-form"), e).await;
    };
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            &format!("Restore: {label}"),
            "The machine's current configuration is replaced; edits made since are lost.",
            &format!("/MAAS/r/machine/{sid}/restore"),
            vec![("what".into(), what.clone())],
            &format!("/MAAS/r/machine/{sid}#storage"),
        ));
    }
    let u = &p.viewer.user;
    let r = match what.as_str() {
        "networking" => interfaces::restore_networking(&ui, u, &sid).await,
        "storage" => layout::restore(&ui, u, &sid, "storage configuration").await,
        // As the API's restore_default_configuration: both.
        _ => match interfaces::restore_networking(&ui, u, &sid).await {
            Ok(()) => {
                let what = "default networking and storage configuration";
                layout::restore(&ui, u, &sid, what).await
            }
            Err(e) => Err(e),
        },
    };
    match r {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::form("restore-form"), e).await,
    }
}

/// POST `…/gateways/clear`: `interfaces::clear_default_gateways`.
pub async fn clear_gateways(
    State(ui): State<Ui>,
    Path(sid): Path<String>,
    p: Posted,
) -> PageResult {
    match interfaces::clear_default_gateways(&ui, &p.viewer.user, &sid).await {
        Ok(()) => Ok(Redirect::to(&format!("/MAAS/r/machine/{sid}#interfaces")).into_response()),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("interfaces"), e).await,
    }
}
