//! Machine storage: block devices, partitions, filesystems, layouts, the
//! storage groups listed empty; JSON checked the way gomaasapi (Juju) and
//! gomaasclient (Terraform) read it; refusals write nothing.

use maas_testkit as common;

pub use common::TestRegion;
use common::shape::{boolean, int, nullable, obj, string};
use serde_json::Value;

mod commissioned;
mod devices;
mod libmaas;
mod machine;
mod partitions;

pub const GB: i64 = 1_000_000_000;
pub const MIB: i64 = 1024 * 1024;

/// Block device keys, exactly as MAAS renders them.
const DEVICE_KEYS: &[&str] = &[
    "system_id",
    "id",
    "name",
    "uuid",
    "type",
    "path",
    "model",
    "serial",
    "id_path",
    "size",
    "block_size",
    "available_size",
    "used_size",
    "used_for",
    "tags",
    "filesystem",
    "partition_table_type",
    "partitions",
    "firmware_version",
    "storage_pool",
    "numa_node",
    "resource_uri",
];

const PARTITION_KEYS: &[&str] = &[
    "system_id",
    "device_id",
    "id",
    "uuid",
    "path",
    "type",
    "size",
    "bootable",
    "filesystem",
    "used_for",
    "tags",
    "resource_uri",
];

fn keys(o: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut k: Vec<String> = o.keys().cloned().collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

/// gomaasapi `filesystem_2_0`: fstype and uuid strings, label and
/// mount_point string or null; plus mount_options as MAAS renders it.
pub fn check_fs(f: &Value) {
    let o = obj(f, "filesystem");
    string(o, "fstype", "filesystem");
    string(o, "uuid", "filesystem");
    nullable(o, "label", "filesystem", Value::is_string);
    nullable(o, "mount_point", "filesystem", Value::is_string);
    nullable(o, "mount_options", "filesystem", Value::is_string);
    assert_eq!(o.len(), 5, "filesystem keys: {f}");
}

/// gomaasapi `partition_2_0` + gomaasclient's BlockDevicePartition.
pub fn check_partition(p: &Value) {
    let o = obj(p, "partition");
    assert_eq!(keys(o), sorted(PARTITION_KEYS), "partition keys: {p}");
    for k in [
        "resource_uri",
        "path",
        "used_for",
        "type",
        "system_id",
        "uuid",
    ] {
        string(o, k, "partition");
    }
    for k in ["id", "size", "device_id"] {
        int(o, k, "partition");
    }
    boolean(o, "bootable", "partition");
    assert!(o["tags"].is_array());
    nullable(o, "filesystem", "partition", Value::is_object);
    if o["filesystem"].is_object() {
        check_fs(&o["filesystem"]);
    }
    assert_eq!(o["type"], "partition");
}

/// gomaasapi `blockdevice_2_0` and MAAS's exact key set.
pub fn check_device(d: &Value) {
    let o = obj(d, "blockdevice");
    assert_eq!(keys(o), sorted(DEVICE_KEYS), "device keys: {d}");
    for k in [
        "resource_uri",
        "name",
        "path",
        "used_for",
        "type",
        "system_id",
    ] {
        string(o, k, "blockdevice");
    }
    for k in ["id", "block_size", "used_size", "size", "available_size"] {
        int(o, k, "blockdevice");
    }
    for k in ["uuid", "model", "id_path", "partition_table_type", "serial"] {
        nullable(o, k, "blockdevice", Value::is_string);
    }
    nullable(o, "filesystem", "blockdevice", Value::is_object);
    if o["filesystem"].is_object() {
        check_fs(&o["filesystem"]);
    }
    for p in o["partitions"].as_array().expect("partitions list") {
        check_partition(p);
    }
    assert!(o["tags"].is_array());
}

pub async fn disk(r: &TestRegion, sid: &str, name: &str, size: i64) -> Value {
    let (st, d) = r
        .admin
        .post(
            &format!("nodes/{sid}/blockdevices/"),
            &[
                ("name", name),
                ("size", &size.to_string()),
                ("model", "QEMU HARDDISK"),
                ("serial", &format!("S-{name}")),
            ],
        )
        .await;
    assert_eq!(st, 200, "{d}");
    check_device(&d);
    d
}

pub async fn machine(r: &TestRegion, sid: &str) -> Value {
    let (st, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(st, 200, "{m}");
    m
}

pub async fn storage_rows(r: &TestRegion) -> (i64, i64, i64) {
    (
        r.count("SELECT count(*) FROM partition_tables").await,
        r.count("SELECT count(*) FROM partitions").await,
        r.count("SELECT count(*) FROM filesystems").await,
    )
}
