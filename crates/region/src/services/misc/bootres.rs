//! Boot resources: what images the region knows (uploads and their bytes:
//! `services::images`).

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::misc::{KNOWN_ARCHES, not_found, parse_id};
use crate::store::misc::bootres as db;
pub use crate::store::misc::bootres::{File, Resource, Set};

pub const SYNCED: i16 = 0;
pub const GENERATED: i16 = 1;
pub const UPLOADED: i16 = 2;

pub fn type_label(rtype: i16) -> &'static str {
    match rtype {
        SYNCED => "Synced",
        GENERATED => "Generated",
        _ => "Uploaded",
    }
}

pub async fn list(ctx: &Ctx, rtype: Option<&str>) -> Result<Vec<Resource>> {
    let t = match rtype {
        None | Some("all") => None,
        Some("synced") => Some(SYNCED),
        Some("uploaded") => Some(UPLOADED),
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "'{other}' is not a valid boot resource type. Available types: ['synced', 'uploaded']"
            )));
        }
    };
    db::list(&ctx.db, t).await
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<(Resource, Vec<Set>)> {
    let id = parse_id(id, "BootResource")?;
    let r = db::by_id(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("BootResource"))?;
    let sets = db::sets(&ctx.db, r.id).await?;
    Ok((r, sets))
}

/// (filetype as MAAS stores it, file name) of an upload type.
pub fn upload_filetype(t: &str) -> Option<(&'static str, &'static str)> {
    Some(match t {
        "tgz" => ("root-tgz", "root.tgz"),
        "tbz" => ("root-tbz", "root.tbz"),
        "txz" => ("root-txz", "root.txz"),
        "ddtgz" => ("root-dd", "root-dd"),
        "ddtar" => ("root-dd.tar", "root-dd.tar"),
        "ddraw" => ("root-dd.raw", "root-dd.raw"),
        "ddtbz" => ("root-dd.tar.bz2", "root-dd.tar.bz2"),
        "ddtxz" => ("root-dd.tar.xz", "root-dd.tar.xz"),
        "ddbz2" => ("root-dd.bz2", "root-dd.bz2"),
        "ddgz" => ("root-dd.gz", "root-dd.gz"),
        "ddxz" => ("root-dd.xz", "root-dd.xz"),
        _ => return None,
    })
}

/// Whether `a` is `arch/subarch` with a known arch.
pub fn valid_architecture(a: &str) -> bool {
    match a.split_once('/') {
        Some((arch, sub)) => {
            KNOWN_ARCHES.contains(&arch)
                && !sub.is_empty()
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        }
        None => false,
    }
}

/// MAAS's set version names: the date, then `date.1`, `date.2`, ….
pub fn next_version(date: &str, used: &[String]) -> String {
    if !used.iter().any(|u| u == date) {
        return date.to_string();
    }
    (1..)
        .map(|n| format!("{date}.{n}"))
        .find(|v| !used.contains(v))
        .expect("an unused version exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_arches() {
        assert_eq!(next_version("20260101", &[]), "20260101");
        assert_eq!(
            next_version("20260101", &["20260101".into(), "20260101.1".into()]),
            "20260101.2"
        );
        assert!(valid_architecture("amd64/generic"));
        assert!(!valid_architecture("amd64"));
        assert!(!valid_architecture("sparc/generic"));
        assert_eq!(upload_filetype("ddxz"), Some(("root-dd.xz", "root-dd.xz")));
    }
}
