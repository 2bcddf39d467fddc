//! Block devices, partitions and filesystems as MAAS renders them (the
//! shapes gomaasapi and gomaasclient read).

use maas_model::storage::{FsUse, used_for};
use serde::Serialize;

use crate::render::API;
use crate::store::machines::related::{DiskRow, FsRow, PartRow};

/// A filesystem on a device, a partition or the machine itself.
#[derive(Debug, Clone, Serialize)]
pub struct FsJson {
    pub fstype: String,
    pub label: Option<String>,
    pub uuid: String,
    pub mount_point: Option<String>,
    pub mount_options: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartitionJson {
    pub id: i64,
    pub uuid: String,
    pub path: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub size: i64,
    pub bootable: bool,
    pub filesystem: Option<FsJson>,
    pub used_for: String,
    pub tags: Vec<String>,
    pub system_id: String,
    pub device_id: i64,
    pub resource_uri: String,
    /// `<disk>-part<N>`: not in MAAS's JSON, used to find one by name.
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub index: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockDeviceJson {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub path: String,
    pub id_path: Option<String>,
    pub size: i64,
    pub block_size: i32,
    pub available_size: i64,
    pub used_size: i64,
    pub used_for: String,
    pub tags: Vec<String>,
    pub model: String,
    pub serial: String,
    pub uuid: Option<String>,
    pub filesystem: Option<FsJson>,
    pub partition_table_type: Option<String>,
    pub partitions: Vec<PartitionJson>,
    pub firmware_version: Option<String>,
    pub storage_pool: Option<String>,
    pub numa_node: i32,
    pub system_id: String,
    pub resource_uri: String,
    #[serde(skip)]
    pub machine_id: i64,
    /// The machine's chosen boot disk.
    #[serde(skip)]
    pub is_boot: bool,
    /// The bytes the partition table reserves (0 without one).
    #[serde(skip)]
    pub table_overhead: i64,
}

pub fn fs_json(f: FsRow) -> FsJson {
    let FsRow(fstype, uuid, label, mount_point, mount_options) = f;
    FsJson {
        fstype,
        label,
        uuid,
        mount_point,
        mount_options,
    }
}

fn fs_use(f: &FsJson) -> FsUse<'_> {
    FsUse {
        fstype: &f.fstype,
        mount_point: f.mount_point.as_deref(),
    }
}

pub fn disk_json(sys: &str, r: DiskRow) -> BlockDeviceJson {
    let DiskRow(
        id,
        mid,
        name,
        size,
        block_size,
        tags,
        model,
        serial,
        id_path,
        is_boot,
        table,
        fs,
        parts,
    ) = r;
    let path = format!("/dev/disk/by-dname/{name}");
    let partitions: Vec<PartitionJson> = parts
        .into_iter()
        .map(|p| {
            let PartRow(pid, index, uuid, psize, bootable, ptags, pfs) = p;
            let filesystem = pfs.map(fs_json);
            PartitionJson {
                id: pid,
                uuid,
                path: format!("{path}-part{index}"),
                type_: "partition",
                size: psize,
                bootable,
                used_for: used_for(filesystem.as_ref().map(fs_use), None),
                filesystem,
                tags: ptags,
                system_id: sys.to_string(),
                device_id: id,
                resource_uri: format!("{API}/nodes/{sys}/blockdevices/{id}/partition/{pid}"),
                name: format!("{name}-part{index}"),
                index,
            }
        })
        .collect();
    let filesystem = fs.map(fs_json);
    let overhead = table.as_ref().map_or(0, |t| t.1);
    let used_size = if filesystem.is_some() {
        size
    } else if table.is_some() {
        overhead + partitions.iter().map(|p| p.size).sum::<i64>()
    } else {
        0
    };
    let used = used_for(
        filesystem.as_ref().map(fs_use),
        table.as_ref().map(|t| (t.0.as_str(), partitions.len())),
    );
    BlockDeviceJson {
        id,
        path,
        name,
        type_: "physical",
        id_path,
        size,
        block_size,
        available_size: size - used_size,
        used_size,
        used_for: used,
        tags,
        model,
        serial,
        uuid: None,
        filesystem,
        partition_table_type: table.map(|t| t.0),
        partitions,
        firmware_version: None,
        storage_pool: None,
        numa_node: 0,
        system_id: sys.to_string(),
        resource_uri: format!("{API}/nodes/{sys}/blockdevices/{id}/"),
        machine_id: mid,
        is_boot,
        table_overhead: overhead,
    }
}
