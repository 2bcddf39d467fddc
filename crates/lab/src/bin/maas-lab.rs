//! `maas-lab up`: the quick start's virtual datacenter, run until SIGTERM
//! or SIGINT. It makes the rack host's namespace (bridge, router
//! advertisements), N qemu machines each with an ipmi_sim BMC (or, for the
//! last `--redfish` of them, a Redfish one: sushy-emulator), forwards
//! the region's API and RPC ports into the namespace, starts `maas-rack`
//! there, writes `<dir>/lab.json` (the machines, their MACs and BMCs), and
//! powers the machines on when asked. On exit everything goes away.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use maas_lab::{Bmc, Datacenter, Firmware, MachineSpec, Proc};

struct Args {
    dir: PathBuf,
    prefix: String,
    machines: usize,
    uefi: usize,
    redfish: usize,
    memory_mb: u32,
    disk_mb: u64,
    region_http: String,
    region_rpc: String,
    rack_bin: PathBuf,
    secret: String,
    image_dir: Option<PathBuf>,
    power_on: bool,
}

const USAGE: &str = "usage: maas-lab up --dir DIR --rack-bin PATH --secret S \
[--prefix 10.230.1] [--machines 2] [--uefi 0] [--redfish 0] [--memory-mb 768] [--disk-mb 2048] \
[--region-http 127.0.0.1:5240] [--region-rpc 127.0.0.1:5250] [--image-dir D] [--power-on]";

fn parse() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    if it.next().as_deref() != Some("up") {
        bail!("{USAGE}");
    }
    let mut a = Args {
        dir: PathBuf::new(),
        prefix: "10.230.1".into(),
        machines: 2,
        uefi: 0,
        redfish: 0,
        memory_mb: 768,
        disk_mb: 2048,
        region_http: "127.0.0.1:5240".into(),
        region_rpc: "127.0.0.1:5250".into(),
        rack_bin: PathBuf::new(),
        secret: String::new(),
        image_dir: None,
        power_on: false,
    };
    while let Some(flag) = it.next() {
        if flag == "--power-on" {
            a.power_on = true;
            continue;
        }
        let v = it
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .with_context(|| format!("{flag}: '{v}' is not a number"))
        };
        match flag.as_str() {
            "--dir" => a.dir = v.into(),
            "--prefix" => a.prefix = v,
            "--machines" => a.machines = num(&v)? as usize,
            "--uefi" => a.uefi = num(&v)? as usize,
            "--redfish" => a.redfish = num(&v)? as usize,
            "--memory-mb" => a.memory_mb = num(&v)? as u32,
            "--disk-mb" => a.disk_mb = num(&v)?,
            "--region-http" => a.region_http = v,
            "--region-rpc" => a.region_rpc = v,
            "--rack-bin" => a.rack_bin = v.into(),
            "--secret" => a.secret = v,
            "--image-dir" => a.image_dir = Some(v.into()),
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    if a.dir.as_os_str().is_empty() || a.rack_bin.as_os_str().is_empty() || a.secret.is_empty() {
        bail!("--dir, --rack-bin and --secret are required\n{USAGE}");
    }
    if a.machines > 50 || a.uefi > a.machines || a.redfish > a.machines {
        bail!("--machines is at most 50, --uefi and --redfish at most --machines");
    }
    Ok(a)
}

/// Block SIGTERM and SIGINT, and wait for one.
fn wait_for_signal() -> i32 {
    // SAFETY: plain sigset manipulation and sigwait on this thread; the
    // mask is set before any other thread exists that could take them.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        let mut sig = 0;
        libc::sigwait(&set, &mut sig);
        sig
    }
}

fn block_signals() {
    // SAFETY: as above; threads started later inherit the mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn run() -> anyhow::Result<()> {
    let a = parse()?;
    block_signals();
    maas_lab::require_tools(&["qemu-system-x86_64", "ipmi_sim", "dnsmasq"])?;
    let mut dc = Datacenter::new(&a.prefix, &a.dir.join("dc"), true)?;
    // Inside the namespace the region's API is at the same port as outside
    // (maas_url names it), its RPC at 5250.
    let http: std::net::SocketAddr = a.region_http.parse().context("--region-http")?;
    let _fwd = [
        dc.ns
            .forward_tcp(([127, 0, 0, 1], http.port()).into(), http)?,
        dc.ns
            .forward_tcp("127.0.0.1:5250".parse()?, a.region_rpc.parse()?)?,
    ];
    let rack_dir = a.dir.join("rack");
    let log = std::fs::File::create(a.dir.join("rack.log"))?;
    let mut c = dc.ns.cmd(a.rack_bin.to_str().context("rack path")?);
    c.args([
        "serve",
        "--region",
        "https://127.0.0.1:5250",
        "--secret",
        &a.secret,
    ])
    .args(["--hostname", "lab-rack1", "--http-listen", "127.0.0.1:5249"])
    .args(["--dns-listen", &format!("{}.1:53", a.prefix)])
    .arg("--data-dir")
    .arg(&rack_dir)
    .stdout(Stdio::from(log.try_clone()?))
    .stderr(Stdio::from(log));
    if let Some(d) = &a.image_dir {
        c.arg("--image-dir").arg(d);
    }
    let _rack = Proc::spawn(c)?;
    let mut listed = Vec::new();
    for i in 0..a.machines {
        let firmware = if i >= a.machines - a.uefi {
            Firmware::UefiPxe
        } else {
            Firmware::Bios
        };
        let name = format!("lab{}", i + 1);
        let mac = format!("52:54:00:a0:00:{:02x}", i + 1);
        let bmc = if i >= a.machines - a.redfish {
            Bmc::Redfish
        } else {
            Bmc::Ipmi
        };
        let n = dc.add_machine_with(
            MachineSpec {
                name: name.clone(),
                mac: mac.clone(),
                cpus: 1,
                memory_mb: a.memory_mb,
                disk_mb: a.disk_mb,
                data_disks_mb: vec![],
                extra_nics: vec![],
                firmware,
            },
            bmc,
        )?;
        let m = &dc.machines[n];
        // The API's form fields for its BMC (power_type, power_parameters_*).
        let power: Vec<String> = m
            .power_parameters()
            .iter()
            .map(|(k, v)| format!("\"{k}={v}\""))
            .collect();
        listed.push(format!(
            "{{\"name\": \"{name}\", \"mac\": \"{mac}\", \"bmc\": \"{}\", \"firmware\": \"{}\", \"power\": [{}], \"dir\": \"{}\"}}",
            m.bmc_ip,
            if firmware == Firmware::Bios { "bios" } else { "uefi" },
            power.join(", "),
            m.dir.display()
        ));
    }
    std::fs::write(
        a.dir.join("lab.json"),
        format!(
            "{{\"namespace\": \"{}\", \"rack_ip\": \"{}\", \"machines\": [\n  {}\n]}}\n",
            dc.ns.name(),
            dc.rack_ip(),
            listed.join(",\n  ")
        ),
    )?;
    if a.power_on {
        for m in &dc.machines {
            m.power_on_by_hand();
        }
    }
    println!(
        "lab up: namespace {} ({} machines)",
        dc.ns.name(),
        dc.machines.len()
    );
    let sig = wait_for_signal();
    println!("lab down (signal {sig})");
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("maas-lab: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
