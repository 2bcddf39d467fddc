//! The default layout a commissioned machine gets (MAAS's
//! `default_storage_layout`), and when it gets none.

use super::*;
use common::{node_api, signal};

/// Commission `sid` with one disk of `size` bytes, with the form's options;
/// Ready after.
async fn commission(r: &TestRegion, sid: &str, size: i64, opts: &[(&str, &str)]) {
    commission_as(r, sid, size, opts, "").await;
}

/// The same, the inventory also saying `extra` (`, "key": value`).
async fn commission_as(r: &TestRegion, sid: &str, size: i64, opts: &[(&str, &str)], extra: &str) {
    let (st, e) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", opts)
        .await;
    assert_eq!(st, 200, "{e}");
    let node = node_api(r, sid).await;
    let inv = format!(
        r#"{{"cpu_count": 2, "memory": 2048, "disks": [{{"name": "vda", "size": {size}}}]{extra}}}"#
    );
    let (st, b) = signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.into_bytes())),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(r.status_of(sid).await, 4);
}

/// The boot disk's partitions: (size, fstype, mount point).
async fn layout(r: &TestRegion, sid: &str) -> Vec<(i64, String, String)> {
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    m["blockdevice_set"][0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let f = &p["filesystem"];
            (
                p["size"].as_i64().unwrap(),
                f["fstype"].as_str().unwrap_or("").to_string(),
                f["mount_point"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn last_storage_event(r: &TestRegion, sid: &str) -> String {
    let (_, ev) = r.admin.get_op("events/", "query", &[("id", sid)]).await;
    ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "Configuring storage")
        .map(|e| e["description"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commissioning_lays_out_the_new_disks_with_the_default_layout() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("laid", 2, 2048).await;
    let mu = format!("machines/{sid}/");

    // Flat by default: one ext4 root over the boot disk.
    commission(&r, &sid, 20 * GB, &[]).await;
    let got = layout(&r, &sid).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].1.as_str(), got[0].2.as_str()), ("ext4", "/"));
    assert!(got[0].0 > 19 * GB, "{got:?}");
    assert_eq!(
        last_storage_event(&r, &sid).await,
        "Applied the default flat storage layout."
    );

    // skip_storage keeps the disks and what was made on them.
    assert_eq!(
        r.admin
            .op(&mu, "set_storage_layout", &[("storage_layout", "blank")])
            .await
            .0,
        200
    );
    commission(&r, &sid, 20 * GB, &[("skip_storage", "1")]).await;
    assert!(layout(&r, &sid).await.is_empty());

    // The setting decides: blank leaves the disks empty.
    let set = |v: &'static str| {
        let admin = &r.admin;
        async move {
            let (st, e) = admin
                .op(
                    "maas/",
                    "set_config",
                    &[("name", "default_storage_layout"), ("value", v)],
                )
                .await;
            assert_eq!(st, 200, "{e}");
        }
    };
    set("flat").await;
    commission(&r, &sid, 20 * GB, &[]).await;
    assert_eq!(layout(&r, &sid).await.len(), 1);
    set("blank").await;
    commission(&r, &sid, 20 * GB, &[]).await;
    assert!(layout(&r, &sid).await.is_empty());
    assert_eq!(
        last_storage_event(&r, &sid).await,
        "Applied the default blank storage layout."
    );

    // A layout this region cannot make: none, and the event says why
    // (commissioning still succeeds).
    set("lvm").await;
    commission(&r, &sid, 20 * GB, &[]).await;
    assert!(layout(&r, &sid).await.is_empty());
    let e = last_storage_event(&r, &sid).await;
    assert!(e.contains("lvm") && e.contains("not supported"), "{e}");

    // A disk too small for it: refused without a half-made layout.
    set("flat").await;
    commission(&r, &sid, 2 * MIB, &[]).await;
    assert!(layout(&r, &sid).await.is_empty());
    let e = last_storage_event(&r, &sid).await;
    assert!(
        e.starts_with("Cannot apply the default flat storage layout: "),
        "{e}"
    );
    assert_eq!(storage_rows(&r).await, (0, 0, 0), "nothing half-written");
    // Back to a disk that takes it.
    commission(&r, &sid, 20 * GB, &[]).await;
    assert_eq!(layout(&r, &sid).await.len(), 1);
}

/// A UEFI machine (the agent reports `boot_method: uefi`, stored as
/// `bios_boot_method`) gets MAAS's flat layout for UEFI: an EFI system
/// partition at /boot/efi, then the root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uefi_machine_gets_an_efi_system_partition() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("efi", 2, 2048).await;
    commission_as(&r, &sid, 20 * GB, &[], r#", "boot_method": "uefi""#).await;
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["bios_boot_method"], "uefi");
    let got = layout(&r, &sid).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        (got[0].1.as_str(), got[0].2.as_str()),
        ("fat32", "/boot/efi")
    );
    assert_eq!(got[0].0, 512 * MIB);
    assert_eq!((got[1].1.as_str(), got[1].2.as_str()), ("ext4", "/"));
    // BIOS again: no ESP.
    commission_as(&r, &sid, 20 * GB, &[], r#", "boot_method": "pxe""#).await;
    assert_eq!(layout(&r, &sid).await.len(), 1);
    // An unknown method is the inventory's error; nothing changes.
    let (st, _) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200);
    let node = node_api(&r, &sid).await;
    let inv = r#"{"disks": [{"name": "vda", "size": 1000000000}], "boot_method": "floppy"}"#;
    let (st, e) = signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.into())),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert!(
        e["boot_method"][0].as_str().unwrap().contains("floppy"),
        "{e}"
    );
    let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
    assert_eq!(m["bios_boot_method"], "pxe");
    assert_eq!(layout(&r, &sid).await.len(), 1);
}

/// `hardware_info` as MAAS shows it: eighteen keys, "Unknown" until
/// commissioning brings the DMI strings and the CPU model, which take
/// MAAS's names (`sys_vendor` → `system_vendor`, chassis type 1 →
/// "Other"). A DMI value that is not text is the inventory's 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardware_info_shows_the_dmi_strings_under_maas_names() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("dmi", 2, 2048).await;
    let info = || async {
        let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
        m["hardware_info"].as_object().unwrap().clone()
    };
    let before = info().await;
    assert_eq!(before.len(), 18, "{before:?}");
    assert!(before.values().all(|v| v == "Unknown"), "{before:?}");
    let dmi = r#", "cpu_model": "QEMU Virtual CPU version 2.5+", "dmi": {"sys_vendor": "QEMU",
        "product_name": "Standard PC (i440FX + PIIX, 1996)", "chassis_type": "1",
        "bios_vendor": "SeaBIOS", "bios_date": "04/01/2014", "board_name": ""}"#;
    commission_as(&r, &sid, 20 * GB, &[], dmi).await;
    let hw = info().await;
    assert_eq!(hw.len(), 18, "{hw:?}");
    for (k, v) in [
        ("system_vendor", "QEMU"),
        ("system_product", "Standard PC (i440FX + PIIX, 1996)"),
        ("chassis_type", "Other"),
        ("mainboard_firmware_vendor", "SeaBIOS"),
        ("mainboard_firmware_date", "04/01/2014"),
        ("cpu_model", "QEMU Virtual CPU version 2.5+"),
        ("mainboard_product", "Unknown"),
        ("system_serial", "Unknown"),
    ] {
        assert_eq!(hw[k], v, "{k}: {hw:?}");
    }
    // Not text: refused, and what was there stays.
    let (st, _) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200);
    let node = node_api(&r, &sid).await;
    let inv = r#"{"cpu_count": 2, "dmi": {"sys_vendor": 7}}"#;
    let (st, e) = signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.into())),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert!(e["dmi.sys_vendor"].is_array(), "{e}");
    assert_eq!(info().await, hw);
}
