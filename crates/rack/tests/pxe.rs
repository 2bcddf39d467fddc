//! Real firmware network-boots from the rack: a SeaBIOS machine (the NIC's
//! iPXE ROM), an OVMF machine (UEFI's own PXE client: TFTP `snponly.efi`,
//! which then runs iPXE) and an OVMF machine doing UEFI HTTP boot (DHCP as
//! an `HTTPClient`, `snponly.efi` by the URL in the answer) get their
//! address from our DHCP and reach their per-machine iPXE script on our
//! HTTP boot server. The proof is the boot requests the rack reported to
//! the region, and what the UEFI firmware said on its console.

mod common;

use std::time::{Duration, Instant};

use common::*;
use maas_lab::{Firmware, VmSpec, require_tools};

/// The files the rack reported serving to `mac` (boot events in the region).
async fn boot_files(lab: &RackLab) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT payload->>'mac', payload->>'file' FROM rack_events WHERE kind = 'boot' ORDER BY seq",
    )
    .fetch_all(lab.r.db())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bios_and_uefi_firmware_boot_to_their_ipxe_script() {
    require_tools(&["qemu-system-x86_64"]).unwrap();
    let p = "10.78.1";
    let lab = RackLab::start(p).await;
    lab.configure().await;
    // The machines sit on a bridge in the client namespace, on the rack's link.
    let cli = &lab.l.cli;
    cli.bridge("br0").unwrap();
    cli.ip(&["link", "set", "eth0", "master", "br0"]).unwrap();
    cli.tap("tap0", "br0").unwrap();
    cli.tap("tap1", "br0").unwrap();
    cli.tap("tap2", "br0").unwrap();
    let spec = |tap: &str, mac: &str, firmware| VmSpec {
        mac: mac.into(),
        firmware,
        memory_mb: 256,
        tap: tap.into(),
        dir: lab.tmp.0.join(tap),
        time_limit: Duration::from_secs(240),
    };
    let bios = spec("tap0", "52:54:00:78:00:01", Firmware::Bios);
    let uefi = spec("tap1", "52:54:00:78:00:02", Firmware::UefiPxe);
    let _vm_bios = cli.start_vm(&bios).unwrap();
    let _vm_uefi = cli.start_vm(&uefi).unwrap();
    let http = spec("tap2", "52:54:00:78:00:03", Firmware::UefiHttp);
    let _vm_http = cli.start_vm(&http).unwrap();

    let script = |mac: &str| format!("ipxe.cfg-{}", mac.replace(':', "-"));
    let t0 = Instant::now();
    loop {
        let files = boot_files(&lab).await;
        let got = |f: &str| files.iter().any(|(_, file)| file == f);
        if got(&script(&bios.mac)) && got(&script(&uefi.mac)) && got(&script(&http.mac)) {
            // UEFI came the long way: the EFI loader first.
            assert!(got("snponly.efi"), "{files:?}");
            // HTTP boot: straight to HTTPv4 (no PXE try), the loader by
            // the URL the rack's DHCP answer gave.
            let con = maas_lab::console(&http);
            assert!(con.contains("Start HTTP Boot over IPv4"), "{con}");
            assert!(!con.contains("Start PXE over IPv4"), "{con}");
            assert!(con.contains("/boot/snponly.efi"), "{con}");
            let pxe = maas_lab::console(&uefi);
            assert!(pxe.contains("Start PXE over IPv4"), "{pxe}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(200),
            "firmware did not reach its script: {files:?}\nBIOS console:\n{}\nUEFI console:\n{}\nUEFI HTTP console:\n{}\nrack:\n{}",
            maas_lab::console(&bios),
            maas_lab::console(&uefi),
            maas_lab::console(&http),
            lab.rack.log_text()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Both took leases from the range, and the region has them.
    let leases: Vec<(String, String)> =
        sqlx::query_as("SELECT mac, host(ip) FROM dhcp_leases ORDER BY mac")
            .fetch_all(lab.r.db())
            .await
            .unwrap();
    for mac in [&bios.mac, &uefi.mac, &http.mac] {
        assert!(
            leases.iter().any(|(m, ip)| m == mac && in_range(ip, p)),
            "{mac} in {leases:?}"
        );
    }
}
