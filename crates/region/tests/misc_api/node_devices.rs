//! `nodes/{system_id}/devices/`: the PCI and USB devices commissioning
//! reports, their hardware types and links, MAAS's filters and ids, what a
//! second commissioning keeps, bad inventories refused with nothing
//! written, and who may delete.

use maas_testkit as common;

use common::{TestRegion, node_api, signal};
use serde_json::{Value, json};

const MAC: &str = "52:54:00:0d:e0:01";

/// The inventory of a qemu-like machine; `gpu_product` is the display
/// controller's product id at 0000:00:02.0.
fn inventory(gpu_product: &str) -> Value {
    json!({
        "cpu_count": 2, "memory": 2048,
        "nics": [{"name": "ens3", "mac": MAC, "link": true, "pci_address": "0000:00:03.0"}],
        "disks": [{"name": "vda", "size": 8_000_000_000u64, "pci_address": "0000:00:04.0"}],
        "pci_devices": [
            {"pci_address": "0000:00:02.0", "vendor_id": "1234", "product_id": gpu_product,
             "vendor": "", "product": "", "driver": "", "numa_node": 0, "class": "030000"},
            {"pci_address": "0000:00:03.0", "vendor_id": "1AF4", "product_id": "1000",
             "vendor": "Red Hat, Inc.", "product": "Virtio network device",
             "driver": "virtio-pci", "numa_node": -1, "class": "020000"},
            {"pci_address": "0000:00:04.0", "vendor_id": "1af4", "product_id": "1001",
             "vendor": "Red Hat, Inc.", "product": "Virtio block device",
             "driver": "virtio-pci", "numa_node": 0, "class": "010000"},
            {"pci_address": "0000:00:05.0", "vendor_id": "1b36", "product_id": "000d",
             "vendor": "Red Hat, Inc.", "product": "QEMU XHCI Host Controller",
             "driver": "xhci_hcd", "numa_node": 0, "class": "0c0330"}
        ],
        "usb_devices": [
            {"bus_address": 1, "device_address": 1, "vendor_id": "1d6b", "product_id": "0003",
             "vendor": "Linux Foundation", "product": "3.0 root hub", "drivers": ["hub"]},
            {"bus_address": 1, "device_address": 2, "vendor_id": "0627", "product_id": "0001",
             "vendor": "Adomax Technology Co., Ltd", "product": "QEMU USB Tablet",
             "drivers": ["usbhid"]}
        ]
    })
}

async fn start_commissioning(r: &TestRegion, sid: &str) {
    let (st, e) = r
        .admin
        .op(&format!("machines/{sid}/"), "commission", &[])
        .await;
    assert_eq!(st, 200, "{e}");
}

async fn report(r: &TestRegion, sid: &str, inv: &Value) -> (u16, Value) {
    let node = node_api(r, sid).await;
    signal(
        &node,
        &[("status", "OK")],
        Some(("hardware.json", inv.to_string().into_bytes())),
    )
    .await
}

async fn devices(r: &TestRegion, sid: &str, q: &[(&str, &str)]) -> (u16, Value) {
    r.admin.get(&format!("nodes/{sid}/devices/"), q).await
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

fn at<'a>(list: &'a Value, pci: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["pci_address"] == pci)
        .unwrap_or_else(|| panic!("no device at {pci}: {list}"))
}

#[tokio::test]
async fn commissioning_reports_pci_and_usb_devices_as_maas_shows_them() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("devices", 2, 2048).await;
    let (st, none) = devices(&r, &sid, &[]).await;
    assert_eq!((st, none), (200, json!([])));

    start_commissioning(&r, &sid).await;
    let (st, b) = report(&r, &sid, &inventory("1111")).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(r.status_of(&sid).await, 4);

    let (st, all) = devices(&r, &sid, &[]).await;
    assert_eq!(st, 200, "{all}");
    assert_eq!(all.as_array().unwrap().len(), 6, "{all}");
    let net = at(&all, "0000:00:03.0");
    assert_eq!(net["bus"], 1);
    assert_eq!(net["bus_name"], "PCIE");
    assert_eq!(net["hardware_type"], 4);
    assert_eq!(net["hardware_type_name"], "Network");
    assert_eq!(net["vendor_id"], "1af4", "ids are kept lower-case");
    assert_eq!(net["product_name"], "Virtio network device");
    assert_eq!(net["commissioning_driver"], "virtio-pci");
    assert_eq!(
        (net["bus_number"].as_i64(), net["device_number"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(net["numa_node"], 0);
    assert_eq!(net["system_id"], sid.as_str());
    assert_eq!(net["physical_interface"]["mac_address"], MAC);
    assert_eq!(net["physical_interface"]["name"], "ens3");
    assert!(net["physical_blockdevice"].is_null());
    let net_id = net["id"].as_i64().unwrap();
    assert_eq!(
        net["resource_uri"],
        format!("/MAAS/api/2.0/nodes/{sid}/devices/{net_id}/")
    );
    let disk = at(&all, "0000:00:04.0");
    assert_eq!(disk["hardware_type_name"], "Storage");
    assert_eq!(disk["physical_blockdevice"]["name"], "vda");
    assert_eq!(at(&all, "0000:00:02.0")["hardware_type_name"], "GPU");
    assert_eq!(at(&all, "0000:00:05.0")["hardware_type_name"], "Node");
    let tablet = all
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_number"] == 2 && d["bus"] == 2)
        .unwrap();
    assert_eq!(tablet["bus_name"], "USB");
    assert!(tablet["pci_address"].is_null());
    assert_eq!(tablet["commissioning_driver"], "usbhid");
    assert_eq!(tablet["product_name"], "QEMU USB Tablet");

    // MAAS's filters.
    let count = |v: &Value| v.as_array().map(Vec::len);
    for (q, n) in [
        (("bus", "usb"), 2),
        (("bus", "1"), 4),
        (("hardware_type", "gpu"), 1),
        (("hardware_type", "4"), 1),
        (("vendor_id", "1AF4"), 2),
        (("product_name", "qemu usb tablet"), 1),
        (("commissioning_driver", "virtio-pci"), 2),
    ] {
        let (st, got) = devices(&r, &sid, &[q]).await;
        assert_eq!((st, count(&got)), (200, Some(n)), "{q:?}: {got}");
    }
    for q in [("bus", "pci"), ("bus", "7"), ("hardware_type", "toaster")] {
        let (st, e) = devices(&r, &sid, &[q]).await;
        assert_eq!(st, 400, "{q:?}: {e}");
    }

    // One device, by id, PCI address or bus:device.
    let one = |id: String| {
        let r = &r;
        let sid = &sid;
        async move {
            r.admin
                .get(&format!("nodes/{sid}/devices/{id}/"), &[])
                .await
        }
    };
    let (st, d) = one(net_id.to_string()).await;
    assert_eq!((st, &d), (200, net));
    let (_, d) = one("0000:00:03.0".into()).await;
    assert_eq!(d["id"], net_id);
    let (_, d) = one("1:2".into()).await;
    assert_eq!(d["id"], tablet["id"]);
    assert_eq!(one("a:b".into()).await.0, 400);
    assert_eq!(one("0000:00:09.0".into()).await.0, 404);
    assert_eq!(one("999999".into()).await.0, 404);
    let (st, _) = r.admin.get("nodes/nope/devices/", &[]).await;
    assert_eq!(st, 404);

    // A bad inventory is refused whole: the devices stay as they were.
    start_commissioning(&r, &sid).await;
    let mut bad = inventory("2222");
    bad["usb_devices"][1]["vendor_id"] = json!("06z7");
    let (st, e) = report(&r, &sid, &bad).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["usb_devices.vendor_id"].is_array(), "{e}");
    let (_, still) = devices(&r, &sid, &[]).await;
    assert_eq!(still, all);

    // Commissioning again: what is still there keeps its id; a different
    // card at the GPU's address is a new device.
    let (st, b) = report(&r, &sid, &inventory("2222")).await;
    assert_eq!(st, 200, "{b}");
    let (_, again) = devices(&r, &sid, &[]).await;
    assert_eq!(at(&again, "0000:00:03.0")["id"], net_id);
    let old_gpu = at(&all, "0000:00:02.0")["id"].as_i64().unwrap();
    let new_gpu = at(&again, "0000:00:02.0");
    assert_eq!(new_gpu["product_id"], "2222");
    assert!(!ids(&all).contains(&new_gpu["id"].as_i64().unwrap()));
    assert!(!ids(&again).contains(&old_gpu));
    // The disks were replaced; the link follows the new one.
    assert_eq!(
        at(&again, "0000:00:04.0")["physical_blockdevice"]["name"],
        "vda"
    );

    // Users read; only admins delete.
    let (st, _) = r.alice.get(&format!("nodes/{sid}/devices/"), &[]).await;
    assert_eq!(st, 200);
    let path = format!("nodes/{sid}/devices/{net_id}/");
    assert_eq!(r.alice.delete(&path).await.0, 403);
    assert_eq!(r.admin.delete(&path).await.0, 204);
    assert_eq!(r.admin.get(&path, &[]).await.0, 404);
    assert_eq!(r.admin.delete(&path).await.0, 404);
    let (_, left) = devices(&r, &sid, &[]).await;
    assert_eq!(left.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn numa_nodes_from_commissioning_replace_the_default_node() {
    let r = TestRegion::start().await;
    let sid = r.ready_machine("numa", 4, 8192).await;
    let numa = || async {
        let (_, m) = r.admin.get(&format!("machines/{sid}/"), &[]).await;
        m["numanode_set"].clone()
    };
    assert_eq!(
        numa().await,
        json!([{"index": 0, "memory": 8192, "cores": [0, 1, 2, 3], "hugepages_set": []}]),
        "MAAS's default node before commissioning says otherwise"
    );
    start_commissioning(&r, &sid).await;
    let inv = json!({"cpu_count": 4, "memory": 8192, "numa_nodes": [
        {"index": 1, "memory": 4000, "cores": [2, 3]},
        {"index": 0, "memory": 3900, "cores": [0, 1]}
    ]});
    let (st, b) = report(&r, &sid, &inv).await;
    assert_eq!(st, 200, "{b}");
    let two = json!([
        {"index": 0, "memory": 3900, "cores": [0, 1], "hugepages_set": []},
        {"index": 1, "memory": 4000, "cores": [2, 3], "hugepages_set": []}
    ]);
    assert_eq!(numa().await, two);
    // An inventory without nodes keeps them; bad nodes are refused whole.
    start_commissioning(&r, &sid).await;
    let bad = json!({"cpu_count": 8, "numa_nodes": [{"index": 0, "memory": 1, "cores": [-1]}]});
    let (st, e) = report(&r, &sid, &bad).await;
    assert_eq!(st, 400, "{e}");
    assert!(e["numa_nodes.cores"].is_array(), "{e}");
    let (st, b) = report(&r, &sid, &json!({"cpu_count": 4})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(numa().await, two);
}
