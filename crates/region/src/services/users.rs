//! Users: creating (the API, `maas-region createadmin`, tests), reading and
//! deleting them.

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::account;
use crate::services::auth::{self, User};
use crate::store::{self, Executor, Pool};

pub use crate::store::users::UserRow;

/// The internal user that owns machines' own tokens; never listed.
pub const NODE_INIT_USER: &str = "maas-init-node";

pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 150
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c))
}

async fn insert<'e>(
    e: impl Executor<'e>,
    username: &str,
    email: &str,
    password: &str,
    is_superuser: bool,
) -> Result<i64> {
    if !valid_username(username) {
        return Err(Error::field(
            "username",
            "Enter a valid username: letters, digits and @/./+/-/_ only.",
        ));
    }
    // An empty password: no password login (API keys only).
    let hash = if password.is_empty() {
        String::new()
    } else {
        auth::hash_password(password)
    };
    store::users::insert(e, username, email, &hash, is_superuser)
        .await?
        .ok_or_else(|| Error::field("username", "A user with that username already exists."))
}

/// Create a user; their id. The username must be valid and free; the email
/// is taken as given (operators and tests; the API checks it, see
/// [`create`]).
pub async fn create_user(
    db: &Pool,
    username: &str,
    email: &str,
    password: &str,
    is_superuser: bool,
) -> Result<i64> {
    insert(db, username, email, password, is_superuser).await
}

/// Create a user from the API (`users/` POST): as [`create_user`], with an
/// email address that looks like one.
pub async fn create(
    db: &Pool,
    username: &str,
    email: &str,
    password: &str,
    is_superuser: bool,
) -> Result<UserRow> {
    if !email.contains('@') {
        return Err(Error::field("email", "Enter a valid email address."));
    }
    create_user(db, username, email, password, is_superuser).await?;
    Ok(UserRow {
        username: username.to_string(),
        email: email.to_string(),
        is_superuser,
        is_local: true,
    })
}

/// Create an administrator with, optionally, an SSH key, all or nothing
/// (`maas-region createadmin`).
pub async fn create_admin(
    db: &Pool,
    username: &str,
    email: &str,
    password: &str,
    ssh_key: Option<&str>,
) -> Result<i64> {
    let mut tx = store::begin(db).await?;
    let id = insert(&mut *tx, username, email, password, true).await?;
    if let Some(k) = ssh_key {
        account::add_ssh_key(&mut *tx, id, k).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Every user but the internal one, by username.
pub async fn list(db: &Pool) -> Result<Vec<UserRow>> {
    store::users::list_except(db, NODE_INIT_USER).await
}

/// The caller as the API shows them (name and rights as authenticated).
pub async fn whoami(db: &Pool, me: &User) -> Result<UserRow> {
    let row = store::users::by_id(db, me.id)
        .await?
        .ok_or_else(|| Error::internal(format!("user {} vanished", me.id)))?;
    Ok(UserRow {
        username: me.username.clone(),
        is_superuser: me.is_superuser,
        ..row
    })
}

fn no_such_user(username: &str) -> Error {
    Error::NotFound(format!("No User matches the given query ({username})."))
}

pub async fn get(db: &Pool, username: &str) -> Result<UserRow> {
    store::users::by_username(db, username)
        .await?
        .ok_or_else(|| no_such_user(username))
}

/// Delete a user (an admin's request): not oneself, and not while they own
/// machines. Their API keys go with them, from this region's cache at once.
pub async fn delete(ctx: &Ctx, me: &User, username: &str) -> Result<()> {
    if me.username == username {
        return Err(Error::BadRequest(
            "You cannot delete your own account.".into(),
        ));
    }
    let mut tx = store::begin(&ctx.db).await?;
    let id = store::users::id_of(&mut *tx, username)
        .await?
        .ok_or_else(|| no_such_user(username))?;
    let owned = store::users::owned_machines(&mut tx, id).await?;
    if owned > 0 {
        return Err(Error::BadRequest(format!(
            "Cannot delete user {username}: they own {owned} machine(s). Release them first."
        )));
    }
    store::users::delete(&mut tx, id).await?;
    tx.commit().await?;
    ctx.tokens.clear();
    Ok(())
}

/// Make a user an administrator (or take that away): an admin's request,
/// never about themselves (an admin cannot lock themselves out). Cached API
/// keys on this region are dropped so the new role applies at once.
pub async fn set_admin(ctx: &Ctx, me: &User, username: &str, admin: bool) -> Result<()> {
    if !me.is_superuser {
        return Err(Error::Forbidden(
            "Only administrators can change a user's role.".into(),
        ));
    }
    if me.username == username {
        return Err(Error::BadRequest(
            "You cannot change your own administrator rights.".into(),
        ));
    }
    if username == NODE_INIT_USER || !store::users::set_superuser(&ctx.db, username, admin).await? {
        return Err(no_such_user(username));
    }
    ctx.tokens.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(valid_username("alice"));
        assert!(valid_username("a.b+c-d_e@f"));
        assert!(!valid_username(""));
        assert!(!valid_username("bad name!"));
        assert!(!valid_username(&"x".repeat(151)));
    }
}
