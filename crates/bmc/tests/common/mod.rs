//! Simulators for the tests: OpenIPMI's ipmi_sim, a pyghmi BMC and sushy-emulator,
//! each on a loopback high port, each keeping the machine's power state in a
//! file the test reads. Every process is killed on drop.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maas_bmc::{DriverOptions, PowerDriver, driver_for_with};
use maas_lab::Proc;

pub const VENV: &str = "/var/tmp/maas-venv/bin";

pub fn sim_dir() -> PathBuf {
    // Works from any crate of the workspace (the rack's tests use it too).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bmc/tests/sim")
}

/// A BMC simulator's address: a loopback port, or a fixed port on an address
/// inside a namespace.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub ns: Option<&'a maas_lab::Netns>,
    pub ip: &'a str,
}

pub const LOOPBACK: Place<'static> = Place {
    ns: None,
    ip: "127.0.0.1",
};

fn command(place: Place, program: &str) -> Command {
    match place.ns {
        Some(ns) => ns.cmd(program),
        None => Command::new(program),
    }
}

/// A free port on 127.0.0.1 (UDP or TCP, asked of the kernel).
pub fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    s.local_addr().expect("addr").port()
}

pub fn free_tcp_port() -> u16 {
    let s = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
    s.local_addr().expect("addr").port()
}

pub fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn fast() -> DriverOptions {
    DriverOptions {
        call_timeout: Duration::from_secs(20),
        attempt_timeout: Duration::from_millis(500),
        retries: 3,
    }
}

/// One simulated BMC and the directory holding its state files.
pub struct Sim {
    pub dir: tempfile::TempDir,
    pub ip: String,
    pub port: u16,
    pub proc: Proc,
}

impl Sim {
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_default()
            .trim()
            .to_string()
    }
    pub fn write(&self, name: &str, v: &str) {
        std::fs::write(self.dir.path().join(name), format!("{v}\n")).expect("write state");
    }
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }
}

/// ipmi_sim with a chassis_control program writing `power` (0/1) and `boot` files.
pub fn ipmi_sim() -> Sim {
    ipmi_sim_at(LOOPBACK)
}

/// ipmi_sim at `place` (inside a namespace: port 623 on the namespace's address).
pub fn ipmi_sim_at(place: Place) -> Sim {
    maas_lab::require_tools(&["ipmi_sim", "ipmitool"]).expect("tools");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let port = if place.ns.is_some() {
        623
    } else {
        free_udp_port()
    };
    let ip = place.ip;
    let script = sim_dir().join("chassis.sh");
    let lan = format!(
        "name \"node\"\nset_working_mc 0x20\n  startlan 1\n    addr {ip} {port}\n    priv_limit admin\n\
         allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n\
         allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n\
         guid a123456789abcdefa123456789abcd01\n  endlan\n  chassis_control \"{} {}\"\n\
         user 1 true  \"\"      \"test\"   user  10 none md2 md5 straight\n\
         user 2 true  \"admin\" \"secret\" admin 10 none md2 md5 straight\n\
         user 3 true  \"oper\"  \"opsecret\" operator 10 none md2 md5 straight\n",
        script.display(),
        d.display()
    );
    std::fs::write(d.join("lan.conf"), lan).expect("lan.conf");
    std::fs::write(
        d.join("bmc.emu"),
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
    )
    .expect("bmc.emu");
    std::fs::write(d.join("power"), "0\n").expect("power");
    let log = std::fs::File::create(d.join("ipmi_sim.log")).expect("log");
    let mut cmd = command(place, "ipmi_sim");
    cmd.args(["-n", "-c"])
        .arg(d.join("lan.conf"))
        .arg("-f")
        .arg(d.join("bmc.emu"))
        .arg("-s")
        .arg(d.join("state"))
        .current_dir(d)
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log));
    let proc = Proc::spawn(cmd).expect("ipmi_sim");
    let sim = Sim {
        dir,
        ip: ip.to_string(),
        port,
        proc,
    };
    wait_ipmi(&sim, place);
    sim
}

/// pyghmi's BMC (a second implementation); state files `power` (on/off) and `boot`.
pub fn pyghmi_sim() -> Sim {
    let py = format!("{VENV}/python");
    assert!(
        Path::new(&py).exists(),
        "{py} missing: .ci/requirements.txt installs pyghmi into /var/tmp/maas-venv"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_udp_port();
    let log = std::fs::File::create(dir.path().join("pyghmi.log")).expect("log");
    let mut cmd = Command::new(py);
    cmd.arg(sim_dir().join("pyghmi_bmc.py"))
        .arg(port.to_string())
        .arg(dir.path())
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log));
    let proc = Proc::spawn(cmd).expect("pyghmi");
    let sim = Sim {
        dir,
        ip: "127.0.0.1".into(),
        port,
        proc,
    };
    wait_ipmi(&sim, LOOPBACK);
    sim
}

fn wait_ipmi(sim: &Sim, place: Place) {
    let started = Instant::now();
    let p = params(&[
        ("power_address", &sim.address()),
        ("power_user", "admin"),
        ("power_pass", "secret"),
    ]);
    let opts = DriverOptions {
        call_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_millis(200),
        retries: 1,
    };
    let d = driver_for_with("ipmi", &p, opts).expect("driver");
    // On a thread of its own (callers may be inside a tokio runtime), in the
    // simulator's namespace when it has one.
    let probe = move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        while started.elapsed() < Duration::from_secs(15) {
            if rt.block_on(d.query()).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    let up = match place.ns {
        Some(ns) => ns.spawn(probe).expect("thread in namespace"),
        None => std::thread::spawn(probe),
    };
    if up.join().unwrap_or(false) {
        return;
    }
    panic!(
        "simulator on port {} did not answer in 15 s; see {}",
        sim.port,
        sim.dir.path().display()
    );
}

/// sushy-emulator with the fake driver and basic auth admin/secret; one system, Off.
pub fn sushy() -> Sim {
    let bin = format!("{VENV}/sushy-emulator");
    assert!(
        Path::new(&bin).exists(),
        "{bin} missing: .ci/requirements.txt installs sushy-tools"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let port = free_tcp_port();
    std::fs::write(
        d.join("htpasswd"),
        "admin:$2b$05$haXH6a1NLFcG0iC1SInaZOoUjVbgBWA5b5VHJ9mPdqyKQLq6DuajS\n",
    )
    .expect("htpasswd");
    let conf = format!(
        "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\nSUSHY_EMULATOR_LISTEN_PORT = {port}\nSUSHY_EMULATOR_FAKE_DRIVER = True\n\
         SUSHY_EMULATOR_AUTH_FILE = '{}'\nSUSHY_EMULATOR_STATE_DIR = '{}'\n\
         SUSHY_EMULATOR_FAKE_SYSTEMS = [{{'uuid': '5e6c0c2a-0000-4000-8000-000000000002', 'name': 'node2', \
         'power_state': 'Off', 'external_notifier': False, 'nics': [{{'mac': '52:54:00:01:00:02', 'ip': '10.201.1.142'}}]}}]\n",
        d.join("htpasswd").display(),
        d.join("state").display()
    );
    std::fs::write(d.join("sushy.conf"), conf).expect("conf");
    let log = std::fs::File::create(d.join("sushy.log")).expect("log");
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(d.join("sushy.conf"))
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log));
    let proc = Proc::spawn(cmd).expect("sushy-emulator");
    let sim = Sim {
        dir,
        ip: "127.0.0.1".into(),
        port,
        proc,
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return sim;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "sushy-emulator did not listen in 20 s; see {}",
        sim.dir.path().display()
    );
}

/// ipmitool against a simulator (a cross-check of what our client set).
pub fn ipmitool(sim: &Sim, args: &[&str]) -> String {
    let out = Command::new("ipmitool")
        .args([
            "-I",
            "lanplus",
            "-C",
            "3",
            "-H",
            "127.0.0.1",
            "-p",
            &sim.port.to_string(),
            "-U",
            "admin",
            "-P",
            "secret",
        ])
        .args(args)
        .output()
        .expect("ipmitool");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

pub fn ipmi_driver(sim: &Sim, extra: &[(&str, &str)]) -> Box<dyn PowerDriver> {
    let addr = sim.address();
    let mut p = params(&[
        ("power_address", &addr),
        ("power_user", "admin"),
        ("power_pass", "secret"),
    ]);
    for (k, v) in extra {
        p.insert(k.to_string(), v.to_string());
    }
    driver_for_with("ipmi", &p, fast()).expect("driver")
}
