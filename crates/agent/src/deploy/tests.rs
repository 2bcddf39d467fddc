use super::*;
use std::io::Cursor;

fn image(data: &[u8], filetype: &str) -> Image {
    Image {
        url: "/images/x".into(),
        filetype: filetype.into(),
        sha256: hex::encode(Sha256::digest(data)),
        size: data.len() as u64,
    }
}

fn raw_disk() -> Vec<u8> {
    (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn raw_image_written_and_checked() {
    let data = raw_disk();
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let n = write_image(
        Cursor::new(&data),
        &image(&data, "root-dd.raw"),
        &mut out,
        &mut |p| seen.push(p),
    )
    .unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(out, data);
    assert_eq!(seen.last(), Some(&100));
    assert!(seen.len() >= 2, "progress in steps: {seen:?}");
}

#[test]
fn gz_image_decompressed_and_checked_on_the_download() {
    let data = raw_disk();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let gz = gz.finish().unwrap();
    // The disk is a temp file, as in the agent.
    let p = std::env::temp_dir().join(format!("maas-agent-img-{}", std::process::id()));
    let mut f = std::fs::File::create(&p).unwrap();
    write_image(
        Cursor::new(&gz),
        &image(&gz, "root-dd.gz"),
        &mut f,
        &mut |_| {},
    )
    .unwrap();
    drop(f);
    assert_eq!(std::fs::read(&p).unwrap(), data);
    std::fs::remove_file(p).unwrap();
}

#[test]
fn a_disk_image_wrapped_in_a_tar_is_unwrapped() {
    let data = raw_disk();
    let tar_of = |name: &str| {
        let mut b = tar::Builder::new(Vec::new());
        let mut d = tar::Header::new_gnu();
        d.set_entry_type(tar::EntryType::Directory);
        d.set_size(0);
        d.set_mode(0o755);
        d.set_cksum();
        b.append_data(&mut d, "images/", &[][..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
        b.into_inner().unwrap()
    };
    // ddtar: the tar as is.
    let t = tar_of("images/root.img");
    let mut out = Vec::new();
    write_image(
        Cursor::new(&t),
        &image(&t, "root-dd.tar"),
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out, data);
    // ddtgz (stored as root-dd): gzip'ed, the checksum of what was downloaded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&t).unwrap();
    let gz = gz.finish().unwrap();
    let mut out = Vec::new();
    write_image(
        Cursor::new(&gz),
        &image(&gz, "root-dd"),
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out, data);
    // A tar with no file in it is an error, not an empty disk.
    let mut b = tar::Builder::new(Vec::new());
    let mut d = tar::Header::new_gnu();
    d.set_entry_type(tar::EntryType::Directory);
    d.set_size(0);
    d.set_cksum();
    b.append_data(&mut d, "empty/", &[][..]).unwrap();
    let empty = b.into_inner().unwrap();
    let e = write_image(
        Cursor::new(&empty),
        &image(&empty, "root-dd.tar"),
        &mut Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no file"), "{e}");
}

#[test]
fn bzip2_and_xz_wrapped_images() {
    let data = raw_disk();
    let bz = |b: &[u8]| {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    let mut t = tar::Builder::new(Vec::new());
    t.append_data(&mut h, "root.img", &data[..]).unwrap();
    let t = t.into_inner().unwrap();
    let mut txz = Vec::new();
    lzma_rs::xz_compress(&mut Cursor::new(&t), &mut txz).unwrap();
    // ddbz2 (two bzip2 streams back to back, as pbzip2 makes), ddtbz, ddtxz.
    let mut two = bz(&data[..1_000_000]);
    two.extend(bz(&data[1_000_000..]));
    for (bytes, ft) in [
        (two, "root-dd.bz2"),
        (bz(&t), "root-dd.tar.bz2"),
        (txz, "root-dd.tar.xz"),
    ] {
        let mut out = Vec::new();
        let n = write_image(
            Cursor::new(&bytes),
            &image(&bytes, ft),
            &mut out,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{ft}: {e:#}"));
        assert_eq!((n, out == data), (data.len() as u64, true), "{ft}");
        // Cut short: an error, never a short disk reported as written.
        let cut = &bytes[..bytes.len() / 2];
        let r = write_image(
            Cursor::new(cut),
            &image(cut, ft),
            &mut Vec::new(),
            &mut |_| {},
        );
        assert!(r.is_err(), "{ft} cut short was accepted");
    }
}

#[test]
fn xz_image() {
    let data = raw_disk();
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut Cursor::new(&data), &mut xz).unwrap();
    let mut out = Vec::new();
    write_image(
        Cursor::new(&xz),
        &image(&xz, "root-dd.xz"),
        &mut out,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out, data);
}

#[test]
fn bad_checksum_size_and_type_fail() {
    let data = raw_disk();
    let mut img = image(&data, "root-dd.raw");
    img.sha256 = "00".repeat(32);
    let e = write_image(Cursor::new(&data), &img, &mut Vec::new(), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("sha256 mismatch"), "{e}");
    let mut img = image(&data, "root-dd.raw");
    img.size += 1;
    let e = write_image(Cursor::new(&data), &img, &mut Vec::new(), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("size mismatch"), "{e}");
    let e = write_image(
        Cursor::new(&data),
        &image(&data, "root-tgz"),
        &mut Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("unsupported image type"), "{e}");
    let e = write_image(
        Cursor::new(&data),
        &image(&data, "root-dd.gz"),
        &mut Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("gzip"), "{e}");
}

#[test]
fn target_files_carry_the_datasource() {
    let dir = std::env::temp_dir().join(format!("maas-agent-target-{}", std::process::id()));
    let task = serde_json::json!({
        "purpose": "deploying", "hostname": "node7", "system_id": "abc123",
        "deploy": {
            "network": {"ethernets": {"eth0": {"match": {"macaddress": "52:54:00:00:00:01"}, "dhcp4": true}}},
            "datasource": {"metadata_url": "http://10.0.0.1:5248/MAAS/metadata/",
                           "consumer_key": "ck", "token_key": "tk", "token_secret": "ts"}
        }
    });
    write_target_files(&dir, &task).unwrap();
    let cfg = std::fs::read_to_string(dir.join("etc/cloud/cloud.cfg.d/90_dpkg_maas.cfg")).unwrap();
    assert!(cfg.contains("datasource_list: [MAAS]"));
    // cloud-init's webhook reporter, with the same token, to the
    // machine's own status endpoint.
    let rep = cfg.split_once("\nreporting:\n").unwrap().1;
    assert!(rep.starts_with("  maas:\n    type: webhook\n"), "{cfg}");
    assert!(
        rep.contains("endpoint: \"http://10.0.0.1:5248/MAAS/metadata/status/abc123\"\n"),
        "{cfg}"
    );
    assert!(rep.contains("    token_secret: \"ts\"\n"), "{cfg}");
    let p = crate::preseed::parse(&cfg).unwrap();
    assert_eq!(p.creds, crate::cmdline::Creds::parse("ck:tk:ts").unwrap());
    assert_eq!(
        p.metadata_url.as_deref(),
        Some("http://10.0.0.1:5248/MAAS/metadata/")
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("etc/hostname")).unwrap(),
        "node7\n"
    );
    let np = std::fs::read_to_string(dir.join("etc/netplan/50-maas.yaml")).unwrap();
    let body: Value = serde_json::from_str(np.split_once('\n').unwrap().1).unwrap();
    assert_eq!(body["network"]["version"], 2);
    assert_eq!(body["network"]["ethernets"]["eth0"]["dhcp4"], true);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn disk_choice() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qemu-vm");
    let t = serde_json::json!({"deploy": {"disk": {"name": "sdz", "serial": "disk-serial-1"}}});
    assert_eq!(pick_disk(&root, &t).unwrap(), "vda");
    let t = serde_json::json!({"deploy": {"disk": {"name": "sdz"}}});
    assert_eq!(pick_disk(&root, &t).unwrap(), "sdz");
    assert_eq!(pick_disk(&root, &serde_json::json!({})).unwrap(), "sda");
}

#[test]
fn a_task_without_an_image_names_what_is_missing() {
    let t = serde_json::json!({"deploy": {"osystem": "custom", "distro_series": "tiny", "image": null}});
    let e = Image::from_task(&t).unwrap_err();
    assert!(e.to_string().contains("no image for custom/tiny"), "{e}");
}

/// A download that stops after `left` bytes as a closed connection does.
struct CutOff<'a> {
    data: &'a [u8],
    left: usize,
}

impl Read for CutOff<'_> {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body shorter than its content-length",
            ));
        }
        let n = b.len().min(self.left).min(self.data.len());
        b[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_cut_download_is_worth_retrying_a_bad_image_is_not() {
    let data = raw_disk();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&data).unwrap();
    let gz = gz.finish().unwrap();
    for (bytes, ft) in [(&data, "root-dd.raw"), (&gz, "root-dd.gz")] {
        let cut = CutOff {
            data: bytes,
            left: bytes.len() / 3,
        };
        let e = write_image(
            BufReader::new(cut),
            &image(bytes, ft),
            &mut Vec::new(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(stream_broken(&e), "{ft}: {e:#}");
    }
    let mut img = image(&data, "root-dd.raw");
    img.sha256 = "00".repeat(32);
    let e = write_image(Cursor::new(&data), &img, &mut Vec::new(), &mut |_| {}).unwrap_err();
    assert!(!stream_broken(&e), "{e:#}");
    let e = write_image(
        Cursor::new(&data),
        &image(&data, "root-dd.gz"),
        &mut Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(!stream_broken(&e), "{e:#}");
    let disk_full = anyhow::Error::from(io::Error::other("No space left on device"));
    assert!(!stream_broken(&disk_full));
}

mod data_disks;
mod tarball_images;
