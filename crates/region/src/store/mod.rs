//! The store: every SQL statement of the region lives below this module.
//! Functions take a connection (`&mut Conn`: a pooled connection or an open
//! transaction the service passes along) or the pool, and return typed rows
//! or model types. Database errors become error kinds here, once.

pub mod config;
pub mod db;
pub mod events;
pub mod networks;
pub mod places;
pub mod sshkeys;
pub mod tokens;
pub mod users;

use crate::error::Error;

/// A connection or an open transaction (`&mut *tx`).
pub type Conn = sqlx::PgConnection;
/// The pool.
pub type Pool = sqlx::PgPool;
/// A transaction the services open, pass to store functions and commit.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// Begin a transaction.
pub async fn begin(db: &Pool) -> crate::error::Result<Tx> {
    Ok(db.begin().await?)
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // Unique violations that slipped past validation (a race with
            // another request) are the caller's conflict, not our fault.
            if db.code().as_deref() == Some("23505") {
                return Error::Conflict(format!(
                    "Conflicts with an existing object ({}).",
                    db.constraint().unwrap_or("unique")
                ));
            }
        }
        Error::Internal(e.into())
    }
}

/// Anything a statement can run on: the pool, a connection, a transaction.
pub use sqlx::PgExecutor as Executor;
