//! Machine storage rules (MAAS's block device, partition and filesystem
//! forms): who may change what in which status, partition sizes and
//! numbering, formatting and mounting, storage layouts. Each request runs in
//! one transaction on the locked machine, so a refusal writes nothing.

pub mod deployable;
pub mod disk_form;
pub mod layout;
pub mod partitions;

use maas_model::NodeStatus;
use maas_model::storage::{FORMAT_TYPES, valid_mount_point, valid_uuid};

use crate::error::{Error, Result};
use crate::render::storage::disk_json;
use crate::render::{BlockDeviceJson, FsJson};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::lifecycle::{self, Core};
use crate::store::storage::{self as db, DiskChange, NewFs, On};
use crate::store::{Conn, Tx};

/// A locked machine with its storage, read inside the transaction.
pub(crate) struct Locked {
    pub tx: Tx,
    pub m: Core,
    pub disks: Vec<BlockDeviceJson>,
}

/// Which permission an operation needs on the machine.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Need {
    View,
    /// The machine's owner or an admin.
    Edit,
    Admin,
}

pub(crate) async fn open(ctx: &Ctx, user: &User, system_id: &str, need: Need) -> Result<Locked> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    let ok = match need {
        Need::View => user.can_view(m.owner_id),
        Need::Edit => user.can_edit(m.owner_id),
        Need::Admin => user.is_superuser,
    };
    if !ok {
        return Err(Error::Forbidden(
            "You do not have permission to access this machine.".into(),
        ));
    }
    let disks = read_disks(&mut tx, &m).await?;
    Ok(Locked { tx, m, disks })
}

pub(crate) async fn read_disks(c: &mut Conn, m: &Core) -> Result<Vec<BlockDeviceJson>> {
    Ok(db::disks(c, m.id)
        .await?
        .into_iter()
        .map(|r| disk_json(&m.system_id, r))
        .collect())
}

pub(crate) fn no_disk() -> Error {
    Error::NotFound("No BlockDevice matches the given query.".into())
}

impl Locked {
    /// A device by id or name.
    pub fn disk(&self, key: &str) -> Result<&BlockDeviceJson> {
        let id = key.parse::<i64>().ok();
        self.disks
            .iter()
            .find(|d| Some(d.id) == id || d.name == key)
            .ok_or_else(no_disk)
    }

    /// The boot disk: the one chosen, else the first.
    pub fn boot_disk(&self) -> Option<&BlockDeviceJson> {
        deployable::boot_disk(&self.disks)
    }

    fn status_in(&self, ok: &[NodeStatus], msg: String) -> Result<()> {
        if ok.contains(&self.m.status) {
            Ok(())
        } else {
            Err(Error::Conflict(msg))
        }
    }

    /// MAAS's rule for format/mount and their undoing: Ready (admins) or
    /// Allocated (its owner too).
    pub fn allocated_op(&self, user: &User, op: &str, what: &str, node: &str) -> Result<()> {
        self.status_in(
            &[NodeStatus::Ready, NodeStatus::Allocated],
            format!("Cannot {op} {what} because the {node} is not Ready or Allocated."),
        )?;
        if self.m.status == NodeStatus::Ready && !user.is_superuser {
            return Err(Error::Forbidden(format!(
                "Cannot {op} {what} because you don't have the permissions on a Ready {node}."
            )));
        }
        Ok(())
    }

    pub fn ready(&self, msg: &str) -> Result<()> {
        self.status_in(&[NodeStatus::Ready], msg.to_string())
    }

    async fn event(&mut self, user: &User, text: &str) -> Result<()> {
        let who = Some(user.username.as_str());
        lifecycle::event(&mut self.tx, Some(&self.m), who, "INFO", "Storage", text).await
    }

    pub async fn commit(mut self, user: &User, text: &str) -> Result<()> {
        self.event(user, text).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// A block device's disks as the machine has them now (for `GET`).
pub async fn list(ctx: &Ctx, user: &User, system_id: &str) -> Result<Vec<BlockDeviceJson>> {
    Ok(open(ctx, user, system_id, Need::View).await?.disks)
}

/// One device (`GET …/blockdevices/{id}/`).
pub async fn get(ctx: &Ctx, user: &User, system_id: &str, dev: &str) -> Result<BlockDeviceJson> {
    let l = open(ctx, user, system_id, Need::View).await?;
    Ok(l.disk(dev)?.clone())
}

/// `PUT …/blockdevices/{id}/` (admin): Ready machines take every field,
/// Deployed ones name, model, serial and id_path only.
pub async fn update_disk(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    mut change: DiskChange,
) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    l.status_in(
        &[NodeStatus::Ready, NodeStatus::Deployed],
        "Cannot update block device because the machine is not Ready.".into(),
    )?;
    if l.m.status == NodeStatus::Deployed {
        change.size = None;
        change.block_size = None;
        change.table_type = None;
    }
    if change.table_type.is_some() && d.partition_table_type.is_none() {
        return Err(Error::field(
            "partition_table_type",
            "Block device has no partition table",
        ));
    }
    if let Some(n) = &change.name
        && db::disk_name_taken(&mut l.tx, l.m.id, d.id, n).await?
    {
        return Err(Error::field(
            "__all__",
            "Block device with this Node config and Name already exists.",
        ));
    }
    db::update_disk(&mut l.tx, d.id, &change).await?;
    l.commit(user, &format!("Updated block device {}.", d.name))
        .await?;
    Ok(d.id)
}

/// `DELETE …/blockdevices/{id}/` (admin, Ready).
pub async fn delete_disk(ctx: &Ctx, user: &User, system_id: &str, dev: &str) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    l.ready("Cannot delete block device because the machine is not Ready.")?;
    db::delete_disk(&mut l.tx, d.id).await?;
    l.commit(user, &format!("Deleted block device {}.", d.name))
        .await
}

/// `add_tag` / `remove_tag` on a device (admin, Ready).
pub async fn disk_tag(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    tag: &str,
    add: bool,
) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    l.ready("Cannot update block device because the machine is not Ready.")?;
    let tags = retag(&d.tags, tag, add);
    if tags != d.tags {
        db::set_disk_tags(&mut l.tx, d.id, &tags).await?;
        l.commit(user, &format!("Retagged block device {}.", d.name))
            .await?;
    }
    Ok(d.id)
}

pub(crate) fn retag(tags: &[String], tag: &str, add: bool) -> Vec<String> {
    let mut out: Vec<String> = tags.iter().filter(|t| *t != tag).cloned().collect();
    if add {
        out = tags.to_vec();
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    out
}

/// `set_boot_disk` (admin, Ready).
pub async fn set_boot_disk(ctx: &Ctx, user: &User, system_id: &str, dev: &str) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    l.ready("Cannot set as boot disk because the machine is not Ready.")?;
    db::set_boot_disk(&mut l.tx, l.m.id, d.id).await?;
    l.commit(user, &format!("Set {} as the boot disk.", d.name))
        .await
}

/// What `format` asks for.
pub struct Format {
    pub fstype: Option<String>,
    pub uuid: Option<String>,
    pub label: Option<String>,
}

/// Validate a format request (MAAS's FormatBlockDeviceForm fields).
pub(crate) fn check_format(f: &Format) -> Result<&str> {
    let mut errs = maas_model::constraints::FieldErrors::new();
    let fstype = f.fstype.as_deref().unwrap_or("");
    if fstype.is_empty() {
        errs.insert("fstype".into(), vec!["This field is required.".into()]);
    } else if !FORMAT_TYPES.contains(&fstype) {
        errs.insert(
            "fstype".into(),
            vec![format!(
                "Select a valid choice. {fstype} is not one of the available choices."
            )],
        );
    }
    if let Some(u) = f.uuid.as_deref().filter(|u| !u.is_empty())
        && !valid_uuid(u)
    {
        errs.insert("uuid".into(), vec!["Enter a valid UUID.".into()]);
    }
    if errs.is_empty() {
        Ok(fstype)
    } else {
        Err(Error::Validation(errs))
    }
}

/// `format` a device (replacing its filesystem).
pub async fn format_disk(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    f: Format,
) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let d = l.disk(dev)?.clone();
    l.allocated_op(user, "format", "block device", "machine")?;
    let fstype = check_format(&f)?;
    if d.partition_table_type.is_some() {
        return Err(Error::field(
            "__all__",
            "Cannot format block device with a partition table.",
        ));
    }
    let fs = NewFs {
        on: Some(On::Disk(d.id)),
        fstype,
        uuid: f.uuid.as_deref().filter(|u| !u.is_empty()),
        label: Some(f.label.as_deref().unwrap_or("")),
        mount_point: None,
        mount_options: None,
    };
    db::put_fs(&mut l.tx, l.m.id, &fs).await?;
    l.commit(user, &format!("Formatted {} as {fstype}.", d.name))
        .await?;
    Ok(d.id)
}

/// Refusals shared by unformat on devices and partitions.
pub(crate) fn check_unformat(fs: Option<&FsJson>, what: &str) -> Result<()> {
    let what_cap = if what == "partition" {
        "Partition"
    } else {
        "Block device"
    };
    match fs {
        None => Err(Error::BadRequest(format!("{what_cap} is not formatted."))),
        Some(f) if f.mount_point.is_some() => Err(Error::BadRequest(format!(
            "Filesystem is mounted and cannot be unformatted. Unmount the filesystem before \
             unformatting the {what}."
        ))),
        Some(_) => Ok(()),
    }
}

pub async fn unformat_disk(ctx: &Ctx, user: &User, system_id: &str, dev: &str) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let d = l.disk(dev)?.clone();
    l.allocated_op(user, "unformat", "block device", "machine")?;
    check_unformat(d.filesystem.as_ref(), "block device")?;
    db::delete_fs(&mut l.tx, On::Disk(d.id)).await?;
    l.commit(user, &format!("Unformatted {}.", d.name)).await?;
    Ok(d.id)
}

/// What `mount` asks for.
pub struct Mount {
    pub mount_point: Option<String>,
    pub mount_options: Option<String>,
}

/// MAAS's MountFilesystemForm: the mount point (`none` for swap) and the
/// options to store.
pub(crate) fn check_mount(fs: Option<&FsJson>, m: &Mount) -> Result<(String, String)> {
    let Some(fs) = fs else {
        return Err(Error::field(
            "__all__",
            "Cannot mount an unformatted partition or block device.",
        ));
    };
    let mp = if fs.fstype == "swap" {
        "none".to_string()
    } else {
        match m.mount_point.as_deref().filter(|s| !s.is_empty()) {
            None => return Err(Error::field("mount_point", "This field is required.")),
            Some(p) if !valid_mount_point(p) => {
                return Err(Error::field("mount_point", "Enter a valid value."));
            }
            Some(p) => p.to_string(),
        }
    };
    Ok((mp, m.mount_options.clone().unwrap_or_default()))
}

pub async fn mount_disk(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    m: Mount,
) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let d = l.disk(dev)?.clone();
    l.allocated_op(user, "mount", "block device", "machine")?;
    let (mp, opts) = check_mount(d.filesystem.as_ref(), &m)?;
    db::mount_fs(&mut l.tx, On::Disk(d.id), Some(&mp), Some(&opts)).await?;
    l.commit(user, &format!("Mounted {} at {mp}.", d.name))
        .await?;
    Ok(d.id)
}

pub(crate) fn check_unmount(fs: Option<&FsJson>, what: &str) -> Result<()> {
    match fs {
        None => Err(Error::BadRequest(format!("{what} is not formatted."))),
        Some(f) if f.mount_point.is_none() => {
            Err(Error::BadRequest("Filesystem is already unmounted.".into()))
        }
        Some(_) => Ok(()),
    }
}

pub async fn unmount_disk(ctx: &Ctx, user: &User, system_id: &str, dev: &str) -> Result<i64> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let d = l.disk(dev)?.clone();
    l.allocated_op(user, "unmount", "block device", "machine")?;
    check_unmount(d.filesystem.as_ref(), "Block device")?;
    db::mount_fs(&mut l.tx, On::Disk(d.id), None, None).await?;
    l.commit(user, &format!("Unmounted {}.", d.name)).await?;
    Ok(d.id)
}
