//! The store: every SQL statement of the region lives below this module.
//! Functions take a connection (`&mut Conn`: a pooled connection or an open
//! transaction the service passes along) or the pool, and return typed rows
//! or model types. Database errors become error kinds here, once.

pub mod blobs;
pub mod cluster;
pub mod config;
pub mod db;
pub mod devices;
pub mod dns;
pub mod events;
pub mod interfaces;
pub mod ipaddresses;
pub mod keys;
pub mod leases;
pub mod machines;
pub mod misc;
pub mod names;
pub mod networks;
pub mod node_devices;
pub mod places;
pub mod racks;
pub mod regions;
pub mod snapshot;
pub mod sshkeys;
pub mod storage;
pub mod tags;
pub mod tokens;
pub mod ui_sessions;
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

/// Mark a point inside a transaction that `rollback_to` returns to: a step
/// that may be refused without failing the whole transaction.
pub async fn savepoint(c: &mut Conn, name: &'static str) -> crate::error::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SAVEPOINT {name}")))
        .execute(c)
        .await?;
    Ok(())
}

/// Undo what was written since `savepoint(name)`.
pub async fn rollback_to(c: &mut Conn, name: &'static str) -> crate::error::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("ROLLBACK TO SAVEPOINT {name}")))
        .execute(c)
        .await?;
    Ok(())
}

/// A pooled connection (`&mut *c` is a `&mut Conn`), for work that needs no
/// transaction.
pub type PoolConn = sqlx::pool::PoolConnection<sqlx::Postgres>;

/// Take a connection from the pool.
pub async fn acquire(db: &Pool) -> crate::error::Result<PoolConn> {
    Ok(db.acquire().await?)
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

/// Above this many rows, a read by ids is split in two statements run at
/// once (two backends, two cores).
const SPLIT_READS: usize = 2000;

/// Run `read` on `ids`, split in two concurrent halves when large.
pub(crate) async fn split_read<T, F, Fut>(ids: &[i64], read: F) -> crate::error::Result<Vec<T>>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<Vec<T>>>,
{
    if ids.len() <= SPLIT_READS {
        return read(ids.to_vec()).await;
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    let (mut x, y) = tokio::try_join!(read(a.to_vec()), read(b.to_vec()))?;
    x.extend(y);
    Ok(x)
}

/// Anything a statement can run on: the pool, a connection, a transaction.
pub use sqlx::PgExecutor as Executor;
