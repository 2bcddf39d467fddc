//! More of the machine page's storage (admins): a physical disk added by
//! hand (as `POST …/blockdevices/`), a disk's details edited (as `PUT
//! …/blockdevices/<id>/`), tags on a disk or partition (as `op=add_tag` /
//! `op=remove_tag`) and a disk deleted (confirmed). The parameters are
//! checked by `services::storage::disk_form`, the API's own check.

use axum::extract::{Path, State};

use crate::error::{Error, Result};
use crate::services::machines;
use crate::services::storage::{self, disk_form, partitions};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, confirm, confirmed};
use crate::ui::machine::{Refusal, refused};
use crate::ui::machine_disks::done;
use crate::ui::session::Posted;
use crate::ui::views::bytes;

fn block(sid: &str, path: &str, submit: &str, id: &str, heading: &str, f: Vec<Field>) -> FormBlock {
    let mut b = FormBlock::new(format!("/MAAS/r/machine/{sid}/{path}"), submit, f);
    b.id = id.into();
    b.heading = heading.into();
    b
}

/// The forms: add a disk, edit one, tag a disk or partition (`disks`:
/// (id, name) of the disks; `targets`: disks and partitions as the format
/// form names them).
pub fn forms(
    sid: &str,
    disks: &[(String, String)],
    targets: &[(String, String)],
) -> Vec<FormBlock> {
    let add = block(
        sid,
        "disks",
        "Add disk",
        "disk-add-form",
        "Add a disk",
        vec![
            Field::text("name", "Name", "")
                .id("disk_add_name")
                .required(),
            Field::text("size", "Size in bytes", "")
                .id("disk_add_size")
                .required(),
            Field::text("block_size", "Block size (empty: 512)", "").id("disk_add_block_size"),
            Field::text("model", "Model", "").id("disk_add_model"),
            Field::text("serial", "Serial", "").id("disk_add_serial"),
            Field::text("id_path", "Id path (e.g. /dev/disk/by-id/…)", "").id("disk_add_id_path"),
            Field::text("tags", "Tags, comma-separated", "").id("disk_add_tags"),
        ],
    );
    let mut out = vec![add];
    if disks.is_empty() {
        return out;
    }
    let pick = |id: &str, opts: &[(String, String)]| {
        Field::select("disk", "Disk", "", &[])
            .choices(opts.to_vec())
            .id(id)
    };
    out.push(block(
        sid,
        "disk/edit",
        "Save disk",
        "disk-edit-form",
        "Edit a disk (empty fields: unchanged)",
        vec![
            pick("disk_edit_disk", disks),
            Field::text("name", "Name", "").id("disk_edit_name"),
            Field::text("model", "Model", "").id("disk_edit_model"),
            Field::text("serial", "Serial", "").id("disk_edit_serial"),
            Field::text("id_path", "Id path", "").id("disk_edit_id_path"),
            Field::text("size", "Size (e.g. 10G or bytes)", "").id("disk_edit_size"),
            Field::text("block_size", "Block size", "").id("disk_edit_block_size"),
        ],
    ));
    let ops = vec![
        ("add".to_string(), "Add the tag".to_string()),
        ("remove".to_string(), "Remove the tag".to_string()),
    ];
    out.push(block(
        sid,
        "disk/tag",
        "Save tag",
        "disk-tag-form",
        "Tags of a disk or partition",
        vec![
            Field::select("target", "Disk or partition", "", &[])
                .choices(targets.to_vec())
                .id("tag_target"),
            Field::text("tag", "Tag", "").id("disk_tag").required(),
            Field::select("op", "Change", "add", &[])
                .choices(ops)
                .id("tag_op"),
        ],
    ));
    out
}

fn tags_of(v: Option<String>) -> Vec<String> {
    v.map(|t| {
        t.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn disk(p: &Posted) -> Result<String> {
    p.form
        .text("disk")
        .ok_or_else(|| Error::field("disk", "This field is required."))
}

/// POST `…/disks`: a physical disk added by hand (`machines::add_disk`).
pub async fn add(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("disk-add-form");
    let run = async {
        let d = disk_form::new_disk(|k| p.form.text(k), tags_of(p.form.text("tags")))?;
        machines::add_disk(&ui, &p.viewer.user, &sid, d).await
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/disk/edit`: `storage::update_disk` with the non-empty fields.
pub async fn edit(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("disk-edit-form");
    let run = async {
        let d = disk(&p)?;
        let change = disk_form::change(|k| p.form.text(k))?;
        storage::update_disk(&ui, &p.viewer.user, &sid, &d, change).await
    };
    match run.await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/disk/tag` (`target`, `tag`, `op`): on a disk or a partition.
pub async fn tag(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("disk-tag-form").alias("__all__", "tag");
    let run = async {
        let t = p
            .form
            .text("target")
            .ok_or_else(|| Error::field("target", "This field is required."))?;
        let tag = p
            .form
            .text("tag")
            .ok_or_else(|| Error::field("tag", "This field is required."))?;
        let add = match p.form.text("op").as_deref() {
            None | Some("add") => true,
            Some("remove") => false,
            Some(o) => {
                return Err(Error::field(
                    "op",
                    format!("Select a valid choice. {o} is not one of the available choices."),
                ));
            }
        };
        let u = &p.viewer.user;
        match t.split_once('/') {
            None => storage::disk_tag(&ui, u, &sid, &t, &tag, add)
                .await
                .map(|_| ()),
            Some((d, part)) => partitions::tag(&ui, u, &sid, d, part, &tag, add)
                .await
                .map(|_| ()),
        }
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/disk/delete` (`disk`): confirmed, then `storage::delete_disk`.
pub async fn delete(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let d = p.form.text("disk").unwrap_or_default();
    if !confirmed(&p.form) {
        let found = storage::get(&ui, &p.viewer.user, &sid, &d)
            .await
            .or_page(&nav)?;
        return Ok(confirm(
            nav,
            &format!("Delete disk {}", found.name),
            &format!(
                "Disk {} ({}) is removed from this machine with its partitions and \
                 filesystems.",
                found.name,
                bytes(found.size)
            ),
            &format!("/MAAS/r/machine/{sid}/disk/delete"),
            vec![("disk".into(), d)],
            &format!("/MAAS/r/machine/{sid}#storage"),
        ));
    }
    match storage::delete_disk(&ui, &p.viewer.user, &sid, &d).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("storage"), e).await,
    }
}
