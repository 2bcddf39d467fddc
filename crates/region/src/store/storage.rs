//! Machine storage: block devices' partition tables, partitions,
//! filesystems and the boot disk marker. Every table carries the machine's
//! id; triggers (0008_storage.sql) give the machine a new hardware version on
//! any change, so cached renderings follow.

use sqlx::Row;

use crate::error::{Error, Result};
use crate::store::Conn;
use crate::store::machines::related::{DISK_COLS, DiskRow};

/// What a filesystem sits on.
#[derive(Debug, Clone, Copy)]
pub enum On {
    Disk(i64),
    Partition(i64),
}

impl On {
    fn cols(self) -> (Option<i64>, Option<i64>) {
        match self {
            On::Disk(d) => (Some(d), None),
            On::Partition(p) => (None, Some(p)),
        }
    }
}

/// A machine's architecture and boot method (they decide partition table
/// overhead and numbering).
pub async fn boot_facts(c: &mut Conn, machine_id: i64) -> Result<(String, Option<String>)> {
    let r = sqlx::query("SELECT architecture, bios_boot_method FROM machines WHERE id = $1")
        .bind(machine_id)
        .fetch_one(&mut *c)
        .await?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

/// A machine's block devices with their storage, by id.
pub async fn disks(c: &mut Conn, machine_id: i64) -> Result<Vec<DiskRow>> {
    let sql = format!(
        "SELECT coalesce(json_agg(json_build_array({DISK_COLS}) ORDER BY d.id), '[]')::text
           FROM block_devices d WHERE d.machine_id = $1"
    );
    let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(machine_id)
        .fetch_one(&mut *c)
        .await?;
    serde_json::from_str(&text).map_err(|e| Error::Internal(e.into()))
}

/// Changes to a physical block device (`None`: unchanged).
#[derive(Debug, Default)]
pub struct DiskChange {
    pub name: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub id_path: Option<String>,
    pub size: Option<i64>,
    pub block_size: Option<i32>,
    /// `GPT` or `MBR`: the device's (existing) partition table's type.
    pub table_type: Option<String>,
}

pub async fn update_disk(c: &mut Conn, id: i64, d: &DiskChange) -> Result<()> {
    sqlx::query(
        "UPDATE block_devices SET name = coalesce($2, name), model = coalesce($3, model),
                serial = coalesce($4, serial), id_path = coalesce($5, id_path),
                size = coalesce($6, size), block_size = coalesce($7, block_size)
          WHERE id = $1",
    )
    .bind(id)
    .bind(&d.name)
    .bind(&d.model)
    .bind(&d.serial)
    .bind(&d.id_path)
    .bind(d.size)
    .bind(d.block_size)
    .execute(&mut *c)
    .await?;
    if let Some(t) = &d.table_type {
        sqlx::query("UPDATE partition_tables SET table_type = $2 WHERE block_device_id = $1")
            .bind(id)
            .bind(t)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Whether another device of the machine has this name.
pub async fn disk_name_taken(c: &mut Conn, machine_id: i64, id: i64, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM block_devices WHERE machine_id = $1 AND id <> $2 AND name = $3)",
    )
    .bind(machine_id)
    .bind(id)
    .bind(name)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn delete_disk(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM block_devices WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn set_disk_tags(c: &mut Conn, id: i64, tags: &[String]) -> Result<()> {
    sqlx::query("UPDATE block_devices SET tags = $2 WHERE id = $1")
        .bind(id)
        .bind(tags)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Mark `id` as its machine's boot disk (and no other).
pub async fn set_boot_disk(c: &mut Conn, machine_id: i64, id: i64) -> Result<()> {
    // Two statements: the one-boot-disk index is checked row by row.
    sqlx::query("UPDATE block_devices SET is_boot = false WHERE machine_id = $1 AND is_boot")
        .bind(machine_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE block_devices SET is_boot = true WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn create_table(
    c: &mut Conn,
    machine_id: i64,
    disk_id: i64,
    table_type: &str,
    overhead: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partition_tables (machine_id, block_device_id, table_type, overhead)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(machine_id)
    .bind(disk_id)
    .bind(table_type)
    .bind(overhead)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A partition to add to a device's (existing) partition table.
pub struct NewPartition<'a> {
    pub disk_id: i64,
    pub index: i32,
    pub uuid: Option<&'a str>,
    pub size: i64,
    pub bootable: bool,
}

/// Add a partition; returns its id.
pub async fn insert_partition(c: &mut Conn, machine_id: i64, p: &NewPartition<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO partitions (machine_id, partition_table_id, block_device_id, idx, uuid, size,
                                 bootable)
         SELECT $1, pt.id, $2, $3, coalesce($4, gen_random_uuid()::text), $5, $6
           FROM partition_tables pt WHERE pt.block_device_id = $2
         RETURNING id",
    )
    .bind(machine_id)
    .bind(p.disk_id)
    .bind(p.index)
    .bind(p.uuid)
    .bind(p.size)
    .bind(p.bootable)
    .fetch_one(&mut *c)
    .await?)
}

/// Delete a partition and renumber the ones after it.
pub async fn delete_partition(c: &mut Conn, id: i64) -> Result<()> {
    let r = sqlx::query("DELETE FROM partitions WHERE id = $1 RETURNING partition_table_id, idx")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    if let Some(r) = r {
        let (table, idx): (i64, i32) = (r.try_get(0)?, r.try_get(1)?);
        sqlx::query(
            "UPDATE partitions SET idx = idx - 1 WHERE partition_table_id = $1 AND idx > $2",
        )
        .bind(table)
        .bind(idx)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

pub async fn set_partition_tags(c: &mut Conn, id: i64, tags: &[String]) -> Result<()> {
    sqlx::query("UPDATE partitions SET tags = $2 WHERE id = $1")
        .bind(id)
        .bind(tags)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A filesystem to create.
pub struct NewFs<'a> {
    pub on: Option<On>,
    pub fstype: &'a str,
    pub uuid: Option<&'a str>,
    pub label: Option<&'a str>,
    pub mount_point: Option<&'a str>,
    pub mount_options: Option<&'a str>,
}

/// Create a filesystem (replacing the one on the same device or partition).
pub async fn put_fs(c: &mut Conn, machine_id: i64, f: &NewFs<'_>) -> Result<()> {
    if let Some(on) = f.on {
        delete_fs(c, on).await?;
    }
    let (disk, part) = f.on.map_or((None, None), On::cols);
    sqlx::query(
        "INSERT INTO filesystems (machine_id, block_device_id, partition_id, fstype, uuid, label,
                                  mount_point, mount_options)
         VALUES ($1, $2, $3, $4, coalesce($5, gen_random_uuid()::text), $6, $7, $8)",
    )
    .bind(machine_id)
    .bind(disk)
    .bind(part)
    .bind(f.fstype)
    .bind(f.uuid)
    .bind(f.label)
    .bind(f.mount_point)
    .bind(f.mount_options)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete_fs(c: &mut Conn, on: On) -> Result<()> {
    let (disk, part) = on.cols();
    sqlx::query("DELETE FROM filesystems WHERE block_device_id = $1 OR partition_id = $2")
        .bind(disk)
        .bind(part)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Set (or clear, with `None`) the mount point and options of a filesystem.
pub async fn mount_fs(
    c: &mut Conn,
    on: On,
    mount_point: Option<&str>,
    mount_options: Option<&str>,
) -> Result<()> {
    let (disk, part) = on.cols();
    sqlx::query(
        "UPDATE filesystems SET mount_point = $3, mount_options = $4
          WHERE block_device_id = $1 OR partition_id = $2",
    )
    .bind(disk)
    .bind(part)
    .bind(mount_point)
    .bind(mount_options)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Whether a special filesystem (on no device) is mounted at `mount_point`.
pub async fn special_at(c: &mut Conn, machine_id: i64, mount_point: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM filesystems WHERE machine_id = $1 AND mount_point = $2
                          AND block_device_id IS NULL AND partition_id IS NULL)",
    )
    .bind(machine_id)
    .bind(mount_point)
    .fetch_one(&mut *c)
    .await?)
}

/// Delete the special filesystem mounted at `mount_point`.
pub async fn delete_special(c: &mut Conn, machine_id: i64, mount_point: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM filesystems WHERE machine_id = $1 AND mount_point = $2
            AND block_device_id IS NULL AND partition_id IS NULL",
    )
    .bind(machine_id)
    .bind(mount_point)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Remove every partition table, partition and filesystem of a machine.
pub async fn clear(c: &mut Conn, machine_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM filesystems WHERE machine_id = $1")
        .bind(machine_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM partition_tables WHERE machine_id = $1")
        .bind(machine_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
