//! Script results as the region stores them (read side).

use crate::error::Result;
use crate::store::Executor;

pub type Time = chrono::DateTime<chrono::Utc>;

/// A stored result, optionally with its output.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub id: i64,
    pub result_type: i16,
    pub name: String,
    pub status: i16,
    pub exit_status: Option<i32>,
    pub runtime: Option<String>,
    pub output: Vec<u8>,
    pub created: Time,
}

type Tuple = (
    i64,
    i16,
    String,
    i16,
    Option<i32>,
    Option<String>,
    Option<Vec<u8>>,
    Time,
);

/// A machine's id by system id.
pub async fn machine_id<'e>(e: impl Executor<'e>, system_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM machines WHERE system_id = $1")
            .bind(system_id)
            .fetch_optional(e)
            .await?,
    )
}

/// A machine's results, oldest first (with output when `with_output`).
pub async fn for_machine<'e>(
    e: impl Executor<'e>,
    machine_id: i64,
    with_output: bool,
) -> Result<Vec<ResultRow>> {
    let rows: Vec<Tuple> = sqlx::query_as(
        "SELECT id, result_type, name, status, exit_status, runtime,
                CASE WHEN $2 THEN output END, created
         FROM script_results WHERE machine_id = $1 ORDER BY id",
    )
    .bind(machine_id)
    .bind(with_output)
    .fetch_all(e)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, result_type, name, status, exit_status, runtime, output, created)| ResultRow {
                id,
                result_type,
                name,
                status,
                exit_status,
                runtime,
                output: output.unwrap_or_default(),
                created,
            },
        )
        .collect())
}
