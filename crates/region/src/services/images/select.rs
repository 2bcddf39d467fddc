//! Which files are usable: a set is complete when all its files are (the
//! ephemeral environment's set also needs both its kernel and its initrd);
//! each resource offers its newest complete set.

use maas_model::desired::Image;

use crate::error::{Error, Result};
use crate::store::misc::bootres::{self as db, File};

/// The ephemeral environment's resource name (our extension).
pub const EPHEMERAL: &str = "ephemeral";
/// The ephemeral environment's two file types.
pub const KERNEL: &str = "boot-kernel";
pub const INITRD: &str = "boot-initrd";

/// Whether a set's files make it complete.
pub fn set_complete(resource: &str, files: &[File]) -> bool {
    if files.is_empty() || !files.iter().all(|f| f.complete) {
        return false;
    }
    if resource == EPHEMERAL {
        return [KERNEL, INITRD]
            .iter()
            .all(|t| files.iter().any(|f| f.filetype == *t));
    }
    true
}

/// The files of each resource's newest complete set, as racks get them.
pub async fn images<'e>(e: impl crate::store::Executor<'e>) -> Result<Vec<Image>> {
    let rows = db::all_files(e).await?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let rid = rows[i].0;
        let mut chosen: Option<Vec<&File>> = None;
        while i < rows.len() && rows[i].0 == rid {
            let sid = rows[i].3;
            let start = i;
            while i < rows.len() && rows[i].0 == rid && rows[i].3 == sid {
                i += 1;
            }
            let files: Vec<File> = rows[start..i].iter().map(|r| r.4.clone()).collect();
            if chosen.is_none() && set_complete(&rows[start].1, &files) {
                chosen = Some(rows[start..i].iter().map(|r| &r.4).collect());
            }
        }
        let (name, arch) = (&rows[i - 1].1, &rows[i - 1].2);
        for f in chosen.unwrap_or_default() {
            if Image::valid_sha256(&f.sha256) {
                out.push(Image {
                    name: name.clone(),
                    architecture: arch.clone(),
                    filetype: f.filetype.clone(),
                    filename: f.filename.clone(),
                    sha256: f.sha256.clone(),
                    size: f.size.max(0) as u64,
                });
            }
        }
    }
    Ok(out)
}

/// Whether a resource named `name` is the image for `osystem`/`series`:
/// `<os>/<series>`, and for osystem `custom` also the bare `<series>`.
pub fn names_image(name: &str, osystem: &str, series: &str) -> bool {
    match name.split_once('/') {
        Some((os, s)) => os == osystem && s == series,
        None => osystem == "custom" && name == series,
    }
}

/// Whether an image architecture serves a machine's (`amd64/generic` serves
/// every `amd64/*`).
fn arch_serves(image: &str, machine: &str) -> bool {
    let (ia, isub) = image.split_once('/').unwrap_or((image, "generic"));
    let (ma, msub) = machine.split_once('/').unwrap_or((machine, "generic"));
    ia == ma && (isub == msub || isub == "generic")
}

/// The root image (not the ephemeral environment) for a deployment.
pub fn deploy_image<'a>(
    images: &'a [Image],
    osystem: &str,
    series: &str,
    arch: &str,
) -> Option<&'a Image> {
    let mut fits: Vec<&Image> = images
        .iter()
        .filter(|i| i.name != EPHEMERAL && names_image(&i.name, osystem, series))
        .filter(|i| arch_serves(&i.architecture, arch))
        .filter(|i| i.filetype.starts_with("root"))
        .collect();
    // An exact subarchitecture first.
    fits.sort_by_key(|i| i.architecture != arch);
    fits.first().copied()
}

/// Refuse a deployment whose image is not there. The check applies when
/// the osystem is `custom`, or when any boot resource of that osystem
/// exists (so a region with no images still deploys its default OS, as
/// before images could be uploaded). The image's file type when there is
/// one.
pub async fn check_deployable(
    c: &mut crate::store::Conn,
    osystem: &str,
    series: &str,
    arch: &str,
) -> Result<Option<String>> {
    let rows = db::all_files(&mut *c).await?;
    let applies = osystem == "custom"
        || rows
            .iter()
            .any(|r| r.1.split_once('/').is_some_and(|(os, _)| os == osystem));
    if !applies {
        return Ok(None);
    }
    let imgs = images(&mut *c).await?;
    if let Some(i) = deploy_image(&imgs, osystem, series, arch) {
        return Ok(Some(i.filetype.clone()));
    }
    Err(Error::field(
        "distro_series",
        format!(
            "No complete boot image for {osystem}/{series} ({arch}): upload it to boot-resources first."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(ft: &str, complete: bool) -> File {
        File {
            id: 1,
            filename: ft.into(),
            filetype: ft.into(),
            sha256: "ab".repeat(32),
            size: 1,
            complete,
        }
    }

    #[test]
    fn completeness_and_matching() {
        assert!(set_complete("custom/x", &[file("root-dd.raw", true)]));
        assert!(!set_complete("custom/x", &[file("root-dd.raw", false)]));
        assert!(!set_complete("ephemeral", &[file(KERNEL, true)]));
        assert!(set_complete(
            "ephemeral",
            &[file(KERNEL, true), file(INITRD, true)]
        ));
        assert!(names_image("tiny", "custom", "tiny"));
        assert!(names_image("custom/tiny", "custom", "tiny"));
        assert!(names_image("ubuntu/jammy", "ubuntu", "jammy"));
        assert!(!names_image("tiny", "ubuntu", "tiny"));
        assert!(arch_serves("amd64/generic", "amd64/hwe-22.04"));
        assert!(!arch_serves("arm64/generic", "amd64/generic"));
        assert!(!arch_serves("amd64/hwe", "amd64/generic"));
    }
}
