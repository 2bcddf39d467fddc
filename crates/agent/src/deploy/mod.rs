//! Deployment: stream the image from the rack onto the boot disk (raw, gz
//! or xz; the sha256 and size of what was downloaded are checked), re-read
//! the partition table, and write the cloud-init datasource, hostname and
//! netplan files into the root partition.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub mod data_disks;
pub mod layout;
pub mod tarball;

/// Counts and hashes what passes through.
struct Tee<R> {
    r: R,
    hash: Sha256,
    n: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.hash.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
}

/// Counts what is written and reports progress by the downloaded share.
struct Progress<'a, W> {
    w: W,
    written: u64,
    report: &'a mut dyn FnMut(u64),
}

impl<W: Write> Write for Progress<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.written += n as u64;
        (self.report)(self.written);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// What the image is (`deploy.image` of the task).
#[derive(Debug, Clone)]
pub struct Image {
    pub url: String,
    pub filetype: String,
    pub sha256: String,
    pub size: u64,
}

impl Image {
    pub fn from_task(task: &Value) -> Result<Image> {
        let i = task
            .pointer("/deploy/image")
            .filter(|i| i.is_object())
            .with_context(|| {
                let os = task.pointer("/deploy/osystem").and_then(Value::as_str);
                let series = task
                    .pointer("/deploy/distro_series")
                    .and_then(Value::as_str);
                format!(
                    "the region has no image for {}/{}",
                    os.unwrap_or("?"),
                    series.unwrap_or("?")
                )
            })?;
        let s = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Ok(Image {
            url: s("url"),
            filetype: s("filetype"),
            sha256: s("sha256").to_ascii_lowercase(),
            size: i.get("size").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

/// Write the image `src` (as downloaded) to `out`, decompressing by
/// `filetype`; `progress` gets percent of the download. Returns bytes written.
pub fn write_image(
    src: impl Read + Send,
    img: &Image,
    out: &mut impl Write,
    progress: &mut dyn FnMut(u32),
) -> Result<u64> {
    let total = img.size.max(1);
    let mut tee = Tee {
        r: src,
        hash: Sha256::new(),
        n: 0,
    };
    let mut last = 0u32;
    // Progress follows the bytes downloaded (read through the tee) as
    // seen after each write.
    let seen = std::sync::atomic::AtomicU64::new(0);
    let mut report = |_w: u64| {
        let got = seen.load(std::sync::atomic::Ordering::Relaxed);
        let pct = (got.saturating_mul(100) / total).min(100) as u32;
        if pct / 10 > last / 10 {
            last = pct;
            progress(pct);
        }
    };
    struct Seen<'a, R> {
        t: &'a mut Tee<R>,
        seen: &'a std::sync::atomic::AtomicU64,
    }
    impl<R: Read> Read for Seen<'_, R> {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            let n = self.t.read(b)?;
            self.seen
                .store(self.t.n, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }
    let reader = BufReader::with_capacity(
        1 << 20,
        Seen {
            t: &mut tee,
            seen: &seen,
        },
    );
    let mut w = Progress {
        w: out,
        written: 0,
        report: &mut report,
    };
    let written = match img.filetype.as_str() {
        "root-dd.raw" | "root-dd.img" => copy(reader, &mut w)?,
        // MAAS's `ddtgz` upload: a gzip'ed tar holding the disk image
        // (curtin's dd-tgz); `ddtar`: the same without gzip.
        "root-dd" => copy_first_file(flate2::bufread::GzDecoder::new(reader), &mut w)?,
        "root-dd.tar" => copy_first_file(reader, &mut w)?,
        "root-dd.gz" => {
            copy(flate2::bufread::GzDecoder::new(reader), &mut w).context("gzip stream")?
        }
        "root-dd.xz" => {
            let mut r = reader;
            lzma_rs::xz_decompress(&mut r, &mut w)
                .map_err(|e| anyhow::anyhow!("xz stream: {e:?}"))?;
            w.written
        }
        "root-dd.bz2" => {
            copy(bzip2::bufread::MultiBzDecoder::new(reader), &mut w).context("bzip2 stream")?
        }
        "root-dd.tar.bz2" => copy_first_file(bzip2::bufread::MultiBzDecoder::new(reader), &mut w)?,
        "root-dd.tar.xz" => with_xz(reader, |r| copy_first_file(r, &mut w))?,
        other => bail!(
            "unsupported image type '{other}' (this agent writes root-dd.raw, root-dd.gz, root-dd.xz, root-dd.bz2, root-dd (tar.gz), root-dd.tar, root-dd.tar.xz and root-dd.tar.bz2 disk images and root-tgz, root-txz, root-tbz and root-tar tarballs)"
        ),
    };
    w.flush()?;
    tee.finish(img)?;
    Ok(written)
}

impl<R: Read> Tee<R> {
    /// Read what is left (a decompressor or the tar reader may stop before
    /// the stream's end: it still counts) and check the download's size and
    /// sha256 against the image's.
    fn finish(mut self, img: &Image) -> Result<u64> {
        io::copy(&mut self, &mut io::sink())?;
        let got = hex::encode(self.hash.finalize());
        if img.size != 0 && self.n != img.size {
            bail!(
                "image size mismatch: got {} bytes, expected {}",
                self.n,
                img.size
            );
        }
        if !img.sha256.is_empty() && got != img.sha256 {
            bail!("image sha256 mismatch: got {got}, expected {}", img.sha256);
        }
        Ok(self.n)
    }
}

/// `consume` reading the xz-decompressed `reader`. lzma-rs writes what it
/// decompresses, so it runs on a thread beside `consume`, through a pipe;
/// when `consume` returns, the pipe's read end goes, and a decompressor
/// still writing stops on the broken pipe.
pub(crate) fn with_xz<T>(
    mut reader: impl io::BufRead + Send,
    consume: impl FnOnce(io::PipeReader) -> Result<T>,
) -> Result<T> {
    let (pr, mut pw) = io::pipe()?;
    std::thread::scope(|s| {
        let xz = s.spawn(move || lzma_rs::xz_decompress(&mut reader, &mut pw));
        let out = consume(pr);
        let xz = xz
            .join()
            .map_err(|_| anyhow::anyhow!("the xz decompressor panicked"))?;
        match xz {
            Err(lzma_rs::error::Error::IoError(e)) if e.kind() == io::ErrorKind::BrokenPipe => out,
            Err(e) => bail!("xz stream: {e:?}"),
            Ok(()) => out,
        }
    })
}

/// The first regular file of a tar stream, written to `w`.
fn copy_first_file(r: impl Read, w: &mut impl Write) -> Result<u64> {
    let mut a = tar::Archive::new(r);
    for e in a.entries().context("read the image's tar")? {
        let e = e.context("read the image's tar")?;
        if e.header().entry_type().is_file() {
            return copy(e, w);
        }
    }
    bail!("the image's tar holds no file")
}

fn copy(mut r: impl Read, w: &mut impl Write) -> Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
}

/// The boot disk the task names (by name, serial or id_path), else the
/// first disk the inventory finds.
/// Whether `e` is the image's download being cut off (the rack restarted,
/// the connection dropped) rather than a bad image or a failing disk: such
/// a write is worth doing again from the start.
pub fn stream_broken(e: &anyhow::Error) -> bool {
    use io::ErrorKind::*;
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| {
            matches!(
                io.kind(),
                UnexpectedEof
                    | ConnectionReset
                    | ConnectionAborted
                    | BrokenPipe
                    | TimedOut
                    | WouldBlock
                    | NotConnected
            )
        })
}

/// The boot disk the task names (`deploy.disk`), else the first disk.
pub fn pick_disk(root: &Path, task: &Value) -> Result<String> {
    let disks = crate::inventory::disks(root);
    if let Some(want) = task.pointer("/deploy/disk") {
        if let Some(d) = find_disk(&disks, want) {
            return Ok(d);
        }
        // A name the inventory does not list is still the region's choice.
        if let Some(name) = want
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            return Ok(name.to_string());
        }
    }
    disks
        .first()
        .map(|d| d.name.clone())
        .context("no disk to deploy to")
}

/// The disk the region names in `want`: by serial, then id_path, then
/// name (the kernel's names can change between boots; serials do not).
pub fn find_disk(disks: &[crate::inventory::Disk], want: &Value) -> Option<String> {
    let s = |k: &str| {
        want.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(serial) = s("serial")
        && let Some(d) = disks.iter().find(|d| d.serial == serial)
    {
        return Some(d.name.clone());
    }
    if let Some(idp) = s("id_path")
        && let Some(d) = disks.iter().find(|d| d.id_path.as_deref() == Some(idp))
    {
        return Some(d.name.clone());
    }
    let name = s("name")?;
    disks
        .iter()
        .any(|d| d.name == name)
        .then(|| name.to_string())
}

/// The partitions of `disk` by size, largest first (from /sys/block).
pub fn partitions(root: &Path, disk: &str) -> Vec<(String, u64)> {
    let dir = root.join("sys/block").join(disk);
    let mut out: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("partition").exists())
        .map(|e| {
            let size = crate::inventory::read_trim(&e.path().join("size"))
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            (e.file_name().to_string_lossy().into_owned(), size * 512)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// YAML double-quoted scalar.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Write the cloud-init files into the mounted root at `target`.
pub fn write_target_files(target: &Path, task: &Value) -> Result<Vec<PathBuf>> {
    let ds = task
        .pointer("/deploy/datasource")
        .cloned()
        .unwrap_or(Value::Null);
    let g = |k: &str| ds.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let creds = format!(
        "consumer_key: {}\n    token_key: {}\n    token_secret: {}\n",
        q(&g("consumer_key")),
        q(&g("token_key")),
        q(&g("token_secret"))
    );
    let url = g("metadata_url");
    let sid = task.get("system_id").and_then(Value::as_str).unwrap_or("");
    // cloud-init's MAAS datasource reads its instance data with the token;
    // its webhook reporter posts each stage's start and finish to the
    // machine's status endpoint, as MAAS's curtin configures it.
    let status_url = format!("{}/status/{sid}", url.trim_end_matches('/'));
    let cfg = format!(
        "# Written by maas-agent at deployment.\ndatasource_list: [MAAS]\ndatasource:\n  MAAS:\n    metadata_url: {}\n    {creds}reporting:\n  maas:\n    type: webhook\n    endpoint: {}\n    {creds}",
        q(&url),
        q(&status_url),
    );
    let hostname = task.get("hostname").and_then(Value::as_str).unwrap_or("");
    let mut net = serde_json::Map::new();
    net.insert("version".into(), Value::from(2));
    if let Some(Value::Object(n)) = task.pointer("/deploy/network") {
        for (k, v) in n {
            net.insert(k.clone(), v.clone());
        }
    }
    // JSON is YAML: netplan reads it as is.
    let netplan = format!(
        "# Written by maas-agent at deployment.\n{}\n",
        serde_json::to_string_pretty(&serde_json::json!({ "network": net }))?
    );
    let files = [
        ("etc/cloud/cloud.cfg.d/90_dpkg_maas.cfg", cfg),
        ("etc/hostname", format!("{hostname}\n")),
        ("etc/netplan/50-maas.yaml", netplan),
    ];
    let mut out = Vec::new();
    for (rel, text) in files {
        let p = target.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("mkdir {}", d.display()))?;
        }
        std::fs::write(&p, text).with_context(|| format!("write {}", p.display()))?;
        out.push(p);
    }
    Ok(out)
}

/// Ask the kernel to re-read a disk's partition table (BLKRRPART).
pub fn reread_partitions(dev: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(dev).with_context(|| format!("open {}", dev.display()))?;
    // BLKRRPART = _IO(0x12, 95)
    let r = unsafe { libc::ioctl(f.as_raw_fd(), 0x125f as _) };
    if r != 0 {
        bail!(
            "BLKRRPART on {}: {}",
            dev.display(),
            io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Mount `dev` at `dir` as the first filesystem type that works (for up
/// to 5 s while the device node appears).
pub fn mount_any(dev: &Path, dir: &Path) -> Result<&'static str> {
    use std::ffi::CString;
    std::fs::create_dir_all(dir)?;
    let d = CString::new(dev.as_os_str().as_encoded_bytes())?;
    let m = CString::new(dir.as_os_str().as_encoded_bytes())?;
    let mut errors = Vec::new();
    for _ in 0..25 {
        errors.clear();
        for fs in ["ext4", "vfat", "ext3", "ext2", "xfs", "btrfs"] {
            let t = CString::new(fs)?;
            // SAFETY: valid C strings; no data argument.
            let r = unsafe { libc::mount(d.as_ptr(), m.as_ptr(), t.as_ptr(), 0, std::ptr::null()) };
            if r == 0 {
                return Ok(fs);
            }
            errors.push(format!("{fs}: {}", io::Error::last_os_error()));
        }
        if dev.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    bail!("could not mount {} ({})", dev.display(), errors.join("; "))
}

pub fn unmount(dir: &Path) -> Result<()> {
    let m = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())?;
    if unsafe { libc::umount(m.as_ptr()) } != 0 {
        bail!("umount {}: {}", dir.display(), io::Error::last_os_error());
    }
    Ok(())
}

/// Read a whole (small) stream into a BufRead, for tests.
pub fn buffered(r: impl Read) -> impl BufRead {
    BufReader::new(r)
}

#[cfg(test)]
mod tests;
