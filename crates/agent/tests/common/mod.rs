//! Shared by the VM tests: building the images with this test's agent.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run `deploy/<script> --agent <this agent> --out <out> [args]`; a
/// failure fails the test with the script's output.
pub fn build(script: &str, out: &Path, args: &[&str]) {
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
    // `.ci/run` installs what the scripts need and apt reaches Debian's
    // archive: a failed build is a broken script, not a reason to skip.
    assert!(
        o.status.success(),
        "deploy/{script} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
