//! A machine's own fields from its configuration form, read and checked as
//! `PUT machines/<id>/` reads them: a hostname with its domain, the
//! architecture and hardware figures; every bad field refused at once with
//! the API's message, nothing written.

use super::*;

#[tokio::test]
async fn a_machines_domain_architecture_and_hardware_are_edited() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let m = r.ready_machine("fields", 2, 2048).await;
    let (st, d) = r.admin.post("domains/", &[("name", "newdom")]).await;
    assert_eq!(st, 200, "{d}");
    let edit = format!("/machine/{m}/edit");
    let (_, page) = get(&r, &admin.0, &format!("/machine/{m}")).await;
    for f in [
        "domain",
        "architecture",
        "cpu_count",
        "memory",
        "swap_size",
        "min_hwe_kernel",
    ] {
        assert!(page.contains(&format!("name=\"{f}\"")), "{f}");
    }

    let bad = [
        ("hostname", "fields"),
        ("architecture", "x86 64"),
        ("cpu_count", "-1"),
        ("memory", "lots"),
    ];
    let (st, page, _) = post(&r, &admin, &edit, &bad).await;
    assert_eq!(st, 400);
    let (st, e) = r.admin.put(&format!("machines/{m}/"), &bad).await;
    assert_eq!(st, 400);
    for f in ["architecture", "cpu_count", "memory"] {
        assert_eq!(
            field_error(&page, f).as_deref(),
            e[f][0].as_str(),
            "{f}: {page}"
        );
    }
    let (_, before) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(before["cpu_count"], 2);

    let good = [
        ("hostname", "web1.newdom"),
        ("architecture", "arm64"),
        ("cpu_count", "16"),
        ("memory", "32768"),
        ("description", "rack 4"),
    ];
    let (st, page, _) = post(&r, &admin, &edit, &good).await;
    assert_eq!(st, 303, "{page}");
    let (_, now) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(now["hostname"], "web1");
    assert_eq!(now["domain"]["name"], "newdom");
    assert_eq!(now["fqdn"], "web1.newdom");
    assert_eq!(now["architecture"], "arm64/generic");
    assert_eq!(
        (now["cpu_count"].as_i64(), now["memory"].as_i64()),
        (Some(16), Some(32768))
    );
    assert_eq!(now["description"], "rack 4");
    // The domain select moves it back.
    let back = [("hostname", "web1"), ("domain", "maas")];
    let (st, _, _) = post(&r, &admin, &edit, &back).await;
    assert_eq!(st, 303);
    let (_, now) = r.admin.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(now["fqdn"], "web1.maas");
}

#[tokio::test]
async fn the_owner_sets_and_removes_workload_annotations() {
    let r = TestRegion::start().await;
    let m = r.ready_machine("annotated", 2, 2048).await;
    let (st, e) = r
        .alice
        .op("machines/", "allocate", &[("system_id", &m)])
        .await;
    assert_eq!(st, 200, "{e}");
    let alice = sign_in(&r, "alice").await;
    let path = format!("/machine/{m}/annotations");
    let (st, page, _) = post(&r, &alice, &path, &[("key", ""), ("value", "x")]).await;
    assert_eq!(st, 400);
    assert_eq!(
        field_error(&page, "note_key").unwrap(),
        "This field is required."
    );
    let (st, _, to) = post(&r, &alice, &path, &[("key", "app"), ("value", "web")]).await;
    assert_eq!((st, to), (303, format!("/MAAS/r/machine/{m}#annotations")));
    let (_, mj) = r.alice.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(
        mj["workload_annotations"],
        serde_json::json!({"app": "web"})
    );
    let (_, page) = get(&r, &alice.0, &format!("/machine/{m}")).await;
    assert!(page.contains("<td>app</td><td>web</td>"), "{page}");
    // Someone else's machine: refused.
    r.user("bob", false).await;
    let bob = sign_in(&r, "bob").await;
    let (st, _, _) = post(&r, &bob, &path, &[("key", "app"), ("value", "db")]).await;
    assert_eq!(st, 403);
    // An empty value removes the key.
    let (st, _, _) = post(&r, &alice, &path, &[("key", "app"), ("value", "")]).await;
    assert_eq!(st, 303);
    let (_, mj) = r.alice.get(&format!("machines/{m}/"), &[]).await;
    assert_eq!(mj["workload_annotations"], serde_json::json!({}));
}

#[tokio::test]
async fn the_machine_page_lists_its_pci_and_usb_devices() {
    let r = TestRegion::start().await;
    let admin = sign_in(&r, "admin").await;
    let m = r.ready_machine("devs", 2, 2048).await;
    let (_, page) = get(&r, &admin.0, &format!("/machine/{m}")).await;
    assert!(page.contains("id=\"devices\""), "{page}");
    assert!(page.contains("None known"), "no commissioning yet");

    let (st, e) = r
        .admin
        .op(&format!("machines/{m}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{e}");
    let inv = r#"{"nics": [{"name": "ens3", "mac": "52:54:00:0d:e0:02", "pci_address": "0000:00:03.0"}],
        "pci_devices": [{"pci_address": "0000:00:03.0", "vendor_id": "1af4", "product_id": "1000",
            "vendor": "Red Hat, Inc.", "product": "Virtio <network> device", "driver": "virtio-pci"}],
        "usb_devices": [{"bus_address": 1, "device_address": 2, "vendor_id": "0627",
            "product_id": "0001", "product": "QEMU USB Tablet", "drivers": ["usbhid"]}]}"#;
    let node = common::node_api(&r, &m).await;
    let (st, b) = common::signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.into())),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (_, page) = get(&r, &admin.0, &format!("/machine/{m}")).await;
    let section = &page[page.find("id=\"devices\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    for want in [
        "<td>PCIE</td><td>0000:00:03.0</td><td>Network</td>",
        "Red Hat, Inc. (1af4)",
        "Virtio &#60;network&#62; device (1000)",
        "<td>virtio-pci</td><td>ens3</td>",
        "<td>USB</td><td>1:2</td><td>Node</td><td>0627</td>",
        "QEMU USB Tablet (0001)",
    ] {
        assert!(section.contains(want), "{want}: {section}");
    }
}
