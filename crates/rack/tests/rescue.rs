//! Rescue mode on a real virtual machine (the lab of `common::lab`): an
//! admin puts a Ready machine that nobody owns into rescue mode; it
//! network-boots the ephemeral environment, whose agent starts an SSH
//! server (Debian's dropbear) with the keys the metadata API gives — the
//! requesting admin's, since the machine has no owner — and only then
//! signals, so "Rescue mode" means SSH answers. The test logs in with that
//! key from the machine's network, reads the machine's disk, is refused
//! with another key, then exits rescue mode: the BMC powers the machine
//! off and it is Ready again, still unowned. Commissioning with
//! `enable_ssh` then lets the same admin in and leaves the machine on.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::lab::{Lab, images, lab_with_images};

/// A fresh ed25519 key pair at `path` (and `path.pub`); the public line.
fn keygen(path: &Path, comment: &str) -> String {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// `ssh root@ip command` with `key`, from inside the lab's network.
fn ssh(lab: &Lab, key: &Path, ip: &str, command: &str) -> anyhow::Result<String> {
    let key = key.to_str().unwrap();
    let to = format!("root@{ip}");
    lab.dc.ns.output(
        "ssh",
        &[
            "-i",
            key,
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "LogLevel=ERROR",
            &to,
            command,
        ],
    )
}

/// The address machine `n` leased in the boot whose console starts at
/// byte `mark` (`MAAS-INIT: dhcp ip=…`).
fn leased_ip(lab: &Lab, n: usize, mark: usize) -> String {
    let console = lab.dc.machines[n].console();
    console[mark..]
        .lines()
        .find_map(|l| l.split("MAAS-INIT: dhcp ip=").nth(1))
        .map(|ip| ip.trim().to_string())
        .unwrap_or_else(|| panic!("no lease on the console:\n{}", lab.report(n)))
}

async fn power_parameters(lab: &Lab, sid: &str) -> serde_json::Value {
    let path = format!("machines/{sid}/");
    let (st, p) = lab.r.admin.get_op(&path, "power_parameters", &[]).await;
    assert_eq!(st, 200, "{p}");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_mode_lets_the_requesting_admin_in_over_ssh() {
    let (eph, tiny) = images();
    let mut lab = lab_with_images("10.71.4", &eph, &tiny).await;
    let n = lab.add_small_machine("rescue1", "52:54:00:71:04:01");
    let sid = lab.create_with_bmc(n, true).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(300))
        .await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;
    // Created with the lab's BMC user, commissioning configured the BMC
    // in-band: the region now powers it as `maas` (rescue mode's power
    // cycle and exit's power off below use that user).
    let bmc_user = power_parameters(&lab, &sid).await;
    assert_eq!(bmc_user["power_user"], "maas", "{bmc_user}");
    // Something on the disk for the rescuer to find.
    lab.scribble_disk(n);

    let admin_key = lab.tmp.0.join("admin_ed25519");
    let stranger_key = lab.tmp.0.join("stranger_ed25519");
    let public = keygen(&admin_key, "admin@lab");
    keygen(&stranger_key, "stranger@lab");
    let (st, k) = lab
        .r
        .admin
        .post("account/prefs/sshkeys/", &[("key", &public)])
        .await;
    assert_eq!(st, 200, "{k}");

    let mark = lab.dc.machines[n].console().len();
    lab.act(&sid, "rescue_mode", &[]).await;
    assert_eq!(
        lab.machine(&sid).await["status_name"],
        "Entering rescue mode"
    );
    lab.wait_status(n, &sid, "Rescue mode", Duration::from_secs(180))
        .await;
    let m = lab.machine(&sid).await;
    assert!(m["owner"].is_null(), "{m}");
    let console = lab.dc.machines[n].console();
    assert!(
        console[mark..].contains("SSH on port 22 for root with 1 key(s)"),
        "{}",
        lab.report(n)
    );

    // In with the admin's key: the ephemeral environment, booted for
    // rescue, with the machine's own disk to look at.
    let ip = leased_ip(&lab, n, mark);
    let out = ssh(
        &lab,
        &admin_key,
        &ip,
        "id -u; grep -o 'maas_purpose=[a-z_-]*' /proc/cmdline; \
         head -c 4 /dev/$(ls /sys/block | grep -v -e loop -e ram | head -1) | od -An -tx1",
    )
    .unwrap_or_else(|e| panic!("ssh with the admin's key: {e:#}\n{}", lab.report(n)));
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines.first(), Some(&"0"), "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("maas_purpose=rescue")),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"a5 a5 a5 a5"), "{out}");
    // Not with a key nobody gave the region.
    let refused = ssh(&lab, &stranger_key, &ip, "true");
    assert!(refused.is_err(), "a stranger's key got in: {refused:?}");

    // Exit: powered off through the BMC, Ready again, still unowned.
    lab.act(&sid, "exit_rescue_mode", &[]).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(60))
        .await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;
    let m = lab.machine(&sid).await;
    assert!(m["owner"].is_null(), "{m}");

    // Commissioning with enable_ssh: the same SSH into the commissioning
    // environment, which stays up once the machine is Ready;
    // skip_bmc_config leaves the BMC's user and password as they were.
    let mark = lab.dc.machines[n].console().len();
    let opts = [("enable_ssh", "1"), ("skip_bmc_config", "1")];
    lab.act(&sid, "commission", &opts).await;
    lab.wait_status(n, &sid, "Ready", Duration::from_secs(240))
        .await;
    let ip = leased_ip(&lab, n, mark);
    let out = ssh(&lab, &admin_key, &ip, "cat /proc/cmdline")
        .unwrap_or_else(|e| panic!("ssh after commissioning: {e:#}\n{}", lab.report(n)));
    assert!(out.contains("maas_purpose=commissioning"), "{out}");
    assert_eq!(power_parameters(&lab, &sid).await, bmc_user);
    lab.act(&sid, "power_off", &[]).await;
    lab.wait_powered_off(n, Duration::from_secs(60)).await;
    lab.dc.machines.clear();
    lab.r.stop().await;
}
