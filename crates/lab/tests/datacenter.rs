//! The lab's BMCs really power their machines: `ipmitool` (lanplus, as the
//! rack's driver speaks it) turns the qemu process on and off, and reads
//! back the state the process is in.

use std::time::{Duration, Instant};

use maas_lab::{Bmc, Datacenter, Firmware, MachineSpec, require_tools};

fn ipmitool(dc: &Datacenter, ip: &str, args: &[&str]) -> String {
    let mut a = vec![
        "-I", "lanplus", "-C", "3", "-H", ip, "-U", "admin", "-P", "secret",
    ];
    a.extend_from_slice(args);
    dc.ns
        .output("ipmitool", &a)
        .unwrap_or_else(|e| format!("error: {e}"))
}

fn wait(what: &str, f: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ipmi_power_starts_and_stops_the_qemu_machine() {
    require_tools(&["qemu-system-x86_64", "ipmi_sim", "ipmitool"]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut dc = Datacenter::new("10.82.1", tmp.path(), false).unwrap();
    let n = dc
        .add_machine(MachineSpec {
            name: "m1".into(),
            mac: "52:54:00:82:00:01".into(),
            cpus: 1,
            memory_mb: 128,
            disk_mb: 16,
            data_disks_mb: vec![],
            extra_nics: vec![],
            firmware: Firmware::Bios,
        })
        .unwrap();
    let ip = dc.machines[n].bmc_ip.clone();
    assert_eq!(
        std::fs::metadata(dc.machines[n].disk()).unwrap().len(),
        16 << 20
    );
    wait("the BMC answers", || {
        ipmitool(&dc, &ip, &["power", "status"]).contains("is off")
    });
    assert!(!dc.machines[n].running());
    let out = ipmitool(&dc, &ip, &["chassis", "bootdev", "pxe"]);
    assert!(out.contains("Set Boot Device to pxe"), "{out}");
    ipmitool(&dc, &ip, &["power", "on"]);
    wait("qemu runs after power on", || dc.machines[n].running());
    let status = ipmitool(&dc, &ip, &["power", "status"]);
    assert!(status.contains("is on"), "{status}");
    // SeaBIOS starts on the serial console.
    wait("the firmware prints on the console", || {
        !dc.machines[n].console().is_empty()
    });
    ipmitool(&dc, &ip, &["power", "off"]);
    wait("qemu is gone after power off", || !dc.machines[n].running());
    assert!(ipmitool(&dc, &ip, &["power", "status"]).contains("is off"));
    // The power button (no BMC) starts it in the lab's namespace too: its
    // NIC's frames reach the bridge there.
    dc.machines[n].power_on_by_hand();
    wait("qemu runs again", || dc.machines[n].running());
    let tap_rx = || {
        dc.ns
            .output("cat", &["/sys/class/net/tap0/statistics/rx_packets"])
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    wait("the machine's NIC sends on the lab bridge", || tap_rx() > 0);
    // Dropping the lab stops a running machine with it.
    let pid: i32 = std::fs::read_to_string(dc.machines[n].dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    drop(dc);
    // SAFETY: signal 0 only checks whether the pid exists.
    wait(
        "qemu is gone with the lab",
        || unsafe { libc::kill(pid, 0) } != 0,
    );
}

/// Redfish (curl, as a client would) on a machine's sushy-emulator BMC.
fn redfish(dc: &Datacenter, n: usize, method: &str, path: &str, body: Option<&str>) -> String {
    let m = &dc.machines[n];
    let url = format!(
        "http://{}:{}/redfish/v1/Systems/{}{path}",
        m.bmc_ip,
        maas_lab::REDFISH_PORT,
        maas_lab::system_uuid(&m.spec.mac)
    );
    let mut a = vec![
        "-s",
        "-u",
        "admin:secret",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ];
    if let Some(b) = body {
        a.extend_from_slice(&["-H", "Content-Type: application/json", "-d", b]);
    }
    a.push(&url);
    dc.ns
        .output("curl", &a)
        .unwrap_or_else(|e| format!("error: {e}"))
}

#[test]
fn redfish_power_starts_and_stops_the_qemu_machine() {
    require_tools(&["qemu-system-x86_64", "curl"]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut dc = Datacenter::new("10.72.2", tmp.path(), false).unwrap();
    let n = dc
        .add_machine_with(
            MachineSpec {
                name: "rf1".into(),
                mac: "52:54:00:72:00:01".into(),
                cpus: 1,
                memory_mb: 128,
                disk_mb: 16,
                data_disks_mb: vec![],
                extra_nics: vec![],
                firmware: Firmware::UefiPxe,
            },
            Bmc::Redfish,
        )
        .unwrap();
    let params = dc.machines[n].power_parameters();
    assert!(
        params.contains(&("power_type".into(), "redfish".into())),
        "{params:?}"
    );
    let state = |dc: &Datacenter| {
        let out = redfish(dc, n, "GET", "", None);
        if out.contains("\"PowerState\": \"On\"") || out.contains("\"PowerState\":\"On\"") {
            "On"
        } else if out.contains("\"PowerState\": \"Off\"") || out.contains("\"PowerState\":\"Off\"")
        {
            "Off"
        } else {
            panic!("no PowerState in {out}")
        }
    };
    assert_eq!(state(&dc), "Off");
    assert!(!dc.machines[n].running());
    let boot =
        r#"{"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}}"#;
    let out = redfish(&dc, n, "PATCH", "", Some(boot));
    assert!(out.ends_with("204") || out.ends_with("200"), "{out}");
    let reset = |t: &str| format!(r#"{{"ResetType": "{t}"}}"#);
    let out = redfish(
        &dc,
        n,
        "POST",
        "/Actions/ComputerSystem.Reset",
        Some(&reset("On")),
    );
    assert!(out.ends_with("204"), "{out}");
    // At once: the action starts the process (no emulated delay).
    assert!(dc.machines[n].running(), "qemu runs after Redfish On");
    assert_eq!(state(&dc), "On");
    // OVMF starts on the serial console.
    wait("the UEFI firmware prints on the console", || {
        !dc.machines[n].console().is_empty()
    });
    let out = redfish(
        &dc,
        n,
        "POST",
        "/Actions/ComputerSystem.Reset",
        Some(&reset("ForceOff")),
    );
    assert!(out.ends_with("204"), "{out}");
    wait("qemu is gone after ForceOff", || !dc.machines[n].running());
    wait("the BMC reads Off", || state(&dc) == "Off");
    // A machine that stops by itself reads Off too (the state is the process).
    dc.machines[n].power_on_by_hand();
    wait("qemu runs again", || dc.machines[n].running());
    assert_eq!(state(&dc), "On");
    dc.machines[n].kill();
    wait("the BMC reads Off after the process died", || {
        state(&dc) == "Off"
    });
    let calls = std::fs::read_to_string(dc.machines[n].dir.join("calls")).unwrap();
    assert!(calls.contains("set boot Pxe"), "{calls}");
}
