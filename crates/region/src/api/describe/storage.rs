//! Machine storage: block devices, partitions, and the storage groups this
//! region lists empty (volume groups, RAIDs, bcaches, cache sets, VMFS).

use super::{C, D, R, Resource, U, auth, post};

const S: &[&str] = &["system_id"];
const SI: &[&str] = &["system_id", "id"];

pub const RESOURCES: &[Resource] = &[
    auth(
        "BlockDevicesHandler",
        "/nodes/{system_id}/blockdevices/",
        S,
        "Manage block devices on a machine.",
        &[R, C],
    ),
    auth(
        "BlockDeviceHandler",
        "/nodes/{system_id}/blockdevices/{id}/",
        SI,
        "Manage a block device on a machine.",
        &[
            R,
            U,
            D,
            post("add_tag"),
            post("remove_tag"),
            post("format"),
            post("unformat"),
            post("mount"),
            post("unmount"),
            post("set_boot_disk"),
        ],
    ),
    auth(
        "PartitionsHandler",
        "/nodes/{system_id}/blockdevices/{device_id}/partitions/",
        &["system_id", "device_id"],
        "Manage partitions on a block device.",
        &[R, C],
    ),
    auth(
        "PartitionHandler",
        "/nodes/{system_id}/blockdevices/{device_id}/partition/{id}",
        &["system_id", "device_id", "id"],
        "Manage partition on a block device.",
        &[
            R,
            D,
            post("format"),
            post("unformat"),
            post("mount"),
            post("unmount"),
            post("add_tag"),
            post("remove_tag"),
        ],
    ),
    auth(
        "VolumeGroupsHandler",
        "/nodes/{system_id}/volume-groups/",
        S,
        "Manage volume groups on a machine (none: not supported by this region yet).",
        &[R, C],
    ),
    auth(
        "VolumeGroupHandler",
        "/nodes/{system_id}/volume-group/{id}/",
        SI,
        "Manage volume group on a machine (not supported by this region yet).",
        &[
            R,
            U,
            D,
            post("create_logical_volume"),
            post("delete_logical_volume"),
        ],
    ),
    auth(
        "RaidsHandler",
        "/nodes/{system_id}/raids/",
        S,
        "Manage all RAID devices on a machine (none: not supported by this region yet).",
        &[R, C],
    ),
    auth(
        "RaidHandler",
        "/nodes/{system_id}/raid/{id}/",
        SI,
        "Manage a specific RAID device on a machine (not supported by this region yet).",
        &[R, U, D],
    ),
    auth(
        "BcachesHandler",
        "/nodes/{system_id}/bcaches/",
        S,
        "Manage bcache devices on a machine (none: not supported by this region yet).",
        &[R, C],
    ),
    auth(
        "BcacheHandler",
        "/nodes/{system_id}/bcache/{id}/",
        SI,
        "Manage bcache device on a machine (not supported by this region yet).",
        &[R, U, D],
    ),
    auth(
        "BcacheCacheSetsHandler",
        "/nodes/{system_id}/bcache-cache-sets/",
        S,
        "Manage bcache cache sets on a machine (none: not supported by this region yet).",
        &[R, C],
    ),
    auth(
        "BcacheCacheSetHandler",
        "/nodes/{system_id}/bcache-cache-set/{id}/",
        SI,
        "Manage bcache cache set on a machine (not supported by this region yet).",
        &[R, U, D],
    ),
    auth(
        "VmfsDatastoresHandler",
        "/nodes/{system_id}/vmfs-datastores/",
        S,
        "Manage VMFS datastores on a machine (none: not supported by this region yet).",
        &[R, C],
    ),
    auth(
        "VmfsDatastoreHandler",
        "/nodes/{system_id}/vmfs-datastore/{id}/",
        SI,
        "Manage VMFS datastore on a machine (not supported by this region yet).",
        &[R, U, D],
    ),
];
