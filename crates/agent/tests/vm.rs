//! The built ephemeral environment booted directly in qemu (TCG, 2 vCPUs,
//! 768 MiB, a 1 GiB virtio disk) commissions a real machine: the region,
//! forwarded into the lab namespace, ends with the machine Ready and the
//! VM's CPUs, memory, disk and NIC in its inventory.

mod common;

use std::time::{Duration, Instant};

use maas_lab::{DirectSpec, Link, Proc, can_make_namespaces, which};
use maas_testkit::{TestRegion, tempdir};
use serde_json::Value;

const MAC: &str = "52:54:00:5a:00:01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_environment_commissions_a_vm() {
    if !can_make_namespaces() {
        eprintln!("SKIP: needs root and iproute2 for network namespaces");
        return;
    }
    for tool in ["qemu-system-x86_64", "dnsmasq"] {
        assert!(which(tool).is_some(), "{tool} is missing (.ci/packages)");
    }
    let tmp = tempdir::Dir::new();
    let images = tmp.0.join("ephemeral");
    common::build("build-ephemeral", &images, &[]);

    let r = TestRegion::start().await;
    let (st, m) = r
        .admin
        .post(
            "machines/",
            &[
                ("architecture", "amd64/generic"),
                ("mac_addresses", MAC),
                ("hostname", "vm1"),
                ("power_type", "manual"),
                ("commission", "false"),
            ],
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let sid = m["system_id"].as_str().unwrap().to_string();
    let path = format!("machines/{sid}/");
    let (st, b) = r.admin.op(&path, "commission", &[]).await;
    assert_eq!(st, 200, "{b}");
    let (st, t) = r.admin.get_op(&path, "get_token", &[]).await;
    assert_eq!(st, 200, "{t}");
    let creds = format!(
        "{}:{}:{}",
        t["consumer_key"].as_str().unwrap(),
        t["token_key"].as_str().unwrap(),
        t["token_secret"].as_str().unwrap()
    );

    // srv: DHCP and the region's port; cli: a bridge with the VM's tap.
    let p = "10.81.1";
    let l = Link::new(p).unwrap();
    let region: std::net::SocketAddr = r
        .url()
        .trim_start_matches("http://")
        .trim_end_matches("/MAAS")
        .parse()
        .unwrap();
    let _fwd = l
        .srv
        .forward_tcp(format!("{p}.1:5248").parse().unwrap(), region)
        .unwrap();
    let mut dnsmasq = l.srv.cmd("dnsmasq");
    dnsmasq
        .args(["-k", "-C", "/dev/null", "--port=0", "--interface=eth0"])
        .args(["--bind-interfaces", "--no-ping", "--dhcp-authoritative"])
        .arg(format!("--dhcp-range={p}.100,{p}.199,255.255.255.0,10m"))
        .arg(format!(
            "--dhcp-leasefile={}",
            tmp.0.join("leases").display()
        ))
        .arg("--user=root")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _dhcp = Proc::spawn(dnsmasq).unwrap();
    l.cli.bridge("br0").unwrap();
    l.cli.ip(&["link", "set", "eth0", "master", "br0"]).unwrap();
    l.cli.tap("tap0", "br0").unwrap();

    let disk = tmp.0.join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let spec = DirectSpec {
        kernel: Some(images.join("vmlinux")),
        initrd: Some(images.join("initrd")),
        append: format!(
            "console=ttyS0 panic=-1 quiet maas_url=http://{p}.1:5248/MAAS/metadata/ \
             maas_purpose=commissioning maas_system_id={sid} maas_creds={creds}"
        ),
        mac: MAC.into(),
        tap: "tap0".into(),
        memory_mb: 768,
        cpus: 2,
        disk: Some((disk, "vm-disk-1".into())),
        // A USB controller with a tablet: commissioning lists both buses.
        devices: vec!["qemu-xhci,id=xhci".into(), "usb-tablet,bus=xhci.0".into()],
        dir: tmp.0.join("vm"),
        time_limit: Duration::from_secs(300),
    };
    let mut vm = l.cli.start_direct(&spec).unwrap();

    let t0 = Instant::now();
    let m: Value = loop {
        let (_, m) = r.admin.get(&path, &[]).await;
        let status = m["status_name"].as_str().unwrap_or("").to_string();
        if status != "Commissioning" || vm.exited() {
            // The machine powers off (qemu exits) right after its signal.
            let (_, m) = r.admin.get(&path, &[]).await;
            break m;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(280),
            "still commissioning after {:?}; console:\n{}",
            t0.elapsed(),
            spec.console()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let console = spec.console();
    eprintln!("commissioned in {:?}; console:\n{console}", t0.elapsed());
    assert_eq!(m["status_name"], "Ready", "{m}\nconsole:\n{console}");
    assert!(
        console.contains("MAAS-AGENT: commissioning done"),
        "{console}"
    );
    assert_eq!(m["cpu_count"], 2, "{m}");
    let mem = m["memory"].as_i64().unwrap();
    assert!((700..=768).contains(&mem), "memory {mem} MiB");
    let disks = m["blockdevice_set"].as_array().unwrap();
    let vda = disks
        .iter()
        .find(|d| d["name"] == "vda")
        .unwrap_or_else(|| panic!("no vda: {disks:?}"));
    assert_eq!(vda["size"], 1u64 << 30);
    assert_eq!(vda["serial"], "vm-disk-1");
    let ifaces = m["interface_set"].as_array().unwrap();
    assert!(
        ifaces
            .iter()
            .any(|i| i["mac_address"] == MAC && i["link_connected"] == true),
        "{ifaces:?}"
    );
    // One NUMA node with both CPUs and the memory the kernel counts there.
    let numa = m["numanode_set"].as_array().unwrap();
    assert_eq!(numa.len(), 1, "{numa:?}");
    assert_eq!(numa[0]["cores"], serde_json::json!([0, 1]));
    let node_mem = numa[0]["memory"].as_i64().unwrap();
    assert!(
        (600..=mem).contains(&node_mem),
        "node memory {node_mem} MiB"
    );
    // PCI and USB devices, named from pci.ids/usb.ids: the virtio NIC is
    // the Network device driving the machine's interface, the virtio disk
    // the Storage one, and the tablet sits on the xHCI controller's bus.
    let (st, devs) = r.admin.get(&format!("nodes/{sid}/devices/"), &[]).await;
    assert_eq!(st, 200, "{devs}");
    let devs = devs.as_array().unwrap();
    let find = |f: &dyn Fn(&Value) -> bool| {
        devs.iter()
            .find(|d| f(d))
            .unwrap_or_else(|| panic!("not found in {devs:#?}"))
            .clone()
    };
    let nic = find(&|d| d["physical_interface"]["mac_address"] == MAC);
    assert_eq!(
        (&nic["vendor_id"], &nic["product_id"]),
        (&Value::from("1af4"), &Value::from("1000"))
    );
    assert_eq!(nic["hardware_type_name"], "Network");
    assert_eq!(nic["vendor_name"], "Red Hat, Inc.", "named from pci.ids");
    assert_eq!(nic["commissioning_driver"], "virtio-pci");
    let disk = find(&|d| d["physical_blockdevice"]["name"] == "vda");
    assert_eq!(disk["hardware_type_name"], "Storage");
    let xhci = find(&|d| d["vendor_id"] == "1b36" && d["product_id"] == "000d");
    assert_eq!(xhci["bus_name"], "PCIE");
    assert_eq!(xhci["commissioning_driver"], "xhci_hcd");
    let tablet = find(&|d| d["bus_name"] == "USB" && d["vendor_id"] == "0627");
    assert_eq!(tablet["commissioning_driver"], "usbhid");
    assert!(tablet["pci_address"].is_null());
    assert!(
        devs.iter()
            .any(|d| d["bus_name"] == "USB" && d["vendor_id"] == "1d6b"),
        "the root hub: {devs:#?}"
    );
    // The VM powered itself off.
    vm.wait_timeout(Duration::from_secs(30)).unwrap();
    r.stop().await;
}
