//! The region secret key: every region on one database must hold the same
//! one (it seals BMC credentials and the cluster CA key). Checked at start,
//! before any port opens.

use std::path::Path;

use crate::crypto::SecretBox;
use crate::error::{Error, Result};
use crate::store::{Pool, keys};

const CHECK_NAME: &str = "region_key_check";
const CHECK_TEXT: &[u8] = b"maas-region secret key check";

/// Refuse a key that cannot open what the database's first region sealed.
/// The first region to start on a database records the check value.
pub async fn check_region_key(db: &Pool, secrets: &SecretBox, key_path: &Path) -> Result<()> {
    let mine = hex::encode(secrets.seal(CHECK_TEXT));
    let mut c = crate::store::acquire(db).await?;
    keys::insert_if_absent(&mut c, &[(CHECK_NAME, &mine)]).await?;
    let stored = keys::get(&mut c, CHECK_NAME)
        .await?
        .ok_or_else(|| Error::internal("the region key check value is missing"))?;
    let opens = hex::decode(&stored)
        .ok()
        .and_then(|b| secrets.open(&b).ok())
        .is_some_and(|p| p == CHECK_TEXT);
    if opens {
        return Ok(());
    }
    Err(Error::Unavailable(format!(
        "the secret key {} is not the one the other regions on this database use: copy their \
         key file here (or point --secret-key-file at it) and start again",
        key_path.display()
    )))
}
