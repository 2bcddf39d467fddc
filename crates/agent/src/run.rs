//! What one boot does, by purpose. Each step signals FAILED with its error
//! when it fails; the caller then powers off (or reboots / stays, as the
//! step asks).

use std::io::BufReader;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::Env;
use crate::client::Maas;
use crate::cmdline::{Cmdline, Purpose};
use crate::{deploy, erase, inventory, testing};

/// What to do once the step is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    PowerOff,
    Reboot,
    /// Rescue mode: keep running (a shell on the console).
    Stay,
}

/// Run the boot the command line asks for.
pub fn run(env: &Env, cmd: &Cmdline) -> Result<After> {
    let url = cmd
        .maas_url
        .as_deref()
        .context("no maas_url on the kernel command line")?;
    let purpose = match (cmd.purpose, &cmd.system_id) {
        (Some(p), _) => p,
        (None, None) if cmd.unknown_purpose.is_none() => Purpose::Enlist,
        (None, _) => bail!(
            "unknown maas_purpose '{}'",
            cmd.unknown_purpose.as_deref().unwrap_or("")
        ),
    };
    env.log(
        "start",
        &format!(
            "purpose={} url={url} system_id={}",
            purpose.name(),
            cmd.system_id.as_deref().unwrap_or("-")
        ),
    );
    if purpose == Purpose::Enlist {
        return enlist(env, &Maas::new(url, None, env.patience));
    }
    let maas = connect(env, url, cmd)?;
    step(env, &maas, purpose)
}

/// The machine's token: from the command line (`maas_creds`) or get_preseed.
pub fn connect(env: &Env, url: &str, cmd: &Cmdline) -> Result<Maas> {
    if let Some(c) = &cmd.creds {
        env.log("credentials", "from the kernel command line");
        return Ok(Maas::new(url, Some(c.clone()), env.patience));
    }
    let sid = cmd
        .system_id
        .as_deref()
        .context("no maas_system_id on the kernel command line")?;
    let anon = Maas::new(url, None, env.patience);
    let p = anon.get_preseed(sid)?;
    env.log("credentials", "from get_preseed");
    let url = p.metadata_url.as_deref().unwrap_or(url);
    Ok(Maas::new(url, Some(p.creds), env.patience))
}

/// Run one purpose; a failure is signalled (FAILED with the error) and
/// the machine powers off.
pub fn step(env: &Env, maas: &Maas, purpose: Purpose) -> Result<After> {
    step_in(env, maas, purpose, false)
}

/// `step`; `enlisted`: this boot enlisted the machine and has looked for
/// its BMC already, so commissioning does not again.
fn step_in(env: &Env, maas: &Maas, purpose: Purpose, enlisted: bool) -> Result<After> {
    let name = purpose.name();
    let r = match purpose {
        Purpose::Enlist => return enlist(env, maas),
        Purpose::Commissioning => commission(env, maas, enlisted),
        Purpose::Testing => test(env, maas),
        Purpose::Erasing => erasing(env, maas),
        Purpose::Deploying => deploying(env, maas),
        Purpose::Rescue => rescue(env, maas),
    };
    match r {
        Ok(after) => {
            env.log(name, "done");
            Ok(after)
        }
        Err(e) => {
            let msg = format!("{e:#}");
            env.log(name, &format!("FAILED {msg}"));
            // The step's output stays with the region as a failed result.
            let log = env.transcript();
            let file = format!("maas-{name}.log");
            let files: [(&str, &[u8]); 1] = [(&file, log.as_bytes())];
            if let Err(e2) = maas.signal("FAILED", &msg, &[], &files) {
                env.log(name, &format!("could not signal FAILED: {e2:#}"));
            }
            Ok(After::PowerOff)
        }
    }
}

/// A progress signal; its failure is logged, not fatal.
fn working(env: &Env, maas: &Maas, step: &str, msg: &str) {
    env.log(step, msg);
    if let Err(e) = maas.signal("WORKING", msg, &[], &[]) {
        env.log(step, &format!("progress signal failed: {e:#}"));
    }
}

pub fn enlist(env: &Env, anon: &Maas) -> Result<After> {
    let nics = inventory::nics(&env.root);
    if nics.is_empty() {
        bail!("no network interface to enlist with");
    }
    let arch = inventory::architecture();
    let mut form: Vec<(&str, &str)> = vec![("architecture", arch)];
    for n in &nics {
        form.push(("mac_addresses", &n.mac));
    }
    // The BMC, configured in-band, so the region can power the machine.
    let bmc = discover_bmc(env, "enlist");
    let params = bmc.as_ref().map(crate::bmc::Found::power_parameters);
    if let Some(p) = &params {
        form.push(("power_type", "ipmi"));
        form.push(("power_parameters", p));
    }
    let reply = anon.enlist(&form)?;
    let sid = reply["system_id"]
        .as_str()
        .context("enlist: the reply has no system_id")?
        .to_string();
    let status = reply["status"].as_i64();
    let label = reply["status_name"].as_str().unwrap_or("");
    env.log(
        "enlist",
        &format!("enlisted system_id={sid} status={label}"),
    );
    // A new machine commissions in the same boot (the region moves it to
    // Commissioning on its first signal, or already did): with credentials
    // from get_preseed. A region that withholds them means power off.
    if matches!(status, Some(0 | 1)) || matches!(label, "New" | "Commissioning") {
        let p = match anon.get_preseed(&sid) {
            Ok(p) => p,
            Err(e) => {
                env.log(
                    "enlist",
                    &format!("no credentials for this boot ({e:#}); powering off"),
                );
                return Ok(After::PowerOff);
            }
        };
        let url = p.metadata_url.clone().unwrap_or_else(|| anon.url.clone());
        let maas = Maas::new(&url, Some(p.creds), env.patience);
        return step_in(env, &maas, Purpose::Commissioning, true);
    }
    Ok(After::PowerOff)
}

/// The BMC behind `/dev/ipmi0`, with a fresh `maas` user; `None` (logged
/// under `step`) when there is none or it cannot be configured.
fn discover_bmc(env: &Env, step: &str) -> Option<crate::bmc::Found> {
    if !env.dev.join("ipmi0").exists() {
        env.log(step, "no /dev/ipmi0: no BMC details");
        return None;
    }
    let found =
        crate::bmc::new_password(&env.root).and_then(|pw| crate::bmc::discover_at(&env.dev, &pw));
    match found {
        Ok(Some(f)) => {
            env.log(
                step,
                &format!(
                    "BMC at {} (LAN channel {}, MAC {}): user {} configured",
                    f.address,
                    f.channel,
                    f.mac.as_deref().unwrap_or("unknown"),
                    f.user
                ),
            );
            Some(f)
        }
        Ok(None) => None,
        Err(e) => {
            env.log(step, &format!("BMC not configured: {e:#}"));
            None
        }
    }
}

/// How long commissioning listens for LLDP at most: one announcement
/// interval of lldpd and most switches (30 s) and a second. It ends as soon
/// as every linked NIC has heard a neighbour, so only a NIC whose switch
/// sends nothing waits it out (MAAS's capture waits 60 s).
const LLDP_WAIT: Duration = Duration::from_secs(31);

/// Listens for LLDP on the linked NICs while the rest of the inventory is
/// taken; the thread's answer is the `lldpcli -f xml` document.
fn listen_lldp(env: &Env) -> Option<std::thread::JoinHandle<(String, usize)>> {
    if !env.tools {
        return None;
    }
    let ifaces: Vec<(String, i32)> = inventory::nics(&env.root)
        .into_iter()
        .filter(|n| n.link)
        .map(|n| {
            let i = inventory::lldp::ifindex(&n.name);
            (n.name, i)
        })
        .filter(|(_, i)| *i > 0)
        .collect();
    let log = env.clone();
    Some(std::thread::spawn(move || {
        match inventory::lldp::capture(&ifaces, LLDP_WAIT) {
            Ok(found) => (inventory::lldp::xml(&found), found.len()),
            Err(e) => {
                log.log("commissioning", &format!("no LLDP capture: {e}"));
                (inventory::lldp::xml(&[]), 0)
            }
        }
    }))
}

/// Open SSH when the task asks (`enable_ssh`); whether to stay up after.
fn ssh_if_asked(env: &Env, maas: &Maas, task: &Value, step: &str) -> bool {
    if task["enable_ssh"].as_bool() != Some(true) {
        return false;
    }
    match crate::rescue::open(env, maas) {
        Ok(how) => env.log(step, &format!("enable_ssh: {how}; staying up")),
        Err(e) => env.log(step, &format!("enable_ssh: SSH not opened: {e:#}")),
    }
    true
}

/// Commissioning: the inventory, LLDP neighbours and (unless the task says
/// `skip_bmc_config`, or this boot's enlistment did it) the BMC's power
/// settings, sent with the OK signal.
pub fn commission(env: &Env, maas: &Maas, enlisted: bool) -> Result<After> {
    working(
        env,
        maas,
        "commissioning",
        "Commissioning: collecting the inventory",
    );
    let task = maas.task()?.unwrap_or(Value::Null);
    let stay = ssh_if_asked(env, maas, &task, "commissioning");
    let lldp = listen_lldp(env);
    let smart_serial = |name: &str| {
        let dev = env.disk_path(name);
        env.tool("smartctl", &["-i", &dev.to_string_lossy()])
            .and_then(|(out, _)| inventory::disks::smartctl_serial(&out))
    };
    let hw = inventory::hardware_json(&env.root, &smart_serial);
    let count = |k: &str| hw[k].as_array().map_or(0, Vec::len);
    env.log(
        "commissioning",
        &format!(
            "inventory cpu_count={} memory={} cpu_speed={} disks={} nics={} pci={} usb={}",
            hw["cpu_count"],
            hw["memory"],
            hw["cpu_speed"],
            count("disks"),
            count("nics"),
            count("pci_devices"),
            count("usb_devices")
        ),
    );
    let hw = serde_json::to_vec_pretty(&hw)?;
    let mut files: Vec<(&str, Vec<u8>)> = vec![("hardware.json", hw)];
    match env.tool("lshw", &["-xml", "-quiet"]) {
        Some((out, 0)) => files.push(("maas-lshw", out.into_bytes())),
        Some((_, code)) => env.log("commissioning", &format!("lshw failed ({code})")),
        None => env.log("commissioning", "lshw is not available"),
    }
    let (lldp, heard) = lldp
        .and_then(|t| t.join().ok())
        .unwrap_or_else(|| (inventory::lldp::xml(&[]), 0));
    env.log("commissioning", &format!("LLDP neighbours: {heard}"));
    files.push(("maas-lldp", lldp.into_bytes()));
    let bmc = if enlisted {
        None
    } else if task["skip_bmc_config"].as_bool() == Some(true) {
        env.log("commissioning", "skip_bmc_config: the BMC is left as it is");
        None
    } else {
        discover_bmc(env, "commissioning")
    };
    let params = bmc.as_ref().map(crate::bmc::Found::power_parameters);
    let mut fields = vec![("exit_status", "0")];
    if let Some(p) = &params {
        fields.push(("power_type", "ipmi"));
        fields.push(("power_parameters", p));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    maas.signal("OK", "", &fields, &refs)?;
    Ok(if stay { After::Stay } else { After::PowerOff })
}

pub fn test(env: &Env, maas: &Maas) -> Result<After> {
    working(
        env,
        maas,
        "testing",
        "Testing: SMART, disk reads and memory",
    );
    let task = maas.task()?.unwrap_or(Value::Null);
    let stay = ssh_if_asked(env, maas, &task, "testing");
    let (summary, outcomes, ok) = testing::run(env);
    // Each test's result on its own, with its own exit status, as MAAS's
    // runner sends them; then the summary with the verdict.
    for (name, out, passed) in &outcomes {
        let code = if *passed { "0" } else { "1" };
        let files: [(&str, &[u8]); 1] = [(name, out)];
        maas.signal("WORKING", "", &[("exit_status", code)], &files)?;
    }
    let summary = serde_json::to_vec_pretty(&summary)?;
    let refs: [(&str, &[u8]); 1] = [("maas-tests.json", &summary)];
    if ok {
        maas.signal("OK", "", &[("exit_status", "0")], &refs)?;
    } else {
        maas.signal(
            "FAILED",
            "Hardware tests failed.",
            &[("exit_status", "1")],
            &refs,
        )?;
        env.log("testing", "FAILED hardware tests failed");
    }
    Ok(if stay { After::Stay } else { After::PowerOff })
}

pub fn erasing(env: &Env, maas: &Maas) -> Result<After> {
    let task = maas.task()?;
    let mode = erase::Mode::from_task(task.as_ref());
    let how = if mode.secure {
        "secure"
    } else if mode.quick {
        "quick"
    } else {
        "full"
    };
    working(env, maas, "erasing", &format!("Erasing disks ({how})"));
    for d in inventory::disks(&env.root) {
        let path = env.disk_path(&d.name);
        let name = d.name.clone();
        let size = erase::erase_disk(&path, mode, &mut |pct| {
            working(env, maas, "erasing", &format!("Erasing {name}: {pct}%"));
        })?;
        env.log(
            "erasing",
            &format!("{} erased ({how}, {size} bytes)", d.name),
        );
    }
    maas.signal("OK", "", &[("exit_status", "0")], &[])?;
    Ok(After::PowerOff)
}

pub fn deploying(env: &Env, maas: &Maas) -> Result<After> {
    let task = maas
        .task()?
        .context("the region has no task for this machine (maas-task)")?;
    let img = deploy::Image::from_task(&task)?;
    let disk = deploy::pick_disk(&env.root, &task)?;
    let dev = env.disk_path(&disk);
    let url = format!("{}{}", maas.origin()?, img.url);
    working(
        env,
        maas,
        "deploying",
        &format!("Writing {} ({} bytes) to {disk}", img.filetype, img.size),
    );
    // A download cut off (the rack restarted) starts again, twice at most.
    if deploy::tarball::is_tarball(&img.filetype) {
        again_if_cut(env, maas, || {
            install_tarball(env, maas, &disk, &dev, &url, &img, &task)
        })?;
    } else {
        let written = again_if_cut(env, maas, || write_image(env, maas, &url, &img, &dev))?;
        env.log("deploying", &format!("image written ({written} bytes)"));
        configure(env, &disk, &dev, &task)?;
    }
    maas.netboot_off()?;
    working(env, maas, "deploying", "Rebooting into the installed OS");
    unsafe { libc::sync() };
    Ok(After::Reboot)
}

/// `f` again (twice at most) while it fails because the image's download
/// was cut off.
fn again_if_cut<T>(env: &Env, maas: &Maas, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if attempt < 3 && deploy::stream_broken(&e) => {
                let msg = format!("image download cut off ({e:#}); downloading it again");
                working(env, maas, "deploying", &msg);
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            r => return r,
        }
    }
}

/// A root tarball: lay out the disk (fresh filesystems on every attempt),
/// unpack into the root, boot files and the cloud-init files.
fn install_tarball(
    env: &Env,
    maas: &Maas,
    disk: &str,
    dev: &std::path::Path,
    url: &str,
    img: &deploy::Image,
    task: &Value,
) -> Result<()> {
    let target = env.root.join("tmp/maas-target");
    let laid = crate::install::prepare(env, disk, dev, &task["deploy"]["storage"])?;
    let made: Vec<String> = laid
        .parts
        .iter()
        .zip(&laid.devs)
        .map(|(p, d)| {
            format!(
                "{}={}{}",
                d.file_name().unwrap_or_default().to_string_lossy(),
                if p.boot {
                    "boot"
                } else {
                    p.fstype.as_deref().unwrap_or("none")
                },
                p.mount_point
                    .as_deref()
                    .map(|m| format!(":{m}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    env.log(
        "deploying",
        &format!("{disk}: storage laid out ({})", made.join(" ")),
    );
    deploy::mount_any(laid.root(), &target)?;
    let r = crate::install::mount_others(&laid, &target).and_then(|others| {
        working(
            env,
            maas,
            "deploying",
            "Deploying: unpacking the root tarball",
        );
        let r = crate::install::unpack(env, url, img, &target).and_then(|n| {
            env.log("deploying", &format!("root tarball unpacked ({n} bytes)"));
            crate::install::finish(env, &laid, &target, task)
        });
        unsafe { libc::sync() };
        crate::install::unmount_all(&others);
        r
    });
    unsafe { libc::sync() };
    let u = deploy::unmount(&target);
    r?;
    u
}

/// Download the image from the rack onto `dev` (checked, fsync'ed).
fn write_image(
    env: &Env,
    maas: &Maas,
    url: &str,
    img: &deploy::Image,
    dev: &std::path::Path,
) -> Result<u64> {
    let resp = crate::http::Request::new("GET", url)
        .send_retrying(std::time::Duration::from_secs(60), env.patience)
        .with_context(|| format!("download {url}"))?;
    if resp.status != 200 {
        bail!("download {url}: HTTP {}", resp.status);
    }
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .open(dev)
        .with_context(|| format!("open {}", dev.display()))?;
    let written = deploy::write_image(BufReader::new(resp.body), img, &mut out, &mut |pct| {
        working(env, maas, "deploying", &format!("Deploying: image {pct}%"));
    })?;
    out.sync_all().context("fsync the disk")?;
    Ok(written)
}

/// Mount the root partition and write the cloud-init files.
fn configure(env: &Env, disk: &str, dev: &std::path::Path, task: &Value) -> Result<()> {
    if let Err(e) = deploy::reread_partitions(dev) {
        env.log("deploying", &format!("partition table not re-read: {e:#}"));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let parts = deploy::partitions(&env.root, disk);
    let (part, _) = parts
        .first()
        .context(format!("{disk} has no partition after writing the image"))?;
    let target = env.root.join("tmp/maas-target");
    let fs = deploy::mount_any(&env.disk_path(part), &target)?;
    env.log("deploying", &format!("mounted {part} ({fs})"));
    let r = deploy::write_target_files(&target, task);
    unsafe { libc::sync() };
    deploy::unmount(&target)?;
    r?;
    Ok(())
}

pub fn rescue(env: &Env, maas: &Maas) -> Result<After> {
    let how = crate::rescue::open(env, maas)?;
    // Signalled once SSH answers, so "Rescue mode" means it can be used.
    maas.signal("OK", "", &[], &[])?;
    env.log(
        "rescue",
        &format!("rescue mode: shell on the console; {how}"),
    );
    Ok(After::Stay)
}
