//! Hardware tests: SMART health per disk (skipped when the disk has none,
//! as virtio disks) and a memory pattern check.

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

/// Run every test; the JSON summary and whether all passed.
pub fn run(env: &Env) -> (Value, Vec<(String, Vec<u8>)>, bool) {
    let mut files = Vec::new();
    let mut ok = true;
    let mut disks = Vec::new();
    for d in crate::inventory::disks(&env.root) {
        let (status, out) = smart(env, &d.name);
        env.log("testing", &format!("smartctl {} {status}", d.name));
        ok &= status != "failed";
        files.push((format!("smartctl-{}", d.name), out.into_bytes()));
        disks.push(json!({"name": d.name, "status": status}));
    }
    let mem = memory_check(env.memtest_mib);
    env.log(
        "testing",
        &format!("memory {}", if mem.is_ok() { "passed" } else { "failed" }),
    );
    ok &= mem.is_ok();
    let text = mem.clone().unwrap_or_else(|e| e);
    files.push(("memtest".into(), text.into_bytes()));
    let summary = json!({
        "disks": disks,
        "memory": {"status": if mem.is_ok() { "passed" } else { "failed" }, "mib": env.memtest_mib},
    });
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
    fn memory_pattern() {
        assert!(memory_check(4).unwrap().contains("4 MiB"));
    }
}
