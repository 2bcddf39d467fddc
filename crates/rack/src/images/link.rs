//! The rack's image dir after a sync: files no snapshot image names are
//! deleted, and `ephemeral/<arch>/{kernel,initrd}` point at the newest
//! uploaded ephemeral environment (relative symlinks into `by-sha256/`,
//! swapped atomically: a new link under a temp name, renamed over the old).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use maas_model::desired::Image;

/// Delete what the snapshot no longer names (stored files and partial
/// downloads); the names deleted.
pub fn prune(dir: &Path, wanted: &HashSet<&str>) -> Vec<String> {
    let mut gone = Vec::new();
    for sub in ["by-sha256", ".partial"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !wanted.contains(name.as_str()) && std::fs::remove_file(e.path()).is_ok() {
                gone.push(name);
            }
        }
    }
    gone
}

/// Point `ephemeral/<arch>/{kernel,initrd}` at the ephemeral environment's
/// files that are present; links into `by-sha256/` whose arch has no
/// environment any more are removed (files an operator put there stay).
pub fn link_ephemeral(dir: &Path, images: &[Image]) -> std::io::Result<()> {
    let mut by_arch: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
    for i in images.iter().filter(|i| i.name == "ephemeral") {
        let name = match i.filetype.as_str() {
            "boot-kernel" => "kernel",
            "boot-initrd" => "initrd",
            _ => continue,
        };
        let arch = i.architecture.split('/').next().unwrap_or("");
        if arch.is_empty() || !arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if dir.join("by-sha256").join(&i.sha256).is_file() {
            by_arch
                .entry(arch.to_string())
                .or_default()
                .push((name, i.sha256.as_str()));
        }
    }
    for (arch, files) in &by_arch {
        let d = dir.join("ephemeral").join(arch);
        std::fs::create_dir_all(&d)?;
        for (name, sha) in files {
            let target = format!("../../by-sha256/{sha}");
            let link = d.join(name);
            if std::fs::read_link(&link).is_ok_and(|t| t.as_os_str() == target.as_str()) {
                continue;
            }
            let tmp = d.join(format!(".{name}.new"));
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(&target, &tmp)?;
            std::fs::rename(&tmp, &link)?;
            tracing::info!(arch = %arch, file = name, sha256 = sha, "ephemeral environment linked");
        }
    }
    // Links of environments that are gone.
    if let Ok(rd) = std::fs::read_dir(dir.join("ephemeral")) {
        for a in rd.flatten() {
            let arch = a.file_name().to_string_lossy().to_string();
            for name in ["kernel", "initrd"] {
                let link = a.path().join(name);
                let ours = std::fs::read_link(&link)
                    .is_ok_and(|t| t.to_string_lossy().starts_with("../../by-sha256/"));
                let kept = by_arch
                    .get(&arch)
                    .is_some_and(|f| f.iter().any(|(n, _)| *n == name));
                if ours && !kept {
                    let _ = std::fs::remove_file(&link);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(ft: &str, sha: &str) -> Image {
        Image {
            name: "ephemeral".into(),
            architecture: "amd64/generic".into(),
            filetype: ft.into(),
            filename: ft.into(),
            sha256: sha.into(),
            size: 1,
        }
    }

    #[test]
    fn links_follow_the_images() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::create_dir_all(dir.join("by-sha256")).unwrap();
        let (k1, i1, k2) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        for s in [&k1, &i1, &k2] {
            std::fs::write(dir.join("by-sha256").join(s), s).unwrap();
        }
        link_ephemeral(dir, &[img("boot-kernel", &k1), img("boot-initrd", &i1)]).unwrap();
        let k = dir.join("ephemeral/amd64/kernel");
        assert_eq!(std::fs::read_to_string(&k).unwrap(), k1);
        link_ephemeral(dir, &[img("boot-kernel", &k2), img("boot-initrd", &i1)]).unwrap();
        assert_eq!(std::fs::read_to_string(&k).unwrap(), k2);
        let wanted: HashSet<&str> = [k2.as_str()].into();
        let gone = prune(dir, &wanted);
        assert_eq!(gone.len(), 2, "{gone:?}");
        link_ephemeral(dir, &[img("boot-kernel", &k2)]).unwrap();
        assert!(k.exists());
        assert!(std::fs::symlink_metadata(dir.join("ephemeral/amd64/initrd")).is_err());
    }
}
