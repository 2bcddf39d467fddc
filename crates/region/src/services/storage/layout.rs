//! Machine-wide storage: layouts (MAAS's storage_layouts: flat and blank
//! here), restoring the default configuration, special filesystems.

use maas_model::NodeStatus;
use maas_model::storage::{EFI_PARTITION_SIZE, LAYOUTS, SPECIAL_TYPES, valid_mount_point};

use super::partitions::add_partition;
use super::{Locked, Need, open, read_disks};
use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::lifecycle::{self, Core};
use crate::services::{Ctx, config};
use crate::store::Tx;
use crate::store::storage::{self as db, NewFs, On};

/// Layouts this region can apply.
const SUPPORTED: &[&str] = &["flat", "blank"];

/// Clear the machine's storage and apply `layout` (flat or blank).
async fn apply(l: &mut Locked, layout: &str, root_size: Option<i64>) -> Result<()> {
    let Some(boot) = l.boot_disk().cloned() else {
        return Err(Error::BadRequest(
            "Machine is missing a boot disk; no storage layout can be applied.".into(),
        ));
    };
    db::clear(&mut l.tx, l.m.id).await?;
    l.disks = read_disks(&mut l.tx, &l.m).await?;
    if layout == "blank" {
        return Ok(());
    }
    let (arch, method) = db::boot_facts(&mut l.tx, l.m.id).await?;
    let mut boot = l
        .disks
        .iter()
        .find(|d| d.id == boot.id)
        .cloned()
        .ok_or_else(super::no_disk)?;
    if method.as_deref() == Some("uefi") && !arch.starts_with("ppc64el") {
        let efi = add_partition(l, &boot, Some(EFI_PARTITION_SIZE), None, true).await?;
        let fs = NewFs {
            on: Some(On::Partition(efi)),
            fstype: "fat32",
            uuid: None,
            label: Some("efi"),
            mount_point: Some("/boot/efi"),
            mount_options: None,
        };
        db::put_fs(&mut l.tx, l.m.id, &fs).await?;
        l.disks = read_disks(&mut l.tx, &l.m).await?;
        boot = l
            .disks
            .iter()
            .find(|d| d.id == boot.id)
            .cloned()
            .ok_or_else(super::no_disk)?;
    }
    let root = add_partition(l, &boot, root_size, None, false).await?;
    let fs = NewFs {
        on: Some(On::Partition(root)),
        fstype: "ext4",
        uuid: None,
        label: Some("root"),
        mount_point: Some("/"),
        mount_options: None,
    };
    db::put_fs(&mut l.tx, l.m.id, &fs).await
}

/// MAAS's default layout (the `default_storage_layout` setting) on a
/// machine whose commissioning just replaced its disks, in the signal's
/// transaction. A machine without a disk, a default this region cannot
/// apply, or disks it does not fit, leave the machine without a layout
/// and an event says why (the agent then lays out flat when it deploys a
/// root tarball).
pub(crate) async fn apply_default(tx: Tx, m: Core) -> Result<(Tx, Core)> {
    let mut l = Locked {
        tx,
        m,
        disks: Vec::new(),
    };
    l.disks = read_disks(&mut l.tx, &l.m).await?;
    let layout = config::get_str(&mut *l.tx, "default_storage_layout").await?;
    let why_not = if l.boot_disk().is_none() {
        Some("the machine has no disk".to_string())
    } else if !SUPPORTED.contains(&layout.as_str()) {
        Some(format!(
            "the {layout} layout is not supported by this region yet (supported: flat, blank)"
        ))
    } else {
        // A layout the disks cannot take (too small for it) is refused
        // without failing the commissioning that brought them.
        crate::store::savepoint(&mut l.tx, "default_layout").await?;
        match apply(&mut l, &layout, None).await {
            Ok(()) => None,
            Err(e @ Error::Internal(_)) => return Err(e),
            Err(e) => {
                crate::store::rollback_to(&mut l.tx, "default_layout").await?;
                Some(match e {
                    Error::Validation(f) => f.into_values().flatten().collect::<Vec<_>>().join(" "),
                    e => e.to_string(),
                })
            }
        }
    };
    let text = match why_not {
        None => format!("Applied the default {layout} storage layout."),
        Some(why) => format!(
            "Cannot apply the default {layout} storage layout: {}.",
            why.trim_end_matches('.')
        ),
    };
    lifecycle::event(
        &mut l.tx,
        Some(&l.m),
        None,
        "INFO",
        "Configuring storage",
        &text,
    )
    .await?;
    Ok((l.tx, l.m))
}

/// `set_storage_layout` (admin, Ready): flat and blank; the others are
/// refused as not supported yet.
pub async fn set_layout(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    layout: Option<&str>,
    root_size: Option<i64>,
) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    if l.m.status != NodeStatus::Ready {
        return Err(Error::Conflict(
            "Cannot change the storage layout on a machine that is not Ready.".into(),
        ));
    }
    let layout = match layout {
        None | Some("") => return Err(Error::field("storage_layout", "This field is required.")),
        Some(x) if !LAYOUTS.contains(&x) => {
            let choices: Vec<String> = LAYOUTS.iter().map(|c| format!("'{c}'")).collect();
            return Err(Error::field(
                "storage_layout",
                format!(
                    "'{x}' is not a valid storage_layout.  It should be one of: {}.",
                    choices.join(", ")
                ),
            ));
        }
        Some(x) if !SUPPORTED.contains(&x) => {
            return Err(Error::BadRequest(format!(
                "Failed to configure storage layout '{x}': the {x} layout is not supported by \
                 this region yet (supported: flat, blank)."
            )));
        }
        Some(x) => x,
    };
    apply(&mut l, layout, root_size).await?;
    l.commit(user, &format!("Applied the {layout} storage layout."))
        .await
}

/// `restore_storage_configuration` (admin, Ready or Failed testing): the
/// default (flat) layout on the commissioned disks; a machine with no disk
/// is left with none.
pub async fn restore(ctx: &Ctx, user: &User, system_id: &str, what: &str) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    if !matches!(l.m.status, NodeStatus::Ready | NodeStatus::FailedTesting) {
        return Err(Error::Conflict(format!(
            "Machine must be in a ready or failed testing state to restore {what}."
        )));
    }
    if l.boot_disk().is_some() {
        apply(&mut l, "flat", None).await?;
    } else {
        db::clear(&mut l.tx, l.m.id).await?;
    }
    l.commit(user, "Restored the default storage configuration.")
        .await
}

/// `mount_special` (owner or admin; Ready or Allocated): a tmpfs or ramfs.
pub async fn mount_special(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    fstype: Option<&str>,
    mount_point: Option<&str>,
    mount_options: Option<&str>,
) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    if !matches!(l.m.status, NodeStatus::Ready | NodeStatus::Allocated) {
        return Err(Error::Conflict(
            "Cannot mount the filesystem because the machine is not Ready or Allocated.".into(),
        ));
    }
    let mut errs = maas_model::constraints::FieldErrors::new();
    match mount_point.filter(|s| !s.is_empty()) {
        None => {
            errs.insert("mount_point".into(), vec!["This field is required.".into()]);
        }
        Some(p) if !valid_mount_point(p) => {
            errs.insert("mount_point".into(), vec!["Enter a valid value.".into()]);
        }
        Some(_) => {}
    }
    match fstype.filter(|s| !s.is_empty()) {
        None => {
            errs.insert("fstype".into(), vec!["This field is required.".into()]);
        }
        Some(t) if !SPECIAL_TYPES.contains(&t) => {
            errs.insert(
                "fstype".into(),
                vec![format!(
                    "Select a valid choice. {t} is not one of the available choices."
                )],
            );
        }
        Some(_) => {}
    }
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    let (fstype, mp) = (fstype.unwrap_or(""), mount_point.unwrap_or(""));
    let fs = NewFs {
        on: None,
        fstype,
        uuid: None,
        label: None,
        mount_point: Some(mp),
        mount_options: Some(mount_options.unwrap_or("")),
    };
    db::put_fs(&mut l.tx, l.m.id, &fs).await?;
    l.commit(user, &format!("Mounted {fstype} at {mp}.")).await
}

/// `unmount_special` (owner or admin; Ready or Allocated).
pub async fn unmount_special(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    mount_point: Option<&str>,
) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    if !matches!(l.m.status, NodeStatus::Ready | NodeStatus::Allocated) {
        return Err(Error::Conflict(
            "Cannot unmount the filesystem because the machine is not Ready or Allocated.".into(),
        ));
    }
    let mp = match mount_point.filter(|s| !s.is_empty()) {
        None => return Err(Error::field("mount_point", "This field is required.")),
        Some(p) if !valid_mount_point(p) => {
            return Err(Error::field("mount_point", "Enter a valid value."));
        }
        Some(p) => p,
    };
    if !db::special_at(&mut l.tx, l.m.id, mp).await? {
        return Err(Error::field(
            "mount_point",
            "No special filesystem is mounted at this path.",
        ));
    }
    db::delete_special(&mut l.tx, l.m.id, mp).await?;
    l.commit(user, &format!("Unmounted {mp}.")).await
}
