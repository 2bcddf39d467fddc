//! Real cloud-init: a Debian image built with debootstrap from Debian's
//! packages (`deploy/build-cloud-image`) carrying Debian's own `cloud-init`
//! is deployed on a qemu machine of the lab. After the agent has written
//! the image and its datasource, the installed OS boots from disk and
//! cloud-init's MAAS datasource fetches the instance data with the
//! machine's token through the rack, which marks the machine Deployed
//! (user-data read, as in MAAS); its webhook reporter posts each stage to
//! the machine's status endpoint. The disk, read afterwards, shows what
//! cloud-init did with what it fetched: the owner's key installed for the
//! default user, the deploy's user_data run. Deployed three times: as a
//! whole disk image (`ddgz`) and as a root tarball (`tgz`) the agent lays
//! out, on a layout made through the API (BIOS) and on the default layout
//! commissioning gave a UEFI machine (an ESP at /boot/efi and the root).
//!
//! Slower than the tiny image's path (the lifecycle tests): the image is
//! ~700 MiB and Debian boots under TCG.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::lab::{Lab, build, images, lab_with_images, upload};
use maas_lab::{Firmware, MachineSpec};

/// The root partition's byte offset in the image (1 MiB + the 64 MiB
/// boot partition; `deploy/build-cloud-image`).
const ROOT_OFFSET: u64 = 65 << 20;
/// Where the root starts after MAAS's 512 MiB ESP (the default layout of
/// a UEFI machine).
const UEFI_ROOT_OFFSET: u64 = 513 << 20;

/// The ext4 root of machine `disk`, copied out and its journal replayed
/// (the BMC cut the power: what cloud-init wrote last may be only in the
/// journal, which debugfs does not read).
fn root_fs(disk: &Path) -> std::path::PathBuf {
    fs_at(disk, ROOT_OFFSET, "root")
}

/// The ext4 filesystem at `offset` of `disk`, copied out, journal replayed.
fn fs_at(disk: &Path, offset: u64, name: &str) -> std::path::PathBuf {
    let root = disk.with_extension(name);
    let st = Command::new("dd")
        .arg(format!("if={}", disk.display()))
        .arg(format!("of={}", root.display()))
        .args(["bs=1M", "conv=sparse", "status=none"])
        .arg(format!("skip={}", offset >> 20))
        .status()
        .unwrap();
    assert!(st.success(), "dd the root partition out");
    let out = Command::new("e2fsck")
        .args(["-E", "journal_only", "-y"])
        .arg(&root)
        .output()
        .expect("e2fsck (e2fsprogs) runs");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "e2fsck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    root
}

/// Partition `n`'s unique GUID as the raw disk's GPT holds it (entries of
/// 128 bytes from LBA 2; the first three fields little endian).
fn gpt_part_guid(disk: &Path, n: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(disk).unwrap();
    f.seek(SeekFrom::Start(1024 + 128 * (n - 1) + 16)).unwrap();
    let mut b = [0u8; 16];
    f.read_exact(&mut b).unwrap();
    let hex = |s: &[u8]| s.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{:08x}-{:04x}-{:04x}-{}-{}",
        u32::from_le_bytes(b[0..4].try_into().unwrap()),
        u16::from_le_bytes(b[4..6].try_into().unwrap()),
        u16::from_le_bytes(b[6..8].try_into().unwrap()),
        hex(&b[8..10]),
        hex(&b[10..16])
    )
}

/// The filesystem UUID util-linux's blkid reads in `file`.
fn blkid_uuid(file: &Path) -> String {
    let out = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", "UUID"])
        .arg(file)
        .output()
        .expect("blkid (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn read_root_file(fs: &Path, path: &str) -> Option<String> {
    let out = Command::new("debugfs")
        .arg("-R")
        .arg(format!("cat {path}"))
        .arg(fs)
        .output()
        .expect("debugfs (e2fsprogs) runs");
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || err.contains("File not found") {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ls -l` of these directories of an ext4 image (for failure messages).
fn listing(fs: &Path, dirs: &[&str]) -> String {
    dirs.iter()
        .map(|d| {
            let out = Command::new("debugfs")
                .arg("-R")
                .arg(format!("ls -l {d}"))
                .arg(fs)
                .output()
                .unwrap();
            format!(
                "{d}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The machine's events, oldest first, as "type: description".
async fn events(lab: &Lab, sid: &str) -> Vec<(String, String, String)> {
    let (st, v) = lab
        .r
        .admin
        .get(
            "events/",
            &[
                ("op", "query"),
                ("id", sid),
                ("level", "DEBUG"),
                ("limit", "1000"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let mut out: Vec<_> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            (s("level"), s("type"), s("description"))
        })
        .collect();
    out.reverse();
    out
}

/// The whole-disk image, on a machine with two NICs bonded through the
/// API (active-backup), a tagged VLAN on the bond and a gateway on its
/// subnet: the Debian it boots brings the bond, the VLAN and the default
/// route up from the agent's netplan file, and cloud-init reaches the
/// datasource over the bond.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_cloud_init_reads_its_instance_data_from_the_maas_datasource_and_reports_in() {
    deploy_debian(
        "10.84.1",
        "ddgz",
        "root-dd.raw.gz",
        Layout::Image,
        Firmware::Bios,
    )
    .await;
}

/// The same root as a tarball, on a storage layout made through the API
/// (a 1 GiB ext4 root, swap, /opt, the rest ext4 at /srv: a GPT; a second
/// disk formatted whole at /data, a third with ext4 at /data/logs and
/// swap): the agent partitions the disks that way (after its boot
/// partition on the boot disk), makes the filesystems, unpacks the root,
/// installs extlinux and systemd-boot and writes fstab; the Debian it
/// installed boots, mounts every filesystem and both swaps and runs
/// cloud-init the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_tarball_is_laid_out_by_the_agent_and_its_cloud_init_reports_in() {
    deploy_debian("10.84.2", "tgz", "root.tgz", Layout::Custom, Firmware::Bios).await;
}

/// The tarball on a UEFI machine (OVMF PXE) with the layout commissioning
/// gave it (MAAS's flat layout for UEFI: a 512 MiB ESP at /boot/efi, the
/// root): the agent's boot partition is that ESP, as big, the firmware
/// boots systemd-boot from it, and the installed OS mounts it at
/// /boot/efi.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_tarball_on_uefi_takes_the_default_layout_and_boots_systemd_boot() {
    deploy_debian(
        "10.84.3",
        "tgz",
        "root.tgz",
        Layout::Default,
        Firmware::UefiPxe,
    )
    .await;
}

/// What the boot disk is laid out by.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// A whole-disk image: its own partitions.
    Image,
    /// `custom_layout`, made through the API.
    Custom,
    /// What commissioning applied (the default flat layout).
    Default,
}

/// The API's layout for the tarball test: blank, then on the boot disk a
/// 1 GiB ext4 root, 64 MiB of swap, 128 MiB ext4 at /opt and the rest ext4
/// at /srv (four partitions beside the agent's boot partition: a GPT). The
/// bytes before /srv's partition, from the root's start.
async fn custom_layout(lab: &Lab, sid: &str) -> u64 {
    let path = format!("machines/{sid}/");
    let (st, e) = lab
        .r
        .admin
        .op(&path, "set_storage_layout", &[("storage_layout", "blank")])
        .await;
    assert_eq!(st, 200, "{e}");
    let m = lab.machine(sid).await;
    let disk = &m["blockdevice_set"][0];
    let dev = format!("nodes/{sid}/blockdevices/{}", disk["id"]);
    let mut before_srv = 0;
    for (size, fstype, mp) in [
        ("1G", "ext4", "/"),
        ("64M", "swap", ""),
        ("128M", "ext4", "/opt"),
        ("", "ext4", "/srv"),
    ] {
        let form: Vec<(&str, &str)> = if size.is_empty() {
            vec![]
        } else {
            vec![("size", size)]
        };
        let (st, p) = lab.r.admin.post(&format!("{dev}/partitions/"), &form).await;
        assert_eq!(st, 200, "{p}");
        if mp != "/srv" {
            before_srv += p["size"].as_u64().unwrap();
        }
        let pu = format!("{dev}/partition/{}", p["id"]);
        let (st, e) = lab.r.admin.op(&pu, "format", &[("fstype", fstype)]).await;
        assert_eq!(st, 200, "format: {e}");
        if !mp.is_empty() {
            let (st, e) = lab.r.admin.op(&pu, "mount", &[("mount_point", mp)]).await;
            assert_eq!(st, 200, "mount: {e}");
        }
    }
    // The data disks, found by the serials qemu gave them.
    let m = lab.machine(sid).await;
    let by_serial = |serial: String| {
        let d = m["blockdevice_set"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["serial"] == serial.as_str())
            .unwrap_or_else(|| panic!("no disk {serial}: {m}"));
        format!("nodes/{sid}/blockdevices/{}/", d["id"])
    };
    let disk2 = by_serial("lab-cloud1-2".into());
    let disk3 = by_serial("lab-cloud1-3".into());
    for (op, form) in [
        ("format", ("fstype", "ext4")),
        ("mount", ("mount_point", "/data")),
    ] {
        let (st, e) = lab.r.admin.op(&disk2, op, &[form]).await;
        assert_eq!(st, 200, "{op} disk 2: {e}");
    }
    for (size, fstype, mp) in [("128M", "ext4", "/data/logs"), ("", "swap", "")] {
        let form: Vec<(&str, &str)> = if size.is_empty() {
            vec![]
        } else {
            vec![("size", size)]
        };
        let (st, p) = lab
            .r
            .admin
            .post(&format!("{disk3}partitions/"), &form)
            .await;
        assert_eq!(st, 200, "{p}");
        let pu = format!("{disk3}partition/{}", p["id"]);
        let (st, e) = lab.r.admin.op(&pu, "format", &[("fstype", fstype)]).await;
        assert_eq!(st, 200, "format: {e}");
        if !mp.is_empty() {
            let (st, e) = lab.r.admin.op(&pu, "mount", &[("mount_point", mp)]).await;
            assert_eq!(st, 200, "mount: {e}");
        }
    }
    before_srv
}

/// Bond the machine's two NICs (active-backup) through the API: the boot
/// NIC's link moves to the bond; a VLAN on the bond with a static address;
/// a gateway on the bond's subnet. The bond's id and the gateway.
async fn bond_nics(lab: &Lab, sid: &str) -> (String, String) {
    let base = format!("nodes/{sid}/interfaces/");
    let (st, list) = lab.r.admin.get(&base, &[]).await;
    assert_eq!(st, 200, "{list}");
    // The boot NIC (with commissioning's link) first.
    let mut nics: Vec<&serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "physical")
        .collect();
    nics.sort_by_key(|i| i["links"].as_array().is_none_or(|l| l.is_empty()));
    assert_eq!(nics.len(), 2, "commissioning found both NICs: {list}");
    let ids: Vec<String> = nics.iter().map(|i| i["id"].to_string()).collect();
    // The second NIC heard no DHCP: the operator puts it on the boot
    // NIC's VLAN (a bond's members share one).
    let vlan = nics[0]["vlan"]["id"].to_string();
    let (st, e) = lab
        .r
        .admin
        .put(&format!("{base}{}/", ids[1]), &[("vlan", &vlan)])
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, b) = lab
        .r
        .admin
        .op(
            &base,
            "create_bond",
            &[
                ("name", "bond0"),
                ("parents", &ids[0]),
                ("parents", &ids[1]),
                ("bond_mode", "active-backup"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["links"][0]["mode"], "auto", "the boot NIC's link: {b}");
    // Its subnet gets a gateway (the default route), and a tagged VLAN on
    // the bond a static address of its own (no traffic: this host's
    // kernel has no 802.1q, so nothing answers on it).
    let subnet = &b["links"][0]["subnet"];
    let gw = subnet["cidr"].as_str().unwrap().replace(".0/24", ".254");
    let (st, e) = lab
        .r
        .admin
        .put(
            &format!("subnets/{}/", subnet["id"]),
            &[("gateway_ip", &gw)],
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let (st, tagged) = lab
        .r
        .admin
        .post(
            &format!("fabrics/{}/vlans/", b["vlan"]["fabric_id"]),
            &[("vid", "100")],
        )
        .await;
    assert_eq!(st, 200, "{tagged}");
    let (st, sub) = lab
        .r
        .admin
        .post(
            "subnets/",
            &[("cidr", VLAN_CIDR), ("vlan", &tagged["id"].to_string())],
        )
        .await;
    assert_eq!(st, 200, "{sub}");
    let (st, v) = lab
        .r
        .admin
        .op(
            &base,
            "create_vlan",
            &[
                ("vlan", &tagged["id"].to_string()),
                ("parent", &b["id"].to_string()),
            ],
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, l) = lab
        .r
        .admin
        .op(
            &format!("{base}{}/", v["id"]),
            "link_subnet",
            &[
                ("mode", "STATIC"),
                ("subnet", &sub["id"].to_string()),
                ("ip_address", VLAN_IP),
            ],
        )
        .await;
    assert_eq!(st, 200, "{l}");
    (b["id"].to_string(), gw)
}

/// The tagged VLAN on the bonded run's bond, and its address there.
const VLAN_CIDR: &str = "10.99.0.0/24";
const VLAN_IP: &str = "10.99.0.7";

/// Deploy the cloud image uploaded as `filetype` from `file` on a new lab
/// machine and check what cloud-init did.
async fn deploy_debian(
    prefix: &str,
    filetype: &str,
    file: &str,
    layout: Layout,
    firmware: Firmware,
) {
    maas_lab::require_tools(&["debootstrap", "debugfs", "e2fsck", "mke2fs"]).unwrap();
    let (eph, tiny) = images();
    let cloud = build("build-cloud-image", Path::new("/var/tmp/maas-images/cloud"));
    let mut lab = lab_with_images(prefix, &eph, &tiny).await;
    upload(
        &lab.r.admin,
        &[
            ("name", "custom/bookworm-cloud"),
            ("title", "Debian 12 with cloud-init"),
            ("architecture", "amd64/generic"),
            ("filetype", filetype),
        ],
        &cloud.join(file),
    )
    .await;
    lab.wait_synced(4).await;

    let octet: u8 = prefix.rsplit('.').next().unwrap().parse().unwrap();
    let n = lab
        .dc
        .add_machine(MachineSpec {
            name: "cloud1".into(),
            mac: format!("52:54:00:84:{octet:02x}:01"),
            cpus: 1,
            memory_mb: 1024,
            disk_mb: if layout == Layout::Image { 1024 } else { 1536 },
            data_disks_mb: if layout == Layout::Custom {
                vec![256, 256]
            } else {
                vec![]
            },
            // The bonded run's second NIC.
            extra_nics: if layout == Layout::Image {
                vec![format!("52:54:00:84:{octet:02x}:02")]
            } else {
                vec![]
            },
            firmware,
        })
        .unwrap();
    let sid = lab.create_with_bmc(n, true).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(240))
        .await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;
    let before_srv = match layout {
        Layout::Custom => custom_layout(&lab, &sid).await,
        _ => 0,
    };
    let bond_id = if layout == Layout::Image {
        Some(bond_nics(&lab, &sid).await)
    } else {
        None
    };
    if layout == Layout::Default {
        // Commissioning laid the disk out for UEFI.
        let m = lab.machine(&sid).await;
        assert_eq!(m["bios_boot_method"], "uefi", "{m}");
        let parts: Vec<(String, String)> = m["blockdevice_set"][0]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let f = &p["filesystem"];
                (f["fstype"].to_string(), f["mount_point"].to_string())
            })
            .collect();
        assert_eq!(
            parts,
            [
                ("\"fat32\"".to_string(), "\"/boot/efi\"".to_string()),
                ("\"ext4\"".to_string(), "\"/\"".to_string())
            ]
        );
    }

    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNsb3VkaW5pdGxhYmtleWNsb3VkaW5pdGxhYmtleSEh cloud@maas";
    let (st, e) = lab
        .r
        .admin
        .post("account/prefs/sshkeys/", &[("key", key)])
        .await;
    assert_eq!(st, 200, "{e}");
    let nonce = format!("proof-{filetype}-{}", std::process::id());
    let user_data = format!(
        "#cloud-config\nwrite_files:\n  - path: /root/maas-proof\n    content: {nonce}\nruncmd:\n  - [sh, -c, 'echo ran-{nonce} > /root/maas-runcmd']\n  - [sh, -c, 'mkdir -p /srv && echo {nonce} > /srv/maas-srv && swapon --show=NAME --noheadings > /srv/maas-swap']\n  - [sh, -c, 'if [ -d /data/logs ]; then echo {nonce} > /data/maas-data; echo {nonce} > /data/logs/maas-logs; fi']\n  - [sh, -c, 'grep \" /boot/efi \" /proc/mounts > /root/maas-esp || true']\n  - [sh, -c, 'if [ -e /proc/net/bonding/bond0 ]; then cat /proc/net/bonding/bond0 > /root/maas-bond; ip -o -4 addr show dev bond0 > /root/maas-bond-ip; ip -4 route show default > /root/maas-route; ip -d -o link show dev bond0.100 > /root/maas-vlan; ip -o -4 addr show dev bond0.100 >> /root/maas-vlan; fi']\npower_state:\n  mode: poweroff\n  message: cloud-init is done\n"
    );
    let ud64 = base64::engine::general_purpose::STANDARD.encode(&user_data);
    let t0 = Instant::now();
    lab.act(
        &sid,
        "deploy",
        &[
            ("osystem", "custom"),
            ("distro_series", "bookworm-cloud"),
            ("user_data", &ud64),
        ],
    )
    .await;
    // Deployed: the installed OS's cloud-init read its user-data.
    lab.wait_status(n, &sid, "Deployed", Duration::from_secs(600))
        .await;
    let deployed_s = t0.elapsed();

    // cloud-init reports each stage; the last one is modules-final.
    let limit = Duration::from_secs(420);
    let t1 = Instant::now();
    let evs = loop {
        let evs = events(&lab, &sid).await;
        if evs.iter().any(|(_, t, _)| t == "finish modules-final") {
            break evs;
        }
        assert!(
            t1.elapsed() < limit,
            "cloud-init did not report modules-final in {limit:?}; events: {evs:#?}\n{}",
            lab.report(n)
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let final_s = t0.elapsed();
    // (init-local runs before the network is up: its reports cannot reach
    // the region, as under MAAS.)
    for stage in ["init-network", "modules-config"] {
        assert!(
            evs.iter().any(|(_, t, _)| t == &format!("finish {stage}")),
            "no finished {stage} among {evs:#?}"
        );
    }
    let failed: Vec<_> = evs.iter().filter(|(l, _, _)| l == "ERROR").collect();
    assert!(
        failed.is_empty(),
        "cloud-init reported failures: {failed:#?}"
    );
    let m = lab.machine(&sid).await;
    assert_eq!(m["status_name"], "Deployed", "{m}");

    // The user_data's power_state shuts the OS down once cloud-init is
    // done (a clean shutdown: what cloud-init wrote is on disk, where a
    // BMC power-off could lose the last 30 s of delayed writes).
    lab.wait_powered_off(n, Duration::from_secs(180)).await;
    // (On UEFI the root follows the region's 512 MiB ESP, which the agent
    // made its boot partition.)
    let root = if layout == Layout::Default {
        fs_at(&lab.dc.machines[n].disk(), UEFI_ROOT_OFFSET, "root")
    } else {
        root_fs(&lab.dc.machines[n].disk())
    };
    let f = |p: &str| read_root_file(&root, p);
    // (debugfs follows no symlink inside a path: instance/ is one.)
    let inst = format!("/var/lib/cloud/instances/{sid}");
    let ds = f(&format!("{inst}/datasource")).unwrap_or_default();
    assert!(
        ds.contains("DataSourceMAAS"),
        "datasource: {ds:?}; the root has {}",
        listing(
            &root,
            &["/var/lib/cloud", &inst, "/var/lib/cloud/instances"]
        )
    );
    assert_eq!(
        f("/var/lib/cloud/data/instance-id").map(|s| s.trim().to_string()),
        Some(sid.clone())
    );
    assert_eq!(
        f(&format!("{inst}/user-data.txt")).as_deref(),
        Some(user_data.as_str())
    );
    let keys = f("/home/debian/.ssh/authorized_keys").unwrap_or_default();
    assert!(keys.contains(key), "authorized_keys: {keys:?}");
    assert_eq!(
        f("/root/maas-proof").as_deref().map(str::trim),
        Some(nonce.as_str())
    );
    assert_eq!(
        f("/root/maas-runcmd").as_deref().map(str::trim),
        Some(format!("ran-{nonce}").as_str())
    );
    let hostname = m["hostname"].as_str().unwrap();
    assert_eq!(f("/etc/hostname").as_deref().map(str::trim), Some(hostname));
    if layout == Layout::Default {
        // The region's table, a GPT, which OVMF boots from. The boot
        // partition is the ESP, in fstab at /boot/efi by its GUID, and the
        // booted OS mounted it there.
        let esp_guid = gpt_part_guid(&lab.dc.machines[n].disk(), 1);
        let fstab = f("/etc/fstab").unwrap_or_default();
        let line = format!("PARTUUID={esp_guid} /boot/efi vfat defaults 0 2");
        assert!(fstab.contains(&line), "{line} not in\n{fstab}");
        let esp = f("/root/maas-esp").unwrap_or_default();
        assert!(esp.starts_with("/dev/vda1 /boot/efi vfat "), "{esp:?}");
    }
    if layout == Layout::Custom {
        // fstab names the partitions by their GPT GUIDs; the booted OS
        // mounted /srv (runcmd's file is on partition 5, after the root,
        // swap and /opt) and turned the swap on.
        // The GUIDs are the ones this deployment wrote, not a constant.
        let fstab = f("/etc/fstab").unwrap_or_default();
        let disk = lab.dc.machines[n].disk();
        let guid = |p: u64| gpt_part_guid(&disk, p);
        assert_ne!(guid(3), "5341414d-0000-4000-8000-000000000003");
        for line in [
            format!("PARTUUID={} none swap sw 0 0", guid(3)),
            format!("PARTUUID={} /opt ext4 defaults 0 2", guid(4)),
            format!("PARTUUID={} /srv ext4 defaults 0 2", guid(5)),
        ] {
            assert!(fstab.contains(&line), "{line} not in\n{fstab}");
        }
        let srv = fs_at(&lab.dc.machines[n].disk(), ROOT_OFFSET + before_srv, "srv");
        let mut swaps: Vec<String> = read_root_file(&srv, "/maas-swap")
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_string())
            .collect();
        swaps.sort();
        assert_eq!(swaps, ["/dev/vda3", "/dev/vdc2"], "both swaps are in use");
        assert_eq!(
            read_root_file(&srv, "/maas-srv").as_deref().map(str::trim),
            Some(nonce.as_str()),
            "/srv: {}",
            listing(&srv, &["/"])
        );
        assert_eq!(f("/srv/maas-srv"), None, "written under the mount point");
        // The data disks: the whole of disk 2 is /data, named by the UUID
        // blkid reads on it; disk 3's first partition (a GPT, as the region
        // asked) is /data/logs, mounted on top of /data.
        let m = &lab.dc.machines[n];
        let uuid = blkid_uuid(&m.data_disk(2));
        assert_eq!(uuid.len(), 36, "disk 2 has a filesystem UUID: {uuid:?}");
        let logs_guid = gpt_part_guid(&m.data_disk(3), 1);
        for line in [
            format!("UUID={uuid} /data ext4 defaults 0 2"),
            format!("PARTUUID={logs_guid} /data/logs ext4 defaults 0 2"),
            format!(
                "PARTUUID={} none swap sw 0 0",
                gpt_part_guid(&m.data_disk(3), 2)
            ),
        ] {
            assert!(fstab.contains(&line), "{line} not in\n{fstab}");
        }
        let data = fs_at(&m.data_disk(2), 0, "data");
        assert_eq!(
            read_root_file(&data, "/maas-data")
                .as_deref()
                .map(str::trim),
            Some(nonce.as_str()),
            "/data: {}",
            listing(&data, &["/"])
        );
        let logs = fs_at(&m.data_disk(3), 1 << 20, "logs");
        assert_eq!(
            read_root_file(&logs, "/maas-logs")
                .as_deref()
                .map(str::trim),
            Some(nonce.as_str()),
            "/data/logs: {}",
            listing(&logs, &["/"])
        );
        assert_eq!(
            read_root_file(&data, "/logs/maas-logs"),
            None,
            "under the mount"
        );
    }
    if let Some((id, gw)) = &bond_id {
        // The installed OS made the bond of both NICs from the agent's
        // netplan and holds the address the deployment claimed on it.
        let (st, b) = lab
            .r
            .admin
            .get(&format!("nodes/{sid}/interfaces/{id}/"), &[])
            .await;
        assert_eq!(st, 200, "{b}");
        let ip = b["links"][0]["ip_address"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!ip.is_empty(), "an address on the bond: {b}");
        let bond = f("/root/maas-bond").unwrap_or_default();
        assert!(
            bond.contains("Bonding Mode: fault-tolerance (active-backup)"),
            "{bond:?}"
        );
        for nic in ["eth0", "eth1"] {
            assert!(
                bond.contains(&format!("Slave Interface: {nic}")),
                "{nic}: {bond:?}"
            );
        }
        let addr = f("/root/maas-bond-ip").unwrap_or_default();
        assert!(addr.contains(&format!(" {ip}/")), "{ip} on bond0: {addr:?}");
        // The default route through the subnet's gateway, on the bond.
        let route = f("/root/maas-route").unwrap_or_default();
        assert!(
            route.contains(&format!("default via {gw} dev bond0")),
            "{route:?}"
        );
        // The tagged VLAN on the bond with its own address.
        let vlan = f("/root/maas-vlan").unwrap_or_default();
        assert!(vlan.contains("bond0.100@bond0"), "{vlan:?}");
        assert!(vlan.contains("vlan protocol 802.1Q id 100"), "{vlan:?}");
        assert!(vlan.contains(&format!(" {VLAN_IP}/24")), "{vlan:?}");
    }
    let result = f("/var/lib/cloud/data/result.json").unwrap_or_default();
    let result: serde_json::Value = serde_json::from_str(&result).unwrap_or_default();
    assert_eq!(
        result["v1"]["errors"],
        serde_json::json!([]),
        "cloud-init's result: {result}"
    );
    eprintln!(
        "RESULT cloud_init_{filetype}_deployed_s={:.1} cloud_init_{filetype}_final_s={:.1}",
        deployed_s.as_secs_f64(),
        final_s.as_secs_f64()
    );
    lab.dc.machines.clear();
    lab.r.stop().await;
}
