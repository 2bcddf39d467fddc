//! Root tarballs: the disk layout (MBR, GPT), unpacking, boot files and fstab.

use super::super::Image;
use super::super::layout;
use super::super::tarball::*;
use sha2::{Digest, Sha256};

fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o640);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn image(bytes: &[u8]) -> Image {
    Image {
        url: String::new(),
        filetype: "root-tgz".into(),
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
    }
}

/// Identifiers whose text reads "MAAS" (5341414d), so names are stable.
pub(super) fn ids() -> layout::DiskIds {
    let mut b = [0u8; 36];
    b[..4].copy_from_slice(b"MAAS");
    b[4..8].copy_from_slice(&[0x53, 0x41, 0x41, 0x4d]);
    layout::DiskIds::from_bytes(b)
}

#[test]
fn every_partition_table_gets_its_own_identifiers() {
    assert_eq!(ids().guid_text(), "5341414d-0000-4000-8000-000000000000");
    let root = std::path::Path::new("/");
    let (a, b) = (
        layout::DiskIds::random(root).unwrap(),
        layout::DiskIds::random(root).unwrap(),
    );
    assert_ne!(a, b);
    for i in [a, b] {
        let t = i.guid_text();
        assert_eq!((&t[14..15], t.len()), ("4", 36), "{t}");
        assert!("89ab".contains(&t[19..20]) && t.ends_with("00"), "{t}");
        assert_ne!(i.signature, 0);
    }
    let sectors = 2048 * 1024;
    let pa = layout::plan(sectors, &serde_json::Value::Null, &a).unwrap();
    let pb = layout::plan(sectors, &serde_json::Value::Null, &b).unwrap();
    assert_eq!(pa[1].uuid, format!("{:08x}-02", a.signature));
    assert_ne!(pa[1].uuid, pb[1].uuid);
    let m = layout::mbr(&[], &pa, &a).unwrap();
    assert_eq!(m[440..444], a.signature.to_le_bytes());
    assert!(layout::DiskIds::random(std::path::Path::new("/nonexistent")).is_err());
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("maas-tarball-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_mbr_has_a_boot_and_a_root_partition() {
    let code = vec![0xebu8; 440];
    let sectors = 2048 * 1024; // 1 GiB
    let m = layout::mbr(
        &code,
        &layout::plan(sectors, &serde_json::Value::Null, &ids()).unwrap(),
        &ids(),
    )
    .unwrap();
    assert_eq!(&m[..440], &code[..]);
    assert_eq!(&m[440..444], b"MAAS");
    assert_eq!(&m[510..], &[0x55, 0xaa]);
    let le = |o: usize| u32::from_le_bytes(m[o..o + 4].try_into().unwrap()) as u64;
    // p1: active FAT32 LBA from 1 MiB, BOOT_MIB long.
    assert_eq!((m[446], m[450]), (0x80, 0x0c));
    assert_eq!((le(454), le(458)), (2048, BOOT_MIB * 2048));
    // p2: Linux, right after, to the end of the disk.
    assert_eq!((m[462], m[466]), (0x00, 0x83));
    assert_eq!(le(470), 2048 + BOOT_MIB * 2048);
    assert_eq!(le(470) + le(474), sectors);
    assert!(m[478..510].iter().all(|b| *b == 0));
    let e = layout::plan(2048 * 100, &serde_json::Value::Null, &ids()).unwrap_err();
    assert!(e.to_string().contains("too small"), "{e}");
    assert_eq!(part_name("vda", 2), "vda2");
    assert_eq!(part_name("nvme0n1", 1), "nvme0n1p1");
}

#[test]
fn the_regions_layout_follows_the_boot_partition() {
    use serde_json::json;
    let gib = 2048 * 1024u64;
    let storage = json!({"partitions": [
        {"size": 512u64 << 20, "fstype": "fat32", "mount_point": "/boot/firmware", "label": "fw"},
        {"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/", "label": "root"},
        {"size": 3u64 << 29, "fstype": "ext4", "mount_point": "/srv", "mount_options": "noatime"},
    ]});
    // The region's sizes add up to the whole 3 GiB disk; the last
    // partition gives up what the boot partition takes.
    let parts = layout::plan(3 * gib, &storage, &ids()).unwrap();
    let spans: Vec<(u64, u64, u8)> = parts.iter().map(|p| (p.start, p.len, p.kind)).collect();
    let boot_end = 2048 + BOOT_MIB * 2048;
    assert_eq!(
        spans,
        vec![
            (2048, BOOT_MIB * 2048, 0x0c),
            (boot_end, 512 * 2048, 0x0c),
            (boot_end + 512 * 2048, gib, 0x83),
            (
                boot_end + 512 * 2048 + gib,
                3 * gib - (boot_end + 512 * 2048 + gib),
                0x83
            ),
        ]
    );
    assert_eq!(
        parts[2].label.as_deref(),
        Some(ROOT_LABEL),
        "boot entries find the root by it"
    );
    let m = layout::mbr(&[], &parts, &ids()).unwrap();
    assert_eq!((m[446], m[462], m[478], m[494]), (0x80, 0, 0, 0));
    assert_eq!(
        layout::fstab_lines(&parts),
        vec![
            "PARTUUID=5341414d-02 /boot/firmware vfat defaults 0 2",
            "PARTUUID=5341414d-04 /srv ext4 noatime 0 2",
        ]
    );
    assert_eq!(
        layout::mounts(&parts),
        vec![(4, "/srv".to_string()), (2, "/boot/firmware".to_string())],
        "parents first"
    );
    // The tarball's own lines for those mount points go.
    let root = tmp("layout-root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/fstab"),
        "UUID=x /boot/firmware vfat umask=0077 0 1\ntmpfs /tmp tmpfs defaults 0 0\n",
    )
    .unwrap();
    write_fstab(&root, &parts).unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("etc/fstab")).unwrap(),
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults 0 0\n\
         PARTUUID=5341414d-02 /boot/firmware vfat defaults 0 2\nPARTUUID=5341414d-04 /srv ext4 noatime 0 2\n"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// MAAS's flat layout on UEFI: an EFI system partition at /boot/efi and
/// the root. The agent's boot partition is the ESP, as big as the
/// region's: it takes the mount point (and its options), and no second
/// FAT partition is made.
#[test]
fn the_regions_efi_partition_is_the_agents_boot_partition() {
    use serde_json::json;
    let gib = 2048 * 1024u64;
    let storage = json!({"partitions": [
        {"size": 512u64 << 20, "fstype": "fat32", "mount_point": "/boot/efi", "label": "efi",
         "mount_options": "umask=0077"},
        {"size": (2u64 << 30) - (513u64 << 20), "fstype": "ext4", "mount_point": "/", "label": "root"},
    ]});
    let parts = layout::plan(2 * gib, &storage, &ids()).unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[0].boot && parts[0].len == 512 * 2048, "{parts:?}");
    assert_eq!(parts[0].mount_point.as_deref(), Some("/boot/efi"));
    assert!(parts[1].is_root());
    assert_eq!(parts[1].start, 513 * 2048, "right after the ESP");
    assert_eq!(parts[1].start + parts[1].len, 2 * gib, "to the end");
    // An ESP smaller than the agent needs is made BOOT_MIB big.
    let small = json!({"partitions": [
        {"size": 32u64 << 20, "fstype": "fat32", "mount_point": "/boot/efi"},
        {"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/"},
    ]});
    let parts_small = layout::plan(2 * gib, &small, &ids()).unwrap();
    assert_eq!(parts_small[0].len, BOOT_MIB * 2048);
    // The region's GPT is kept for the two partitions (an MBR would do).
    assert!(!layout::wants_gpt(&storage, 2, 2 * gib));
    let mut gpt = storage.clone();
    gpt["partition_table_type"] = json!("GPT");
    assert!(layout::wants_gpt(&gpt, 2, 2 * gib));
    let on_gpt = layout::plan(2 * gib, &gpt, &ids()).unwrap();
    assert_eq!(on_gpt[0].uuid, "5341414d-0000-4000-8000-000000000001");
    assert!(
        on_gpt[1].start + on_gpt[1].len <= 2 * gib - 33,
        "clear of the backup GPT"
    );
    assert_eq!(
        layout::fstab_lines(&parts),
        vec!["PARTUUID=5341414d-01 /boot/efi vfat umask=0077 0 2"]
    );
    assert!(
        layout::mounts(&parts).is_empty(),
        "filled by the agent, not the tarball"
    );
    // Without one, the boot partition stays out of fstab.
    let flat = layout::plan(2 * gib, &serde_json::Value::Null, &ids()).unwrap();
    assert!(layout::fstab_lines(&flat).is_empty());
    // A FAT partition mounted elsewhere, or /boot/efi as ext4, is its own.
    let other = json!({"partitions": [
        {"size": 64u64 << 20, "fstype": "ext4", "mount_point": "/boot/efi"},
        {"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/"},
    ]});
    assert_eq!(layout::plan(2 * gib, &other, &ids()).unwrap().len(), 3);
}

#[test]
fn layouts_the_agent_cannot_make_are_refused_with_the_reason() {
    use serde_json::json;
    let disk = 2048 * 4096u64; // 4 GiB
    let refused = |parts: serde_json::Value| {
        layout::plan(disk, &json!({ "partitions": parts }), &ids())
            .unwrap_err()
            .to_string()
    };
    let root = json!({"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/"});
    let e = refused(json!([root, root, root, root]));
    assert!(e.contains("more than one filesystem at /"), "{e}");
    let many: Vec<serde_json::Value> = (0..121)
        .map(|_| json!({"size": 1u64 << 20, "fstype": "ext4"}))
        .collect();
    let e = refused(json!(many));
    assert!(e.contains("at most 120"), "{e}");
    let e = refused(json!([{"size": 1u64 << 30, "fstype": "xfs", "mount_point": "/"}]));
    assert!(e.contains("xfs filesystem"), "{e}");
    let e = refused(json!([{"size": 1u64 << 30, "fstype": "fat32", "mount_point": "/"}]));
    assert!(e.contains("must be ext2, ext3 or ext4"), "{e}");
    let e = refused(json!([{"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/srv"}]));
    assert!(e.contains("nothing at /"), "{e}");
    let e = refused(json!([{"size": 8u64 << 30, "fstype": "ext4", "mount_point": "/data"}, root]));
    assert!(e.contains("does not fit"), "{e}");
    // Swap and an unformatted partition are fine; swap gets an fstab line.
    let parts = layout::plan(
        disk,
        &json!({"partitions": [{"size": 256u64 << 20, "fstype": "swap"}, {"size": 64u64 << 20}, root]}), &ids()).unwrap();
    assert_eq!(parts[1].kind, 0x82);
    assert_eq!(parts[2].fstype, None);
    assert_eq!(
        layout::fstab_lines(&parts),
        vec!["PARTUUID=5341414d-02 none swap sw 0 0"]
    );
    assert!(layout::mounts(&parts).is_empty());
}

#[test]
fn more_than_three_partitions_get_a_gpt_that_util_linux_reads_back() {
    use serde_json::json;
    let mib = 2048u64;
    let sectors = 2048 * mib + 7; // 2 GiB and a few sectors
    let storage = json!({"partitions": [
        {"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/"},
        {"size": 64u64 << 20, "fstype": "swap"},
        {"size": 128u64 << 20, "fstype": "fat32", "mount_point": "/boot/firmware", "label": "fw"},
        {"size": 1u64 << 30, "fstype": "ext4", "mount_point": "/srv"},
    ]});
    let parts = layout::plan(sectors, &storage, &ids()).unwrap();
    assert!(layout::uses_gpt(parts.len(), sectors));
    assert!(!layout::uses_gpt(4, sectors) && layout::uses_gpt(2, 1 << 33));
    let last = parts.last().unwrap();
    assert!(
        last.start + last.len <= sectors - 33,
        "clear of the backup GPT"
    );
    assert_eq!(parts[2].uuid, "5341414d-0000-4000-8000-000000000003");
    assert_eq!(
        layout::fstab_lines(&parts),
        vec![
            "PARTUUID=5341414d-0000-4000-8000-000000000003 none swap sw 0 0",
            "PARTUUID=5341414d-0000-4000-8000-000000000004 /boot/firmware vfat defaults 0 2",
            "PARTUUID=5341414d-0000-4000-8000-000000000005 /srv ext4 defaults 0 2",
        ]
    );
    let code = vec![0x33u8; 440];
    let (head, tail) = layout::gpt(&code, &parts, sectors, &ids()).unwrap();
    assert_eq!((head.len(), tail.len()), (34 * 512, 33 * 512));
    assert_eq!(&head[..440], &code[..]);
    assert_eq!((head[450], &head[510..512]), (0xee, &[0x55u8, 0xaa][..]));
    assert_eq!(&head[512..520], b"EFI PART");
    assert_eq!(&tail[32 * 512..32 * 512 + 8], b"EFI PART");
    assert_eq!(
        &head[1024..],
        &tail[..32 * 512],
        "the same entries at both ends"
    );

    // util-linux reads it as we meant it: GPT, types, spans, names,
    // GUIDs, the boot partition legacy-BIOS-bootable; no complaint
    // about checksums or the backup.
    let dir = tmp("gpt");
    let disk = dir.join("disk.img");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&disk).unwrap();
        f.set_len(sectors * 512).unwrap();
        f.write_all(&head).unwrap();
        f.seek(SeekFrom::Start(sectors * 512 - tail.len() as u64))
            .unwrap();
        f.write_all(&tail).unwrap();
    }
    let out = std::process::Command::new("sfdisk")
        .arg("--json")
        .arg(&disk)
        .output()
        .expect("sfdisk (fdisk) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "sfdisk: {err}"
    );
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &t["partitiontable"];
    assert_eq!(t["label"], "gpt");
    assert_eq!(t["id"], "5341414D-0000-4000-8000-000000000000");
    assert_eq!(t["lastlba"], sectors - 34);
    let got: Vec<(u64, u64, String, String)> = t["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["start"].as_u64().unwrap(),
                p["size"].as_u64().unwrap(),
                p["type"].as_str().unwrap().to_lowercase(),
                p["uuid"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    let want: Vec<(u64, u64, String, String)> = parts
        .iter()
        .zip([
            "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
            "0fc63daf-8483-4772-8e79-3d69d8477de4",
            "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
            "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7",
            "0fc63daf-8483-4772-8e79-3d69d8477de4",
        ])
        .map(|(p, kind)| (p.start, p.len, kind.to_string(), p.uuid.clone()))
        .collect();
    assert_eq!(got, want);
    let p1 = &t["partitions"][0];
    assert_eq!(p1["name"], "MAASBOOT");
    assert_eq!(p1["attrs"], "LegacyBIOSBootable");
    assert_eq!(t["partitions"][3]["name"], "fw");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_root_tarball_unpacks_checked_and_boots_its_newest_kernel() {
    let bytes = tgz(&[
        ("boot/vmlinuz-6.1.0-9-amd64", b"old kernel"),
        ("boot/initrd.img-6.1.0-9-amd64", b"old initrd"),
        ("boot/vmlinuz-6.1.0-10-amd64", b"new kernel"),
        ("boot/initrd.img-6.1.0-10-amd64", b"new initrd"),
        ("boot/vmlinuz-6.2.0-1-amd64", b"kernel without initrd"),
        (
            "etc/fstab",
            b"# static\n/dev/sda1 / ext4 errors=remount-ro 0 1\nproc /proc proc defaults 0 0\n",
        ),
    ]);
    let root = tmp("root");
    let n = unpack(&bytes[..], &image(&bytes), &root).unwrap();
    assert_eq!(n, bytes.len() as u64);
    assert_eq!(
        std::fs::read(root.join("boot/vmlinuz-6.1.0-10-amd64")).unwrap(),
        b"new kernel"
    );

    let boot = tmp("boot");
    let sd = root.join("fake-sdboot.efi");
    std::fs::write(&sd, b"EFI").unwrap();
    write_boot_files(
        &root,
        &boot,
        Some(&sd),
        &console_args("BOOT_IMAGE=x console=tty0 quiet console=ttyS0,115200"),
    )
    .unwrap();
    assert_eq!(std::fs::read(boot.join("vmlinuz")).unwrap(), b"new kernel");
    assert_eq!(std::fs::read(boot.join("initrd")).unwrap(), b"new initrd");
    let cfg = std::fs::read_to_string(boot.join("syslinux/syslinux.cfg")).unwrap();
    assert!(
        cfg.contains("APPEND root=LABEL=cloudimg-rootfs ro console=tty0 console=ttyS0,115200\n"),
        "{cfg}"
    );
    assert_eq!(
        std::fs::read(boot.join("EFI/BOOT/BOOTX64.EFI")).unwrap(),
        b"EFI"
    );
    let entry = std::fs::read_to_string(boot.join("loader/entries/maas.conf")).unwrap();
    assert!(
        entry.contains("options root=LABEL=cloudimg-rootfs ro console=tty0"),
        "{entry}"
    );

    write_fstab(
        &root,
        &layout::plan(2048 * 1024, &serde_json::Value::Null, &ids()).unwrap(),
    )
    .unwrap();
    let fstab = std::fs::read_to_string(root.join("etc/fstab")).unwrap();
    assert_eq!(
        fstab,
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n# static\nproc /proc proc defaults 0 0\n"
    );
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::remove_dir_all(&boot).unwrap();
}

#[test]
fn an_xz_tarball_unpacks_through_the_pipe() {
    let mut b = tar::Builder::new(Vec::new());
    let big = vec![7u8; 3 << 20]; // larger than the pipe's buffer
    for (path, data) in [("etc/hostname", &b"x\n"[..]), ("var/big", &big[..])] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    }
    let t = b.into_inner().unwrap();
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut std::io::Cursor::new(&t), &mut xz).unwrap();
    let root = tmp("txz");
    let mut img = image(&xz);
    img.filetype = "root-txz".into();
    assert_eq!(unpack(&xz[..], &img, &root).unwrap(), xz.len() as u64);
    assert_eq!(std::fs::read(root.join("var/big")).unwrap(), big);
    // A broken xz stream is an error, not a partial tree left as done.
    let mut bad = xz.clone();
    let n = bad.len();
    bad.truncate(n / 2);
    let mut img = image(&bad);
    img.filetype = "root-txz".into();
    assert!(unpack(&bad[..], &img, &tmp("txz-bad")).is_err());
    std::fs::remove_dir_all(&root).unwrap();
    std::fs::remove_dir_all(tmp("txz-bad")).unwrap();
}

#[test]
fn a_bzip2_tarball_unpacks() {
    use std::io::Write;
    let t = {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        b.append_data(&mut h, "etc/hostname", &b"x\n"[..]).unwrap();
        b.into_inner().unwrap()
    };
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(&t).unwrap();
    let tbz = e.finish().unwrap();
    assert!(is_tarball("root-tbz"));
    let root = tmp("tbz");
    let mut img = image(&tbz);
    img.filetype = "root-tbz".into();
    assert_eq!(unpack(&tbz[..], &img, &root).unwrap(), tbz.len() as u64);
    assert_eq!(std::fs::read(root.join("etc/hostname")).unwrap(), b"x\n");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_tarball_that_does_not_match_its_checksum_or_has_no_kernel_is_refused() {
    let bytes = tgz(&[("etc/hostname", b"x\n")]);
    let root = tmp("bad");
    let mut img = image(&bytes);
    img.sha256 = "00".repeat(32);
    let e = unpack(&bytes[..], &img, &root).unwrap_err();
    assert!(e.to_string().contains("sha256 mismatch"), "{e}");
    let mut img = image(&bytes);
    img.size += 1;
    let e = unpack(&bytes[..], &img, &root).unwrap_err();
    assert!(e.to_string().contains("size mismatch"), "{e}");
    unpack(&bytes[..], &image(&bytes), &root).unwrap();
    let e = write_boot_files(&root, &root, None, "").unwrap_err();
    assert!(format!("{e:#}").contains("boot"), "{e:#}");
    std::fs::remove_dir_all(&root).unwrap();
}
