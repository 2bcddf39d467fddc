//! The layout's other disks: planned, named in fstab, their filesystems
//! made with the UUID fstab names (read back by util-linux's blkid).

use serde_json::json;

use super::super::data_disks::{self, Table};
use super::super::{find_disk, layout};
use super::tarball_images::ids;
use crate::inventory::Disk;

const GIB: u64 = 2048 * 1024;

#[test]
fn a_whole_disk_filesystem_is_named_by_the_uuid_the_agent_gives_it() {
    let spec = json!({"name": "vdb", "partitions": [],
        "filesystem": {"fstype": "ext4", "mount_point": "/data", "label": "data",
                       "mount_options": "noatime"}});
    let p = data_disks::plan(GIB, &spec, &ids()).unwrap();
    assert_eq!(p.table, Table::Whole);
    assert_eq!((p.parts[0].start, p.parts[0].len), (0, GIB));
    let u = layout::uuid_text(&ids().fs);
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4", "a version-4 UUID: {u}");
    assert_eq!(
        layout::fstab_lines(&p.parts),
        vec![format!("UUID={u} /data ext4 noatime 0 2")]
    );
    assert_eq!(layout::mounts(&p.parts), vec![(1, "/data".to_string())]);
    // FAT's 32-bit volume id, as blkid and fstab write it.
    let fat = json!({"name": "vdb", "filesystem": {"fstype": "fat32", "mount_point": "/x"}});
    let p = data_disks::plan(GIB, &fat, &ids()).unwrap();
    let id = p.parts[0].fs_uuid.clone().unwrap();
    assert_eq!(id, format!("{}-{}", &u[..4], &u[4..8]).to_uppercase());
    let swap = json!({"name": "vdb", "filesystem": {"fstype": "swap"}});
    let p = data_disks::plan(GIB, &swap, &ids()).unwrap();
    assert_eq!(
        layout::fstab_lines(&p.parts),
        vec![format!("UUID={u} none swap sw 0 0")]
    );
}

#[test]
fn partitions_on_a_data_disk_start_at_the_first_mib_without_a_boot_partition() {
    let spec = json!({"name": "vdc", "partition_table_type": "MBR", "partitions": [
        {"size": 128u64 << 20, "fstype": "ext4", "mount_point": "/data/logs"},
        {"size": 64u64 << 20, "fstype": "swap"},
        {"size": 1u64 << 20},
    ]});
    let p = data_disks::plan(GIB, &spec, &ids()).unwrap();
    assert_eq!(p.table, Table::Mbr);
    let spans: Vec<(u64, u64, u8, bool)> = p
        .parts
        .iter()
        .map(|x| (x.start, x.len, x.kind, x.boot))
        .collect();
    assert_eq!(
        spans,
        vec![
            (2048, 128 * 2048, 0x83, false),
            (129 * 2048, 64 * 2048, 0x82, false),
            (193 * 2048, 2048, 0x83, false),
        ]
    );
    assert_eq!(
        layout::fstab_lines(&p.parts),
        vec![
            "PARTUUID=5341414d-01 /data/logs ext4 defaults 0 2",
            "PARTUUID=5341414d-02 none swap sw 0 0",
        ]
    );
    // No boot code and nothing active on a data disk.
    let m = layout::mbr(&[], &p.parts, &ids()).unwrap();
    assert!(m[..440].iter().all(|b| *b == 0));
    assert!([446, 462, 478].iter().all(|o| m[*o] == 0));
    // The region's GPT is kept even for few partitions.
    let gpt = json!({"name": "vdc", "partition_table_type": "GPT",
        "partitions": [{"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/srv"}]});
    let p = data_disks::plan(2 * GIB, &gpt, &ids()).unwrap();
    assert_eq!(p.table, Table::Gpt);
    assert_eq!(p.parts[0].uuid, "5341414d-0000-4000-8000-000000000001");
    // The last partition ends clear of the backup GPT.
    let rest = json!({"name": "vdc", "partition_table_type": "GPT",
        "partitions": [{"size": 2u64 << 30, "fstype": "ext4", "mount_point": "/srv"}]});
    let p = data_disks::plan(2 * GIB, &rest, &ids()).unwrap();
    assert!(p.parts[0].start + p.parts[0].len <= 2 * GIB - 33);
}

#[test]
fn data_disk_layouts_the_agent_cannot_make_are_refused_with_the_reason() {
    let refused = |spec: serde_json::Value| {
        data_disks::plan(GIB, &spec, &ids())
            .unwrap_err()
            .to_string()
    };
    let e = refused(json!({"name": "vdb", "filesystem": {"fstype": "ext4", "mount_point": "/"}}));
    assert!(e.contains("root must be on the boot disk"), "{e}");
    let e = refused(json!({"name": "vdb", "filesystem": {"fstype": "xfs", "mount_point": "/x"}}));
    assert!(e.contains("disk vdb wants a xfs filesystem"), "{e}");
    let e = refused(json!({"name": "vdb", "filesystem": {"fstype": "ext4"},
        "partitions": [{"size": 1u64 << 20}]}));
    assert!(e.contains("both partitions and a filesystem"), "{e}");
    let e = refused(json!({"name": "vdb", "partitions": []}));
    assert!(e.contains("nothing to make"), "{e}");
    let e = refused(json!({"name": "vdb", "partitions": [
        {"size": 2u64 << 30, "fstype": "ext4", "mount_point": "/a"},
        {"size": 1u64 << 20, "fstype": "ext4", "mount_point": "/b"}]}));
    assert!(e.contains("does not fit on the disk vdb"), "{e}");
    // Two filesystems at one mount point, across disks; swaps may repeat.
    let a = data_disks::plan(
        GIB,
        &json!({"name": "vdb",
        "filesystem": {"fstype": "ext4", "mount_point": "/srv"}}),
        &ids(),
    )
    .unwrap();
    let b = data_disks::plan(
        GIB,
        &json!({"name": "vdc", "partitions": [
        {"size": 64u64 << 20, "fstype": "swap"},
        {"size": 64u64 << 20, "fstype": "ext4", "mount_point": "/srv"}]}),
        &ids(),
    )
    .unwrap();
    let mut all = a.parts.clone();
    all.extend(b.parts.clone());
    let e = data_disks::check_mount_points(&all)
        .unwrap_err()
        .to_string();
    assert!(e.contains("two filesystems at /srv"), "{e}");
    let swaps = [b.parts[0].clone(), b.parts[0].clone()];
    assert!(data_disks::check_mount_points(&swaps).is_ok());
    assert!(data_disks::check_mount_points(&b.parts).is_ok());
}

#[test]
fn the_regions_disks_are_found_by_serial_then_id_path_then_name() {
    let disk = |name: &str, serial: &str| Disk {
        name: name.into(),
        size: 1 << 30,
        rotational: false,
        model: String::new(),
        serial: serial.into(),
        id_path: (!serial.is_empty()).then(|| format!("/dev/disk/by-id/virtio-{serial}")),
        vendor: String::new(),
    };
    let disks = [disk("vda", "s-a"), disk("vdb", "s-b"), disk("vdc", "")];
    // The kernel's names moved: the serial wins over the name.
    let w = json!({"name": "vda", "serial": "s-b"});
    assert_eq!(find_disk(&disks, &w).as_deref(), Some("vdb"));
    let w = json!({"name": "vda", "serial": "gone", "id_path": "/dev/disk/by-id/virtio-s-b"});
    assert_eq!(find_disk(&disks, &w).as_deref(), Some("vdb"));
    let w = json!({"name": "vdc", "serial": ""});
    assert_eq!(find_disk(&disks, &w).as_deref(), Some("vdc"));
    // A disk that is not there is not guessed.
    let w = json!({"name": "vdz", "serial": "gone"});
    assert_eq!(find_disk(&disks, &w), None);
}

/// What util-linux's blkid reads as `tag` of the filesystem in `file`.
fn blkid(file: &std::path::Path, tag: &str) -> String {
    let out = std::process::Command::new("blkid")
        .args(["-p", "-o", "value", "-s", tag])
        .arg(file)
        .output()
        .expect("blkid (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn whole_disk_filesystems_carry_the_uuid_fstab_names() {
    let dir = std::env::temp_dir().join(format!("maas-data-disks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for fstype in ["ext4", "fat32", "swap"] {
        let spec = json!({"name": "vdb", "filesystem": {"fstype": fstype, "mount_point": "/d"}});
        let ids = layout::DiskIds::random(std::path::Path::new("/")).unwrap();
        let p = data_disks::plan(64 * 2048, &spec, &ids).unwrap();
        let file = dir.join(format!("{fstype}.img"));
        let f = std::fs::File::create(&file).unwrap();
        f.set_len(64 << 20).unwrap();
        crate::install::mkfs(&p.parts[0], &file.to_string_lossy()).unwrap();
        let want = p.parts[0].fs_uuid.clone().unwrap();
        assert_eq!(blkid(&file, "UUID"), want, "{fstype}");
        let line = &layout::fstab_lines(&p.parts)[0];
        assert!(line.starts_with(&format!("UUID={want} ")), "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
