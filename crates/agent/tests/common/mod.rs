//! Shared by the VM tests: building the images with this test's agent.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `deploy/<script> --agent <this agent> --out <out> [args]`; `false`
/// (with the reason printed) when it fails, e.g. Debian packages missing.
pub fn build(script: &str, out: &Path, args: &[&str]) -> bool {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(script);
    let o = Command::new("bash")
        .arg(path)
        .args(["--agent", env!("CARGO_BIN_EXE_maas-agent"), "--out"])
        .arg(out)
        .args(args)
        .output()
        .expect("run the build script");
    if !o.status.success() {
        eprintln!(
            "SKIP: deploy/{script} failed (Debian packages missing?):\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    o.status.success()
}
