//! Package repositories: the Ubuntu archives (seeded, may not be deleted or
//! disabled) and any others machines install from.

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::misc::{not_found, parse_id};
use crate::store::misc::repos as db;
pub use crate::store::misc::repos::Repo;

pub const MAIN_ARCHES: &[&str] = &["amd64", "i386"];
pub const PORTS_ARCHES: &[&str] = &["armhf", "arm64", "ppc64el", "s390x"];
pub const POCKETS_TO_DISABLE: &[&str] = &["updates", "security", "backports"];
pub const COMPONENTS_TO_DISABLE: &[&str] = &["restricted", "universe", "multiverse"];

pub async fn list(ctx: &Ctx) -> Result<Vec<Repo>> {
    db::list(&ctx.db).await
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Repo> {
    let id = parse_id(id, "PackageRepository")?;
    db::by_id(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("PackageRepository"))
}

/// The fields a create or update sets (`None`: unchanged / default).
#[derive(Default)]
pub struct Change {
    pub name: Option<String>,
    pub url: Option<String>,
    pub distributions: Option<Vec<String>>,
    pub disabled_pockets: Option<Vec<String>>,
    pub disabled_components: Option<Vec<String>>,
    pub disable_sources: Option<bool>,
    pub components: Option<Vec<String>>,
    pub arches: Option<Vec<String>>,
    pub key: Option<String>,
    pub enabled: Option<bool>,
}

fn cleared(v: Vec<String>) -> Vec<String> {
    if v.is_empty() || v == [""] || v == ["None"] || v == ["[]"] {
        vec![]
    } else {
        v
    }
}

fn valid_url(u: &str) -> bool {
    if let Some(rest) = u.strip_prefix("ppa:") {
        return rest
            .split_once('/')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
    }
    ["http://", "https://", "ftp://", "file://"]
        .iter()
        .any(|p| u.starts_with(p) && u.len() > p.len())
}

/// Create (`existing` None) or update; the saved repository.
pub async fn save(ctx: &Ctx, existing: Option<Repo>, c: Change) -> Result<Repo> {
    let creating = existing.is_none();
    let mut errors = maas_model::constraints::FieldErrors::new();
    let mut add = |f: &str, m: String| errors.entry(f.to_string()).or_default().push(m);
    let mut r = existing.unwrap_or(Repo {
        enabled: true,
        disable_sources: true,
        ..Repo::default()
    });
    if let Some(n) = c.name {
        r.name = n.trim().to_string();
    }
    if r.name.is_empty() {
        add("name", "This field is required.".into());
    }
    if let Some(u) = c.url {
        r.url = u.trim().to_string();
    }
    if r.url.is_empty() {
        add("url", "This field is required.".into());
    } else if !valid_url(&r.url) {
        add(
            "url",
            "Enter a valid repository URL or PPA location.".into(),
        );
    }
    if let Some(v) = c.distributions {
        r.distributions = v;
    }
    if let Some(v) = c.disabled_pockets {
        let v = cleared(v);
        for p in &v {
            if !POCKETS_TO_DISABLE.contains(&p.as_str()) {
                add(
                    "disabled_pockets",
                    format!(
                        "'{p}' is not a valid Ubuntu archive pocket. You can only disable {POCKETS_TO_DISABLE:?}."
                    ),
                );
            }
        }
        r.disabled_pockets = v;
    }
    if let Some(v) = c.disabled_components {
        let v = cleared(v);
        if !v.is_empty() && !r.is_default {
            add(
                "disabled_components",
                "This is a custom repository. Please update 'components' instead.".into(),
            );
        }
        for p in &v {
            if !COMPONENTS_TO_DISABLE.contains(&p.as_str()) {
                add(
                    "disabled_components",
                    format!(
                        "'{p}' is not a valid Ubuntu archive component. You can only disable {COMPONENTS_TO_DISABLE:?}."
                    ),
                );
            }
        }
        r.disabled_components = v;
    }
    if let Some(v) = c.components {
        let v = cleared(v);
        if !v.is_empty() && r.is_default {
            add(
                "components",
                "This is a default Ubuntu repository. Please update 'disabled_components' instead."
                    .into(),
            );
        }
        r.components = v;
    }
    if let Some(b) = c.disable_sources {
        r.disable_sources = b;
    }
    if c.arches.is_some() || creating {
        let v = cleared(c.arches.unwrap_or_default());
        for a in &v {
            if !MAIN_ARCHES.contains(&a.as_str()) && !PORTS_ARCHES.contains(&a.as_str()) {
                let mut known: Vec<&str> =
                    MAIN_ARCHES.iter().chain(PORTS_ARCHES).copied().collect();
                known.sort();
                add(
                    "arches",
                    format!(
                        "'{a}' is not a valid architecture. Known architectures: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        r.arches = if !v.is_empty() {
            v
        } else if r.name == "ports_archive" {
            PORTS_ARCHES.iter().map(|s| s.to_string()).collect()
        } else {
            MAIN_ARCHES.iter().map(|s| s.to_string()).collect()
        };
    }
    if let Some(k) = c.key {
        r.key = k;
    }
    if let Some(e) = c.enabled {
        r.enabled = e;
    }
    if r.is_default && !r.enabled {
        add(
            "__all__",
            "Default repositories may not be disabled.".into(),
        );
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    if !r.name.is_empty() && db::name_taken(&mut tx, &r.name, r.id).await? {
        add(
            "name",
            "Package repository with this Name already exists.".into(),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    r.id = db::save(&mut tx, &r).await?;
    tx.commit().await?;
    Ok(r)
}

pub async fn delete(ctx: &Ctx, r: &Repo) -> Result<()> {
    if r.is_default {
        return Err(Error::BadRequest(
            "Cannot delete default Ubuntu archives.".into(),
        ));
    }
    db::delete(&ctx.db, r.id).await?;
    Ok(())
}
