//! Partitions (MAAS's AddPartitionForm, Partition and PartitionTable
//! rules): a partition table is created with a device's first partition;
//! sizes are aligned to 4 MiB and checked against the free space.

use maas_model::storage::{
    self as rules, MAX_MBR_PARTITION_SIZE, MIN_PARTITION_SIZE, available, fit_partition,
    next_index, table_overhead,
};

use super::{Format, Locked, Mount, Need, open};
use crate::error::{Error, Result};
use crate::render::{BlockDeviceJson, PartitionJson};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::store::storage::{self as db, NewFs, NewPartition, On};

fn no_partition() -> Error {
    Error::NotFound("No Partition matches the given query.".into())
}

impl Locked {
    /// A partition of the machine by id or name (`sda-part1`), as MAAS
    /// finds one.
    pub fn partition(&self, key: &str) -> Result<(&BlockDeviceJson, &PartitionJson)> {
        let id = key.parse::<i64>().ok();
        self.disks
            .iter()
            .flat_map(|d| d.partitions.iter().map(move |p| (d, p)))
            .find(|(_, p)| Some(p.id) == id || p.name == key)
            .ok_or_else(no_partition)
    }
}

/// The partitions of a device (`GET …/partitions/`).
pub async fn list(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
) -> Result<Vec<PartitionJson>> {
    let l = open(ctx, user, system_id, Need::View).await?;
    Ok(l.disk(dev)?.partitions.clone())
}

pub async fn get(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
) -> Result<PartitionJson> {
    let l = open(ctx, user, system_id, Need::View).await?;
    l.disk(dev)?;
    Ok(l.partition(part)?.1.clone())
}

/// A partition to create: size (`None`: the rest of the device), uuid,
/// bootable. Sizes are validated (4 MiB to the device size) by the caller.
pub struct NewPart {
    pub size: Option<i64>,
    pub uuid: Option<String>,
    pub bootable: bool,
}

/// `POST …/partitions/` (admin, Ready): returns (device id, partition id).
pub async fn create(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    r: NewPart,
) -> Result<(i64, i64)> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    l.ready("Cannot create partition because the node is not Ready.")?;
    if let Some(size) = r.size {
        if size < MIN_PARTITION_SIZE {
            return Err(Error::field(
                "size",
                format!("Ensure this value is greater than or equal to {MIN_PARTITION_SIZE}."),
            ));
        }
        if size > d.size {
            return Err(Error::field(
                "size",
                format!("Ensure this value is less than or equal to {}.", d.size),
            ));
        }
    }
    if let Some(u) = r.uuid.as_deref()
        && !rules::valid_uuid(u)
    {
        return Err(Error::field("uuid", "Enter a valid UUID."));
    }
    if d.filesystem.is_some() {
        return Err(Error::field(
            "__all__",
            "Cannot create a partition table on a formatted block device.",
        ));
    }
    let id = add_partition(&mut l, &d, r.size, r.uuid.as_deref(), r.bootable).await?;
    l.commit(user, &format!("Added a partition to {}.", d.name))
        .await?;
    Ok((d.id, id))
}

/// Add a partition to `d` (creating its table), as MAAS's
/// `PartitionTable.add_partition` and `Partition.clean` do.
pub(crate) async fn add_partition(
    l: &mut Locked,
    d: &BlockDeviceJson,
    size: Option<i64>,
    uuid: Option<&str>,
    bootable: bool,
) -> Result<i64> {
    let (arch, boot) = db::boot_facts(&mut l.tx, l.m.id).await?;
    let is_boot = l.boot_disk().is_some_and(|b| b.id == d.id);
    let (table_type, overhead) = match &d.partition_table_type {
        Some(t) => (t.clone(), d.table_overhead),
        None => {
            let t = rules::table_type().to_string();
            let o = table_overhead(&arch, boot.as_deref());
            db::create_table(&mut l.tx, l.m.id, d.id, &t, o).await?;
            (t, o)
        }
    };
    let used: i64 = d.partitions.iter().map(|p| p.size).sum();
    let free = available(d.size, overhead, used);
    let wanted = match size {
        Some(s) => s,
        None if table_type == "MBR" => free.min(MAX_MBR_PARTITION_SIZE),
        None => free,
    };
    let Some(size) = fit_partition(wanted, free, d.block_size as i64) else {
        return Err(Error::field(
            "size",
            "Partition cannot be saved; not enough free space on the block device.",
        ));
    };
    if size < MIN_PARTITION_SIZE {
        return Err(Error::field(
            "size",
            format!("Ensure this value is greater than or equal to {MIN_PARTITION_SIZE}."),
        ));
    }
    if table_type == "MBR" && size > MAX_MBR_PARTITION_SIZE {
        return Err(Error::field(
            "size",
            "Partition cannot be saved; size is larger than the MBR 2TiB maximum.",
        ));
    }
    let max_index = d.partitions.iter().map(|p| p.index).max().unwrap_or(0);
    let p = NewPartition {
        disk_id: d.id,
        index: next_index(max_index, &table_type, &arch, boot.as_deref(), is_boot),
        uuid,
        size,
        bootable,
    };
    db::insert_partition(&mut l.tx, l.m.id, &p).await
}

/// `DELETE …/partition/{id}` (admin, Ready).
pub async fn delete(ctx: &Ctx, user: &User, system_id: &str, dev: &str, part: &str) -> Result<()> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    let d = l.disk(dev)?.clone();
    if d.partition_table_type.is_none() {
        return Err(Error::NotFound(
            "No PartitionTable matches the given query.".into(),
        ));
    }
    l.ready("Cannot delete block device because the node is not Ready.")?;
    let p = l.partition(part)?.1.clone();
    db::delete_partition(&mut l.tx, p.id).await?;
    l.commit(user, &format!("Deleted partition {}.", p.name))
        .await
}

/// The partition for an op that formats or mounts: device and partition
/// found, then MAAS's status rule.
fn for_op(l: &Locked, user: &User, dev: &str, part: &str, op: &str) -> Result<PartitionJson> {
    l.disk(dev)?;
    let p = l.partition(part)?.1.clone();
    l.allocated_op(user, op, "partition", "node")?;
    Ok(p)
}

pub async fn format(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
    f: Format,
) -> Result<PartitionJson> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let p = for_op(&l, user, dev, part, "format")?;
    let fstype = super::check_format(&f)?;
    let fs = NewFs {
        on: Some(On::Partition(p.id)),
        fstype,
        uuid: f.uuid.as_deref().filter(|u| !u.is_empty()),
        label: Some(f.label.as_deref().unwrap_or("")),
        mount_point: None,
        mount_options: None,
    };
    db::put_fs(&mut l.tx, l.m.id, &fs).await?;
    l.commit(user, &format!("Formatted {} as {fstype}.", p.name))
        .await?;
    Ok(p)
}

pub async fn unformat(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
) -> Result<PartitionJson> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let p = for_op(&l, user, dev, part, "unformat")?;
    super::check_unformat(p.filesystem.as_ref(), "partition")?;
    db::delete_fs(&mut l.tx, On::Partition(p.id)).await?;
    l.commit(user, &format!("Unformatted {}.", p.name)).await?;
    Ok(p)
}

pub async fn mount(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
    m: Mount,
) -> Result<PartitionJson> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let p = for_op(&l, user, dev, part, "mount")?;
    let (mp, opts) = super::check_mount(p.filesystem.as_ref(), &m)?;
    db::mount_fs(&mut l.tx, On::Partition(p.id), Some(&mp), Some(&opts)).await?;
    l.commit(user, &format!("Mounted {} at {mp}.", p.name))
        .await?;
    Ok(p)
}

pub async fn unmount(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
) -> Result<PartitionJson> {
    let mut l = open(ctx, user, system_id, Need::Edit).await?;
    let p = for_op(&l, user, dev, part, "unmount")?;
    super::check_unmount(p.filesystem.as_ref(), "Partition")?;
    db::mount_fs(&mut l.tx, On::Partition(p.id), None, None).await?;
    l.commit(user, &format!("Unmounted {}.", p.name)).await?;
    Ok(p)
}

/// `add_tag` / `remove_tag` on a partition (admin).
pub async fn tag(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    dev: &str,
    part: &str,
    tag: &str,
    add: bool,
) -> Result<PartitionJson> {
    let mut l = open(ctx, user, system_id, Need::Admin).await?;
    l.disk(dev)?;
    let p = l.partition(part)?.1.clone();
    let tags = super::retag(&p.tags, tag, add);
    if tags != p.tags {
        db::set_partition_tags(&mut l.tx, p.id, &tags).await?;
        l.commit(user, &format!("Retagged partition {}.", p.name))
            .await?;
    }
    Ok(p)
}
