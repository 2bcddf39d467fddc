//! Boot sources (simplestreams mirrors images are imported from) and the
//! selections of each. Stored; the import itself is a later issue.

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::misc::{not_found, parse_id};
use crate::store::misc::bootsrc as db;
pub use crate::store::misc::bootsrc::{Selection, Source};

pub async fn list(ctx: &Ctx) -> Result<Vec<Source>> {
    db::sources(&ctx.db).await
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Source> {
    let id = parse_id(id, "BootSource")?;
    db::source_by_id(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("BootSource"))
}

/// What a create or update sets (`None`: unchanged).
#[derive(Default)]
pub struct SourceChange {
    pub url: Option<String>,
    pub keyring_filename: Option<String>,
    pub keyring_data: Option<Vec<u8>>,
}

/// Create (`existing` None) or update a source; its id.
pub async fn save(ctx: &Ctx, existing: Option<Source>, c: SourceChange) -> Result<i64> {
    let id = existing.as_ref().map(|s| s.id).unwrap_or(0);
    let mut url = existing.as_ref().map(|s| s.url.clone()).unwrap_or_default();
    let mut filename = existing
        .as_ref()
        .map(|s| s.keyring_filename.clone())
        .unwrap_or_default();
    let mut data = existing
        .as_ref()
        .map(|s| s.keyring_data.clone())
        .unwrap_or_default();
    let mut errors = maas_model::constraints::FieldErrors::new();
    let mut add = |f: &str, m: &str| errors.entry(f.to_string()).or_default().push(m.into());
    if let Some(u) = c.url {
        url = u.trim().to_string();
    }
    if url.is_empty() {
        add("url", "This field is required.");
    } else if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() < 10
        || url.contains(char::is_whitespace)
    {
        add("url", "Enter a valid URL.");
    }
    if let Some(f) = c.keyring_filename {
        filename = f.trim().to_string();
    }
    if let Some(d) = c.keyring_data {
        data = d;
    }
    if filename.is_empty() && data.is_empty() {
        add(
            "__all__",
            "One of keyring_data or keyring_filename must be specified.",
        );
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    if !url.is_empty() && db::url_taken(&mut tx, &url, id).await? {
        add("url", "Boot source with this Url already exists.");
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let id = if id == 0 {
        db::insert_source(&mut tx, &url, &filename, &data).await?
    } else {
        db::update_source(&mut tx, id, &url, &filename, &data).await?;
        id
    };
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(ctx: &Ctx, s: &Source) -> Result<()> {
    db::delete_source(&ctx.db, s.id).await?;
    Ok(())
}

pub async fn selections(ctx: &Ctx, source: &Source) -> Result<Vec<Selection>> {
    db::selections(&ctx.db, source.id).await
}

pub async fn selection(ctx: &Ctx, source: &Source, id: &str) -> Result<Selection> {
    let id = parse_id(id, "BootSourceSelection")?;
    db::selection_by_id(&ctx.db, source.id, id)
        .await?
        .ok_or_else(|| not_found("BootSourceSelection"))
}

/// What a selection create or update sets (`None`: unchanged / `*`).
#[derive(Default)]
pub struct SelectionChange {
    pub os: Option<String>,
    pub release: Option<String>,
    pub arches: Option<Vec<String>>,
    pub subarches: Option<Vec<String>>,
    pub labels: Option<Vec<String>>,
}

fn star(v: Vec<String>) -> Vec<String> {
    if v.is_empty() { vec!["*".into()] } else { v }
}

/// Create (`existing` None) or update a selection of `source`; its id.
pub async fn save_selection(
    ctx: &Ctx,
    source: &Source,
    existing: Option<Selection>,
    c: SelectionChange,
) -> Result<Selection> {
    let mut s = existing.unwrap_or(Selection {
        id: 0,
        boot_source_id: source.id,
        os: String::new(),
        release: String::new(),
        arches: vec!["*".into()],
        subarches: vec!["*".into()],
        labels: vec!["*".into()],
    });
    let mut errors = maas_model::constraints::FieldErrors::new();
    let mut add = |f: &str, m: &str| errors.entry(f.to_string()).or_default().push(m.into());
    if let Some(o) = c.os {
        s.os = o.trim().to_string();
    }
    if let Some(r) = c.release {
        s.release = r.trim().to_string();
    }
    if s.os.is_empty() {
        add("os", "This field is required.");
    }
    if s.release.is_empty() {
        add("release", "This field is required.");
    }
    if let Some(a) = c.arches {
        s.arches = star(a);
    }
    if let Some(a) = c.subarches {
        s.subarches = star(a);
    }
    if let Some(a) = c.labels {
        s.labels = star(a);
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    if !s.os.is_empty()
        && !s.release.is_empty()
        && db::selection_taken(&mut tx, source.id, &s.os, &s.release, s.id).await?
    {
        add(
            "__all__",
            "Boot source selection with this Boot source, Os and Release already exists.",
        );
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    s.id = db::save_selection(&mut tx, &s).await?;
    tx.commit().await?;
    Ok(s)
}

pub async fn delete_selection(ctx: &Ctx, s: &Selection) -> Result<()> {
    db::delete_selection(&ctx.db, s.id).await?;
    Ok(())
}
