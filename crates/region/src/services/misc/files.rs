//! Files users store (Juju keeps its provider state here): per owner, the
//! bytes in PostgreSQL, readable anonymously by their unguessable key.

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::store::misc::files as db;
pub use crate::store::misc::files::StoredFile;

/// The largest file stored (the request body limit, `--max-body`, applies
/// first).
pub const MAX_FILE_SIZE: usize = 100 << 20;

pub async fn list(ctx: &Ctx, owner: i64, prefix: Option<&str>) -> Result<Vec<StoredFile>> {
    db::list(&ctx.db, owner, prefix).await
}

pub async fn get(ctx: &Ctx, owner: i64, filename: &str) -> Result<StoredFile> {
    db::by_name(&ctx.db, owner, filename)
        .await?
        .ok_or_else(|| Error::NotFound("File not found".into()))
}

pub async fn by_key(ctx: &Ctx, key: &str) -> Result<StoredFile> {
    db::by_key(&ctx.db, key)
        .await?
        .ok_or_else(|| Error::NotFound("No FileStorage matches the given query.".into()))
}

/// Store `content` as the owner's `filename`, replacing a file of that name.
pub async fn save(ctx: &Ctx, owner: i64, filename: &str, content: &[u8]) -> Result<()> {
    if content.len() > MAX_FILE_SIZE {
        return Err(Error::PayloadTooLarge(format!(
            "The file is larger than the limit of {MAX_FILE_SIZE} bytes."
        )));
    }
    if filename.len() > 255 {
        return Err(Error::field(
            "filename",
            "Ensure this value has at most 255 characters.",
        ));
    }
    let key = random_uuid();
    let mut c = crate::store::acquire(&ctx.db).await?;
    db::save(&mut c, owner, filename, content, &key).await
}

pub async fn delete(ctx: &Ctx, owner: i64, filename: &str) -> Result<()> {
    if !db::delete(&ctx.db, owner, filename).await? {
        return Err(Error::NotFound(
            "No FileStorage matches the given query.".into(),
        ));
    }
    Ok(())
}

/// A random (version 4) UUID, MAAS's file key.
fn random_uuid() -> String {
    let mut b = rand::random::<[u8; 16]>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
