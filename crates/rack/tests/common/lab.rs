//! The lifecycle lab: a region, a [`Datacenter`] namespace whose qemu
//! machines have ipmi_sim BMCs, and a rack in that namespace serving the
//! ephemeral environment and the tiny image (`deploy/build-ephemeral`,
//! `deploy/build-tiny-image`) uploaded through the API. Shared by
//! `lifecycle.rs` and `lifecycle_failures.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maas_lab::{Datacenter, Firmware, MachineSpec};
use maas_testkit::proc::Proc;
use maas_testkit::{Api, TestRegion};
use sha2::{Digest, Sha256};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run a build script (they cache their outputs); its output directory.
pub fn build(script: &str, out: &Path) -> PathBuf {
    let st = Command::new("bash")
        .arg(repo().join("deploy").join(script))
        .arg("--agent")
        .arg(agent())
        .arg("--out")
        .arg(out)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(st.success(), "deploy/{script} failed");
    out.to_path_buf()
}

/// The ephemeral environment and the tiny image, built (or cached).
pub fn images() -> (PathBuf, PathBuf) {
    maas_lab::require_tools(&["qemu-system-x86_64", "ipmi_sim", "dnsmasq"]).unwrap();
    let eph = build(
        "build-ephemeral",
        Path::new("/var/tmp/maas-images/lab-ephemeral"),
    );
    let tiny = build(
        "build-tiny-image",
        Path::new("/var/tmp/maas-images/lab-tiny"),
    );
    (eph, tiny)
}

/// The agent binary the workspace build put beside maas-rack.
pub fn agent() -> PathBuf {
    let a = Path::new(env!("CARGO_BIN_EXE_maas-rack")).with_file_name("maas-agent");
    assert!(
        a.exists(),
        "{} is missing: build the workspace (cargo build --workspace --bins)",
        a.display()
    );
    a
}

/// Upload a file as a boot resource (multipart `content`, as the CLI's
/// `content@=FILE` does).
pub async fn upload(api: &Api, fields: &[(&str, &str)], file: &Path) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let bytes = std::fs::read(file).unwrap();
    form = form.part(
        "content",
        reqwest::multipart::Part::bytes(bytes).file_name("content"),
    );
    let (st, e) = api
        .send(api.http.post(api.url("boot-resources/")).multipart(form))
        .await;
    assert!(st == 200 || st == 201, "upload {fields:?}: {st} {e}");
}

pub struct Lab {
    pub r: TestRegion,
    pub dc: Datacenter,
    pub rack: Proc,
    pub secret: String,
    pub prefix: String,
    _fwd: Vec<maas_lab::Forward>,
    pub tmp: maas_testkit::tempdir::Dir,
}

impl Lab {
    pub async fn start(prefix: &str) -> Lab {
        Lab::start_with(prefix, |_| {}).await
    }

    /// With the region's options tuned (e.g. a fast status monitor).
    pub async fn start_with(
        prefix: &str,
        tune: impl FnOnce(&mut maas_region::region::Options),
    ) -> Lab {
        let (r, secret, _) = TestRegion::with_racks(tune).await;
        let running = r.running.as_ref().unwrap();
        let tmp = maas_testkit::tempdir::Dir::new();
        let dc = Datacenter::new(prefix, &tmp.0.join("dc"), true).unwrap();
        let fwd = vec![
            dc.ns
                .forward_tcp("127.0.0.1:5250".parse().unwrap(), running.rpc_addr.unwrap())
                .unwrap(),
            dc.ns
                .forward_tcp("127.0.0.1:5240".parse().unwrap(), running.addr)
                .unwrap(),
        ];
        // Machines reach the metadata API through the rack, which proxies
        // to the region at maas_url.
        for (name, value) in [
            ("maas_url", "http://127.0.0.1:5240/MAAS"),
            ("kernel_opts", "console=ttyS0"),
        ] {
            let (st, e) = r
                .admin
                .op("maas/", "set_config", &[("name", name), ("value", value)])
                .await;
            assert_eq!(st, 200, "{e}");
        }
        let rack = Proc::spawn(
            super::rack_cmd(&dc.ns, &tmp.0.join("rack"), &secret, prefix),
            "rack local endpoint listening",
        );
        assert!(
            !rack.addr.is_empty(),
            "rack did not start: {}",
            rack.log_text()
        );
        let lab = Lab {
            r,
            dc,
            rack,
            secret,
            prefix: prefix.to_string(),
            _fwd: fwd,
            tmp,
        };
        lab.serve_dhcp(prefix).await;
        lab
    }

    /// The rack's data directory (identity, images).
    pub fn rack_dir(&self) -> PathBuf {
        self.tmp.0.join("rack")
    }

    /// SIGKILL the rack (no clean shutdown), then start it again on the
    /// same data directory.
    pub fn restart_rack(&mut self) {
        self.rack.kill9();
        let old = self.rack.log_text();
        self.rack = Proc::spawn(
            super::rack_cmd(&self.dc.ns, &self.rack_dir(), &self.secret, &self.prefix),
            "rack local endpoint listening",
        );
        assert!(
            !self.rack.addr.is_empty(),
            "the rack did not start again: {}\nbefore:\n{}",
            self.rack.log_text(),
            tail(&old, 30)
        );
    }

    /// A dynamic range and DHCP on the rack's VLAN, through the API.
    async fn serve_dhcp(&self, prefix: &str) {
        let (rack_id, subnet) =
            super::rack_and_subnet(&self.r, prefix, || self.rack.log_text()).await;
        super::serve_dhcp(&self.r, prefix, &subnet, &rack_id).await;
    }

    /// Wait until the rack has every uploaded image (which also means it
    /// applied the snapshot that turned DHCP on: images came after).
    pub async fn wait_synced(&self, images: usize) {
        let t0 = Instant::now();
        loop {
            let (_, racks) = self.r.admin.get("rackcontrollers/", &[]).await;
            let synced = racks[0]["service_set"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["name"] == "images")
                .filter_map(|s| match &s["status_info"] {
                    serde_json::Value::String(t) => serde_json::from_str(t).ok(),
                    v => Some(v.clone()),
                })
                .any(|i| i["state"] == "synced" && i["images"] == images);
            if synced {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "the rack did not sync {images} images: {}\n{}",
                racks[0]["service_set"],
                tail(&self.rack.log_text(), 30)
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub fn report(&self, n: usize) -> String {
        format!(
            "console:\n{}\nrack:\n{}",
            tail(&self.dc.machines[n].console(), 60),
            tail(&self.rack.log_text(), 40)
        )
    }

    /// The machine's API view.
    pub async fn machine(&self, sid: &str) -> serde_json::Value {
        let (st, m) = self.r.admin.get(&format!("machines/{sid}/"), &[]).await;
        assert_eq!(st, 200, "{m}");
        m
    }

    /// Wait until the machine `sid` reaches `status` (the API's status
    /// name), failing early on another failed status.
    pub async fn wait_status(
        &self,
        n: usize,
        sid: &str,
        status: &str,
        limit: Duration,
    ) -> Duration {
        let t0 = Instant::now();
        loop {
            let m = self.machine(sid).await;
            let name = m["status_name"].as_str().unwrap_or("");
            if name == status {
                return t0.elapsed();
            }
            assert!(
                !name.starts_with("Failed"),
                "{sid} failed on the way to {status}: {} \n{}",
                m["status_message"],
                self.report(n)
            );
            assert!(
                t0.elapsed() < limit,
                "{sid} is {name}, not {status}, after {limit:?}\n{}",
                self.report(n)
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Wait until machine `n`'s console shows `marker` (after `skip`
    /// bytes: earlier boots).
    pub async fn wait_console(&self, n: usize, skip: usize, marker: &str, limit: Duration) {
        let t0 = Instant::now();
        loop {
            let c = self.dc.machines[n].console();
            if c.get(skip.min(c.len())..)
                .is_some_and(|s| s.contains(marker))
            {
                return;
            }
            assert!(
                t0.elapsed() < limit,
                "no {marker:?} on the console after {limit:?}\n{}",
                self.report(n)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Wait until machine `n`'s qemu process is gone (its BMC killed it).
    pub async fn wait_powered_off(&self, n: usize, limit: Duration) {
        let t0 = Instant::now();
        while self.dc.machines[n].running() {
            assert!(
                t0.elapsed() < limit,
                "machine {n} still runs after {limit:?}\n{}",
                self.report(n)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Add a 1-CPU BIOS machine with a 256 MiB disk; its index.
    pub fn add_small_machine(&mut self, name: &str, mac: &str) -> usize {
        self.dc
            .add_machine(MachineSpec {
                name: name.into(),
                mac: mac.into(),
                cpus: 1,
                memory_mb: 512,
                disk_mb: 256,
                data_disks_mb: vec![],
                extra_nics: vec![],
                firmware: Firmware::Bios,
            })
            .unwrap()
    }

    /// Create machine `n` through the API with its MAC and its BMC (as an
    /// operator does); `commission` starts commissioning at once. Its
    /// system id.
    pub async fn create_with_bmc(&self, n: usize, commission: bool) -> String {
        let m = &self.dc.machines[n];
        let mut form: Vec<(String, String)> = m.power_parameters();
        form.extend([
            ("hostname".into(), m.spec.name.clone()),
            ("architecture".into(), "amd64/generic".into()),
            ("mac_addresses".into(), m.spec.mac.clone()),
            ("commission".into(), commission.to_string()),
        ]);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (st, v) = self.r.admin.post("machines/", &form).await;
        assert_eq!(st, 200, "{v}");
        v["system_id"].as_str().unwrap().to_string()
    }

    /// Wait until machine `n` is off after commissioning, then give its
    /// record the BMC (as an operator does after enlistment).
    pub async fn give_bmc(&self, n: usize, sid: &str) {
        self.wait_powered_off(n, Duration::from_secs(60)).await;
        let params = self.dc.machines[n].power_parameters();
        let form: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (st, e) = self.r.admin.put(&format!("machines/{sid}/"), &form).await;
        assert_eq!(st, 200, "{e}");
    }

    /// Fill the start of machine `n`'s 256 MiB disk with 0xa5, so an erase
    /// has something to remove.
    pub fn scribble_disk(&self, n: usize) {
        let disk = self.dc.machines[n].disk();
        std::fs::write(&disk, vec![0xa5u8; 4 << 20]).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&disk).unwrap();
        f.set_len(256 << 20).unwrap();
    }

    /// `op` on a machine, which must succeed.
    pub async fn act(&self, sid: &str, op: &str, form: &[(&str, &str)]) {
        let (st, e) = self.r.admin.op(&format!("machines/{sid}/"), op, form).await;
        assert_eq!(st, 200, "{op} {sid}: {e}");
    }
}

/// Script result `name` of machine `sid` among its results of `kind`
/// (`commissioning`, `installation`, …), and its output as text.
pub async fn script_result(
    lab: &Lab,
    sid: &str,
    kind: &str,
    name: &str,
) -> (serde_json::Value, String) {
    use base64::Engine;
    let (st, sets) = lab
        .r
        .admin
        .get(
            &format!("nodes/{sid}/results/"),
            &[("type", kind), ("include_output", "true")],
        )
        .await;
    assert_eq!(st, 200, "{sets}");
    let res = sets
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["results"].as_array().unwrap().iter())
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {sets}"))
        .clone();
    let out = base64::engine::general_purpose::STANDARD
        .decode(res["output"].as_str().unwrap_or_default())
        .unwrap();
    (res, String::from_utf8_lossy(&out).into_owned())
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The machine the region created for `mac` (enlistment), once it exists.
pub async fn enlisted(lab: &Lab, n: usize, mac: &str) -> String {
    let t0 = Instant::now();
    loop {
        let (_, ms) = lab.r.admin.get("machines/", &[("mac_address", mac)]).await;
        if let Some(sid) = ms[0]["system_id"].as_str() {
            return sid.to_string();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(180),
            "{mac} never enlisted\n{}",
            lab.report(n)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A lab whose region has the ephemeral environment and the tiny image
/// (uploaded through the API) and whose rack has synced them.
pub async fn lab_with_images(p: &str, eph: &Path, tiny: &Path) -> Lab {
    lab_with_images_tuned(p, eph, tiny, |_| {}).await
}

pub async fn lab_with_images_tuned(
    p: &str,
    eph: &Path,
    tiny: &Path,
    tune: impl FnOnce(&mut maas_region::region::Options),
) -> Lab {
    let lab = Lab::start_with(p, tune).await;
    // The ephemeral environment and the image go in through the API; the
    // rack syncs them from the region and serves them.
    for (ft, file) in [("boot-kernel", "kernel"), ("boot-initrd", "initrd")] {
        upload(
            &lab.r.admin,
            &[
                ("name", "ephemeral"),
                ("architecture", "amd64/generic"),
                ("filetype", ft),
            ],
            &eph.join(file),
        )
        .await;
    }
    upload(
        &lab.r.admin,
        &[
            ("name", "custom/tiny"),
            ("title", "Tiny lab OS"),
            ("architecture", "amd64/generic"),
            ("filetype", "ddgz"),
        ],
        &tiny.join("root-dd.raw.gz"),
    )
    .await;
    lab.wait_synced(3).await;
    lab
}
