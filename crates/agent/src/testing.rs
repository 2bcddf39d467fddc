//! Hardware tests: SMART health per disk (skipped when the disk has none,
//! as virtio disks), a read check per disk and a memory pattern check.

use serde_json::{Value, json};

use crate::Env;

/// `smartctl -H` for a disk: (status, output). Status is "passed",
/// "failed" or "skipped".
pub fn smart(env: &Env, disk: &str) -> (&'static str, String) {
    let dev = env.disk_path(disk);
    let Some((out, code)) = env.tool("smartctl", &["-H", &dev.to_string_lossy()]) else {
        return ("skipped", "smartctl is not available".into());
    };
    classify(&out, code)
}

/// What `smartctl -H` said, from its text and exit code (bit 1: open
/// failed, bit 2: SMART command failed, bit 3: disk failing).
pub fn classify(out: &str, code: i32) -> (&'static str, String) {
    let lower = out.to_ascii_lowercase();
    let no_smart = lower.contains("unavailable")
        || lower.contains("unable to detect device type")
        || lower.contains("does not support smart")
        || lower.contains("smart support is: disabled")
        || (code & 0b110 != 0 && !lower.contains("result:"));
    if no_smart {
        ("skipped", out.to_string())
    } else if lower.contains("passed") || lower.contains("health status: ok") {
        ("passed", out.to_string())
    } else {
        ("failed", out.to_string())
    }
}

/// Where the read check reads (1 MiB each): the first and last 32 MiB and
/// 64 places spread between, so a large disk takes seconds, not hours.
pub fn read_offsets(size: u64) -> Vec<u64> {
    const MIB: u64 = 1 << 20;
    let mut at: Vec<u64> = (0..32).map(|i| i * MIB).collect();
    at.extend(
        (1..=32)
            .filter_map(|i| size.checked_sub(i * MIB))
            .filter(|o| *o >= 32 * MIB),
    );
    at.extend((1..=64).map(|i| size / 65 * i / MIB * MIB));
    at.retain(|o| *o < size);
    at.sort_unstable();
    at.dedup();
    at
}

/// Read the disk at `read_offsets`; the first read error fails it.
pub fn read_check(path: &std::path::Path) -> Result<String, String> {
    use std::io::{Read, Seek, SeekFrom};
    let name = path.display();
    let mut f = std::fs::File::open(path).map_err(|e| format!("open {name}: {e}"))?;
    let size = f
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("size of {name}: {e}"))?;
    let offsets = read_offsets(size);
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0u64;
    for &at in &offsets {
        let want = (size - at).min(buf.len() as u64) as usize;
        f.seek(SeekFrom::Start(at))
            .and_then(|_| f.read_exact(&mut buf[..want]))
            .map_err(|e| format!("{name}: read error at byte {at}: {e}"))?;
        read += want as u64;
    }
    Ok(format!(
        "{name}: {read} bytes read at {} places of {size} without error",
        offsets.len()
    ))
}

/// Write a pattern over `mib` MiB and read it back.
pub fn memory_check(mib: usize) -> Result<String, String> {
    let words = mib * (1 << 20) / 8;
    let mut v: Vec<u64> = Vec::new();
    v.try_reserve_exact(words)
        .map_err(|_| format!("could not allocate {mib} MiB"))?;
    for pattern in [0x5555_5555_5555_5555u64, 0xAAAA_AAAA_AAAA_AAAA] {
        v.clear();
        v.extend((0..words as u64).map(|i| pattern ^ i));
        let v = std::hint::black_box(&v);
        if let Some(i) = v
            .iter()
            .enumerate()
            .position(|(i, w)| *w != pattern ^ i as u64)
        {
            return Err(format!(
                "memory mismatch at word {i} (pattern {pattern:#x})"
            ));
        }
    }
    Ok(format!(
        "memory check: {mib} MiB written and verified with 2 patterns"
    ))
}

/// One test's result: its name, output and whether it passed (a skipped
/// test passes).
pub type Outcome = (String, Vec<u8>, bool);

/// Run every test; the JSON summary, each test's outcome, and whether all
/// passed.
pub fn run(env: &Env) -> (Value, Vec<Outcome>, bool) {
    let mut files = Vec::new();
    let mut disks = Vec::new();
    for d in crate::inventory::disks(&env.root) {
        let (status, out) = smart(env, &d.name);
        env.log("testing", &format!("smartctl {} {status}", d.name));
        files.push((
            format!("smartctl-{}", d.name),
            out.into_bytes(),
            status != "failed",
        ));
        let read = read_check(&env.disk_path(&d.name));
        let read_status = if read.is_ok() { "passed" } else { "failed" };
        let text = read.unwrap_or_else(|e| e);
        env.log(
            "testing",
            &format!("disk read {} {read_status}: {text}", d.name),
        );
        files.push((
            format!("disk-read-{}", d.name),
            text.into_bytes(),
            read_status == "passed",
        ));
        disks.push(json!({"name": d.name, "status": status, "read": read_status}));
    }
    let mem = memory_check(env.memtest_mib);
    env.log(
        "testing",
        &format!("memory {}", if mem.is_ok() { "passed" } else { "failed" }),
    );
    let text = mem.clone().unwrap_or_else(|e| e);
    files.push(("memtest".into(), text.into_bytes(), mem.is_ok()));
    let summary = json!({
        "disks": disks,
        "memory": {"status": if mem.is_ok() { "passed" } else { "failed" }, "mib": env.memtest_mib},
    });
    let ok = files.iter().all(|(_, _, passed)| *passed);
    (summary, files, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smartctl_outputs() {
        let virtio = "smartctl 7.3\n/dev/vda: Unable to detect device type\nPlease specify device type with the -d option.\n";
        assert_eq!(classify(virtio, 1).0, "skipped");
        let qemu = "=== START OF READ SMART DATA SECTION ===\nSMART support is: Unavailable - device lacks SMART capability.\n";
        assert_eq!(classify(qemu, 4).0, "skipped");
        let good = "SMART overall-health self-assessment test result: PASSED\n";
        assert_eq!(classify(good, 0).0, "passed");
        let bad = "SMART overall-health self-assessment test result: FAILED!\n";
        assert_eq!(classify(bad, 8).0, "failed");
        assert_eq!(classify("SMART Health Status: OK\n", 0).0, "passed");
    }

    #[test]
    fn read_check_covers_both_ends_and_reports_errors() {
        const MIB: u64 = 1 << 20;
        let small = read_offsets(3 * MIB + 5);
        assert_eq!(small, vec![0, MIB, 2 * MIB, 3 * MIB]);
        let big = read_offsets(1 << 40);
        assert_eq!(big.len(), 32 + 32 + 64);
        assert_eq!(big[..2], [0, MIB]);
        assert_eq!(*big.last().unwrap(), (1 << 40) - MIB);
        assert!(big.windows(2).all(|w| w[0] < w[1]));
        let dir = std::env::temp_dir().join(format!("maas-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("disk");
        std::fs::write(&disk, vec![1u8; (3 * MIB + 5) as usize]).unwrap();
        let ok = read_check(&disk).unwrap();
        assert!(
            ok.contains(&format!("{} bytes read at 4 places", 3 * MIB + 5)),
            "{ok}"
        );
        let e = read_check(&dir.join("gone")).unwrap_err();
        assert!(e.starts_with("open ") && e.contains("gone"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn memory_pattern() {
        assert!(memory_check(4).unwrap().contains("4 MiB"));
    }
}
