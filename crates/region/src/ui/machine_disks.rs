//! The machine page's storage: each disk with its filesystem and its
//! partitions (size, filesystem, mount point), and the edits the API's
//! block device and partition endpoints offer — add a partition (sizes as
//! the API reads them: `10G`, bytes), delete one (confirmed), format and
//! mount a disk or partition, unmount, unformat (confirmed), set the boot
//! disk, apply a storage layout (confirmed); disks added, edited, tagged
//! and deleted are in `machine_blockdev`. Every write is a
//! `services::storage` call with its own permission and status rules.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maas_model::storage::{FORMAT_TYPES, parse_bytes};

use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::storage::{self, Format, Mount, layout, partitions};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::kit::{FormBlock, confirm, confirmed};
use crate::ui::machine::{Refusal, refused};
use crate::ui::session::Posted;
use crate::ui::views::bytes;

/// Layouts the region applies (`layout::set_layout` refuses the others).
const LAYOUTS: [&str; 2] = ["flat", "blank"];

pub struct PartView {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub fstype: String,
    pub mount: String,
    pub tags: String,
}

pub struct DiskView {
    pub id: i64,
    pub name: String,
    pub model: String,
    pub serial: String,
    pub size: String,
    pub boot: bool,
    pub used_for: String,
    pub fstype: String,
    pub mount: String,
    pub tags: String,
    pub parts: Vec<PartView>,
}

/// The storage section: disks, and the forms the viewer may use.
#[derive(Default)]
pub struct StorageView {
    pub disks: Vec<DiskView>,
    /// Admins: partitions, boot disk, layout.
    pub admin: bool,
    /// Admins and the owner: format, mount and their undoing.
    pub can_fs: bool,
    pub forms: Vec<FormBlock>,
    pub errors: Vec<String>,
    /// tmpfs/ramfs mounts (filled by the page from the machine).
    pub special: Vec<crate::ui::machine_special::SpecialView>,
}

fn fs_of(fs: Option<&crate::render::FsJson>) -> (String, String) {
    fs.map(|f| (f.fstype.clone(), f.mount_point.clone().unwrap_or_default()))
        .unwrap_or_default()
}

/// The section for machine `sid` as `user` sees it; `owner`: the user owns it.
pub async fn view(ui: &Ui, user: &User, sid: &str, owner: bool) -> Result<StorageView> {
    let disks: Vec<DiskView> = storage::list(ui, user, sid)
        .await?
        .into_iter()
        .map(|d| {
            let (fstype, mount) = fs_of(d.filesystem.as_ref());
            DiskView {
                id: d.id,
                name: d.name.clone(),
                model: d.model.clone(),
                serial: d.serial.clone(),
                size: bytes(d.size),
                boot: d.is_boot,
                used_for: d.used_for.clone(),
                fstype,
                mount,
                tags: d.tags.join(", "),
                parts: d
                    .partitions
                    .iter()
                    .map(|p| {
                        let (fstype, mount) = fs_of(p.filesystem.as_ref());
                        PartView {
                            id: p.id,
                            name: p.name.clone(),
                            size: bytes(p.size),
                            fstype,
                            mount,
                            tags: p.tags.join(", "),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let admin = user.is_superuser;
    let can_fs = admin || owner;
    let mut forms = Vec::new();
    let disk_opts: Vec<(String, String)> = disks
        .iter()
        .map(|d| (d.id.to_string(), d.name.clone()))
        .collect();
    let mut targets = Vec::new();
    for d in &disks {
        targets.push((d.id.to_string(), d.name.clone()));
        for p in &d.parts {
            targets.push((format!("{}/{}", d.id, p.id), p.name.clone()));
        }
    }
    let sel = |name: &str, label: &str, id: &str, opts: &[(String, String)]| {
        Field::select(name, label, "", &[])
            .choices(opts.to_vec())
            .id(id)
    };
    if admin && !disks.is_empty() {
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/partitions"),
            "Add partition",
            vec![
                sel("disk", "Disk", "part_disk", &disk_opts),
                Field::text("size", "Size (e.g. 10G or bytes; empty: the rest)", ""),
                Field::text("uuid", "UUID (empty: a new one)", "").id("part_uuid"),
                Field::text("bootable", "Bootable", "")
                    .kind("checkbox")
                    .id("part_bootable"),
            ],
        );
        f.id = "partition-form".into();
        f.heading = "Add a partition".into();
        forms.push(f);
    }
    if can_fs && !targets.is_empty() {
        let types: Vec<String> = FORMAT_TYPES.iter().map(|t| t.to_string()).collect();
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/format"),
            "Format",
            vec![
                sel("target", "Disk or partition", "format_target", &targets),
                Field::select("fstype", "Filesystem", "ext4", &types),
                Field::text("label", "Label", "").id("format_label"),
                Field::text("uuid", "UUID (empty: a new one)", "").id("format_uuid"),
            ],
        );
        f.id = "format-form".into();
        f.heading = "Format".into();
        forms.push(f);
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/mount"),
            "Mount",
            vec![
                sel("target", "Disk or partition", "mount_target", &targets),
                Field::text("mount_point", "Mount point", ""),
                Field::text("mount_options", "Mount options (e.g. noatime)", "")
                    .id("mount_options"),
            ],
        );
        f.id = "mount-form".into();
        f.heading = "Mount".into();
        forms.push(f);
    }
    if admin {
        forms.extend(crate::ui::machine_blockdev::forms(
            sid, &disk_opts, &targets,
        ));
    }
    if admin && !disks.is_empty() {
        let layouts: Vec<String> = LAYOUTS.iter().map(|t| t.to_string()).collect();
        let mut f = FormBlock::new(
            format!("/MAAS/r/machine/{sid}/layout"),
            "Apply layout",
            vec![
                Field::select("storage_layout", "Layout", "flat", &layouts),
                Field::text(
                    "root_size",
                    "Root partition size (e.g. 20G; empty: the whole boot disk)",
                    "",
                ),
            ],
        );
        f.id = "layout-form".into();
        f.heading = "Storage layout".into();
        f.danger = true;
        forms.push(f);
    }
    Ok(StorageView {
        disks,
        admin,
        can_fs,
        forms,
        errors: Vec::new(),
        special: Vec::new(),
    })
}

pub(crate) fn done(sid: &str) -> PageResult {
    Ok(Redirect::to(&format!("/MAAS/r/machine/{sid}#storage")).into_response())
}

/// A posted target: a disk (`<id>`) or a partition (`<disk id>/<id>`).
fn target(p: &Posted) -> Result<(String, Option<String>)> {
    match p.form.text("target") {
        None => Err(Error::field("target", "This field is required.")),
        Some(t) => Ok(match t.split_once('/') {
            Some((d, part)) => (d.to_string(), Some(part.to_string())),
            None => (t, None),
        }),
    }
}

fn disk(p: &Posted) -> Result<String> {
    p.form
        .text("disk")
        .ok_or_else(|| Error::field("disk", "This field is required."))
}

/// POST `…/partitions`: `partitions::create` (size as the API reads it).
pub async fn add_partition(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("partition-form").alias("__all__", "disk");
    let run = async {
        let d = disk(&p)?;
        let size = match p.form.text("size") {
            None => None,
            Some(v) => {
                Some(parse_bytes(&v).ok_or_else(|| Error::field("size", "Enter a valid value."))?)
            }
        };
        let r = partitions::NewPart {
            size,
            uuid: p.form.text("uuid"),
            bootable: p.form.checked("bootable"),
        };
        partitions::create(&ui, &p.viewer.user, &sid, &d, r).await
    };
    match run.await {
        Ok(_) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/partition/delete` (`disk`, `partition`): confirmed first.
pub async fn delete_partition(
    State(ui): State<Ui>,
    Path(sid): Path<String>,
    p: Posted,
) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let d = p.form.text("disk").unwrap_or_default();
    let part = p.form.text("partition").unwrap_or_default();
    if !confirmed(&p.form) {
        let found = partitions::get(&ui, &p.viewer.user, &sid, &d, &part)
            .await
            .or_page(&nav)?;
        return Ok(confirm(
            nav,
            &format!("Delete partition {}", found.name),
            &format!(
                "Partition {} ({}) and its filesystem will be deleted.",
                found.name,
                bytes(found.size)
            ),
            &format!("/MAAS/r/machine/{sid}/partition/delete"),
            vec![("disk".into(), d), ("partition".into(), part)],
            &format!("/MAAS/r/machine/{sid}#storage"),
        ));
    }
    match partitions::delete(&ui, &p.viewer.user, &sid, &d, &part).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("storage"), e).await,
    }
}

/// POST `…/format` (`target`, `fstype`).
pub async fn format(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("format-form").alias("__all__", "target");
    let run = async {
        let (d, part) = target(&p)?;
        let f = Format {
            fstype: p.form.text("fstype"),
            uuid: p.form.text("uuid"),
            label: p.form.text("label"),
        };
        let u = &p.viewer.user;
        match part {
            None => storage::format_disk(&ui, u, &sid, &d, f).await.map(|_| ()),
            Some(part) => partitions::format(&ui, u, &sid, &d, &part, f)
                .await
                .map(|_| ()),
        }
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/mount` (`target`, `mount_point`).
pub async fn mount(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("mount-form").alias("__all__", "target");
    let run = async {
        let (d, part) = target(&p)?;
        let m = Mount {
            mount_point: p.form.text("mount_point"),
            mount_options: p.form.text("mount_options"),
        };
        let u = &p.viewer.user;
        match part {
            None => storage::mount_disk(&ui, u, &sid, &d, m).await.map(|_| ()),
            Some(part) => partitions::mount(&ui, u, &sid, &d, &part, m)
                .await
                .map(|_| ()),
        }
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/unmount` (`target`): not destructive, no confirm step.
pub async fn unmount(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let run = async {
        let (d, part) = target(&p)?;
        let u = &p.viewer.user;
        match part {
            None => storage::unmount_disk(&ui, u, &sid, &d).await.map(|_| ()),
            Some(part) => partitions::unmount(&ui, u, &sid, &d, &part)
                .await
                .map(|_| ()),
        }
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("storage"), e).await,
    }
}

/// POST `…/unformat` (`target`): confirmed, then the filesystem goes.
pub async fn unformat(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let at = Refusal::section("storage");
    let (d, part) = match target(&p) {
        Ok(t) => t,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    if !confirmed(&p.form) {
        let name = match &part {
            None => storage::get(&ui, &p.viewer.user, &sid, &d)
                .await
                .or_page(&nav)?
                .name
                .clone(),
            Some(x) => {
                partitions::get(&ui, &p.viewer.user, &sid, &d, x)
                    .await
                    .or_page(&nav)?
                    .name
            }
        };
        let t = p.form.text("target").unwrap_or_default();
        return Ok(confirm(
            nav,
            &format!("Unformat {name}"),
            &format!("The filesystem on {name} will be removed."),
            &format!("/MAAS/r/machine/{sid}/unformat"),
            vec![("target".into(), t)],
            &format!("/MAAS/r/machine/{sid}#storage"),
        ));
    }
    let u = &p.viewer.user;
    let r = match part {
        None => storage::unformat_disk(&ui, u, &sid, &d).await.map(|_| ()),
        Some(part) => partitions::unformat(&ui, u, &sid, &d, &part)
            .await
            .map(|_| ()),
    };
    match r {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// POST `…/boot-disk` (`disk`): `storage::set_boot_disk`.
pub async fn boot_disk(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let run = async {
        let d = disk(&p)?;
        storage::set_boot_disk(&ui, &p.viewer.user, &sid, &d).await
    };
    match run.await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::section("storage"), e).await,
    }
}

/// POST `…/layout` (`storage_layout`): confirmed, then `layout::set_layout`
/// replaces the machine's whole storage configuration.
pub async fn set_layout(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let chosen = p.form.text("storage_layout").unwrap_or_default();
    let root = p.form.text("root_size").unwrap_or_default();
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            "Apply storage layout",
            &format!(
                "Every partition and filesystem of this machine is removed and the {chosen} \
                 layout applied."
            ),
            &format!("/MAAS/r/machine/{sid}/layout"),
            vec![
                ("storage_layout".into(), chosen),
                ("root_size".into(), root),
            ],
            &format!("/MAAS/r/machine/{sid}#storage"),
        ));
    }
    let root_size = match root.as_str() {
        "" => None,
        v => match parse_bytes(v) {
            Some(n) => Some(n),
            None => {
                let e = Error::field("root_size", "Enter a valid value.");
                return refused(&ui, &p, &sid, Refusal::form("layout-form"), e).await;
            }
        },
    };
    match layout::set_layout(&ui, &p.viewer.user, &sid, Some(&chosen), root_size).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, Refusal::form("layout-form"), e).await,
    }
}
