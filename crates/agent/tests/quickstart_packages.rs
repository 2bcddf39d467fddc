//! The quick start installs what its image builders check for: every tool
//! and file `deploy/build-ephemeral` and `deploy/build-tiny-image` refuse
//! to run without is a probe in `deploy/packages` (a fresh machine found
//! `mkfs.vfat` missing once).

use std::path::Path;

fn read(rel: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// What a script checks before it starts: the words of its
/// `for t in …; do` line and the paths of its `[ -f PATH ] || die` lines.
fn required(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in script.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("for t in ")
            && let Some((tools, _)) = rest.split_once(';')
        {
            out.extend(tools.split_whitespace().map(str::to_string));
        }
        if let Some(rest) = line.strip_prefix("[ -f ")
            && let Some((path, _)) = rest.split_once(" ]")
            && path.starts_with('/')
        {
            out.push(path.to_string());
        }
        if let Some(rest) = line.strip_prefix("MBR=") {
            out.push(rest.to_string());
        }
    }
    out
}

#[test]
fn the_quick_starts_packages_cover_what_its_image_builders_need() {
    let probes: Vec<String> = read("deploy/packages")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    // In every Debian install (libc-bin is Essential).
    let essential = ["ldd"];
    let mut missing = Vec::new();
    let mut checked = 0;
    for script in ["deploy/build-ephemeral", "deploy/build-tiny-image"] {
        let need = required(&read(script));
        assert!(
            need.len() >= 5,
            "{script}: its checks were not found: {need:?}"
        );
        for n in need {
            // `[ -f $MBR ]` is the MBR= line's path, read above.
            if n.starts_with('$') {
                continue;
            }
            checked += 1;
            if !probes.contains(&n) && !essential.contains(&n.as_str()) {
                missing.push(format!("{script}: {n}"));
            }
        }
    }
    assert!(checked >= 10, "only {checked} requirements read");
    assert!(missing.is_empty(), "not in deploy/packages: {missing:?}");
}
