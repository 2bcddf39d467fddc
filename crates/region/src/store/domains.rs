//! DNS domains: the default `maas` and any others.

use crate::error::Result;
use crate::store::Executor;

/// A domain with the number of resource records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: i64,
    pub name: String,
    pub ttl: Option<i32>,
    pub authoritative: bool,
    pub is_default: bool,
    pub resource_record_count: i64,
}

type Tuple = (i64, String, Option<i32>, bool, bool, i64);

fn domain((id, name, ttl, authoritative, is_default, resource_record_count): Tuple) -> Domain {
    Domain {
        id,
        name,
        ttl,
        authoritative,
        is_default,
        resource_record_count,
    }
}

// No DNS resources are stored yet, so every domain holds no records.
macro_rules! columns {
    () => {
        "SELECT id, name, ttl, authoritative, is_default, 0::int8 FROM domains"
    };
}

/// Every domain, by id.
pub async fn list<'e>(e: impl Executor<'e>) -> Result<Vec<Domain>> {
    let rows: Vec<Tuple> = sqlx::query_as(concat!(columns!(), " ORDER BY id"))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(domain).collect())
}

/// One domain, if it exists.
pub async fn by_id<'e>(e: impl Executor<'e>, id: i64) -> Result<Option<Domain>> {
    let r: Option<Tuple> = sqlx::query_as(concat!(columns!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    Ok(r.map(domain))
}
