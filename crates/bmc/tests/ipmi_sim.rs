//! Our IPMI client against real simulators: OpenIPMI's ipmi_sim (lanplus and
//! IPMI 1.5 LAN) and pyghmi's BMC. Each test changes a power state the
//! simulator writes to a file; ipmitool cross-checks the boot device.

mod common;

use common::*;
use maas_bmc::{BootDevice, BootTarget, OffMode, PowerError, PowerOnOutcome, PowerState};

async fn power_sequence(sim: &Sim, d: &dyn maas_bmc::PowerDriver, on: &str, off: &str) {
    assert_eq!(d.query().await.expect("query"), PowerState::Off);
    assert_eq!(d.power_on().await.expect("on"), PowerOnOutcome::TurnedOn);
    assert_eq!(sim.read("power"), on);
    assert_eq!(d.query().await.expect("query"), PowerState::On);
    // Already on: nothing is sent that could reset it.
    assert_eq!(
        d.power_on().await.expect("on again"),
        PowerOnOutcome::AlreadyOn
    );
    d.power_off(OffMode::Hard).await.expect("off");
    assert_eq!(sim.read("power"), off);
    assert_eq!(d.query().await.expect("query"), PowerState::Off);
    // Cycling an off machine powers it on.
    d.power_cycle().await.expect("cycle");
    assert_eq!(sim.read("power"), on);
}

#[tokio::test]
async fn ipmi_sim_lanplus_suite3_power_and_boot_device() {
    let sim = ipmi_sim();
    let d = ipmi_driver(&sim, &[("privilege_level", "ADMIN")]);
    power_sequence(&sim, d.as_ref(), "1", "0").await;
    d.power_reset().await.expect("reset");
    assert!(
        sim.read("resets").contains("reset"),
        "chassis reset reached the BMC"
    );
    d.set_boot_device(BootDevice {
        target: BootTarget::Pxe,
        persistent: false,
        efi: false,
    })
    .await
    .expect("bootdev");
    assert_eq!(sim.read("boot"), "pxe");
    let bp = ipmitool(&sim, &["chassis", "bootparam", "get", "5"]);
    assert!(bp.contains("Force PXE"), "ipmitool sees PXE: {bp}");
    d.set_boot_device(BootDevice {
        target: BootTarget::Disk,
        persistent: true,
        efi: true,
    })
    .await
    .expect("bootdev disk");
    assert_eq!(sim.read("boot"), "default");
    let bp = ipmitool(&sim, &["chassis", "bootparam", "get", "5"]);
    assert!(bp.contains("Hard-Drive"), "ipmitool sees disk: {bp}");
    d.power_off(OffMode::Soft).await.expect("soft off");
    assert_eq!(sim.read("power"), "0");
}

#[tokio::test]
async fn ipmi_sim_operator_privilege_and_device_id() {
    let sim = ipmi_sim();
    let addr = sim.address();
    let p = params(&[
        ("power_address", &addr),
        ("power_user", "oper"),
        ("power_pass", "opsecret"),
    ]);
    let drv = maas_bmc::ipmi::IpmiDriver::from_params(&p, fast()).expect("driver");
    let id = drv.device_id().await.expect("device id");
    assert_eq!(
        (id.firmware.0, id.ipmi_version, id.manufacturer),
        (9, 0x02, 0x1291),
        "{id:?}"
    );
    use maas_bmc::PowerDriver;
    drv.power_on().await.expect("operator may power on");
    assert_eq!(sim.read("power"), "1");
}

#[tokio::test]
async fn ipmi_sim_lan_1_5_power() {
    let sim = ipmi_sim();
    let d = ipmi_driver(
        &sim,
        &[("power_driver", "LAN"), ("privilege_level", "ADMIN")],
    );
    power_sequence(&sim, d.as_ref(), "1", "0").await;
    d.set_boot_device(BootDevice::pxe_once())
        .await
        .expect("bootdev over LAN");
    assert_eq!(sim.read("boot"), "pxe");
}

#[tokio::test]
async fn ipmi_sim_refuses_a_wrong_password() {
    let sim = ipmi_sim();
    let addr = sim.address();
    for driver in ["LAN_2_0", "LAN"] {
        let p = params(&[
            ("power_address", &addr),
            ("power_user", "admin"),
            ("power_pass", "wrong"),
            ("power_driver", driver),
        ]);
        let d = maas_bmc::driver_for_with("ipmi", &p, fast()).expect("driver");
        match d.query().await {
            Err(PowerError::AuthRefused(_)) => {}
            other => panic!("{driver}: expected AuthRefused, got {other:?}"),
        }
        let p = params(&[
            ("power_address", &addr),
            ("power_user", "nobody"),
            ("power_pass", "secret"),
            ("power_driver", driver),
        ]);
        let d = maas_bmc::driver_for_with("ipmi", &p, fast()).expect("driver");
        assert!(
            matches!(d.query().await, Err(PowerError::AuthRefused(_))),
            "{driver}: unknown user"
        );
    }
    assert_eq!(sim.read("power"), "0");
}

#[tokio::test]
async fn pyghmi_bmc_power_and_boot_device() {
    let sim = pyghmi_sim();
    let d = ipmi_driver(&sim, &[("privilege_level", "ADMIN")]);
    power_sequence(&sim, d.as_ref(), "on", "off").await;
    d.power_cycle().await.expect("cycle while on");
    assert_eq!(sim.read("cycles"), "1");
    d.power_reset().await.expect("reset");
    assert_eq!(sim.read("resets"), "1");
    d.set_boot_device(BootDevice::pxe_once())
        .await
        .expect("bootdev");
    assert_eq!(sim.read("boot"), "network");
    let bp = ipmitool(&sim, &["chassis", "bootparam", "get", "5"]);
    assert!(bp.contains("Force PXE"), "ipmitool sees PXE: {bp}");
    let p = params(&[
        ("power_address", &sim.address()),
        ("power_user", "admin"),
        ("power_pass", "nope"),
    ]);
    let bad = maas_bmc::driver_for_with("ipmi", &p, fast()).expect("driver");
    assert!(matches!(bad.query().await, Err(PowerError::AuthRefused(_))));
}

/// The lab layout: the BMC in one namespace, the rack (our client) in another,
/// joined by a veth; ipmitool cross-checks from the rack's namespace.
#[test]
fn ipmi_sim_in_a_namespace_reached_from_the_rack_namespace() {
    maas_lab::require_tools(&["ipmi_sim", "ipmitool", "ip"]).expect("tools");
    let link = maas_lab::Link::new("10.231.7").expect("namespaces");
    link.cli
        .addr("eth0", "10.231.7.2/24")
        .expect("rack address");
    let ip = link.server_ip();
    let sim = ipmi_sim_at(Place {
        ns: Some(&link.srv),
        ip: &ip,
    });
    let addr = sim.address();
    let rack = link
        .cli
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async move {
                let p = params(&[
                    ("power_address", &addr),
                    ("power_user", "admin"),
                    ("power_pass", "secret"),
                ]);
                let d = maas_bmc::driver_for_with("ipmi", &p, fast()).expect("driver");
                d.set_boot_device(BootDevice::pxe_once()).await?;
                d.power_on().await?;
                d.query().await
            })
        })
        .expect("thread in the rack namespace");
    let state = rack.join().expect("rack thread");
    assert_eq!(state, Ok(PowerState::On));
    assert_eq!(sim.read("power"), "1");
    let out = link
        .cli
        .output(
            "ipmitool",
            &[
                "-I",
                "lanplus",
                "-C",
                "3",
                "-H",
                &ip,
                "-U",
                "admin",
                "-P",
                "secret",
                "chassis",
                "bootparam",
                "get",
                "5",
            ],
        )
        .expect("ipmitool in the rack namespace");
    assert!(out.contains("Force PXE"), "{out}");
}
