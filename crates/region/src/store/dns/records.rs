//! DNS resource records other than addresses (MAAS's DNSData).

use sqlx::QueryBuilder;

use crate::error::Result;
use crate::store::Conn;

#[derive(Debug, Clone)]
pub struct DataRow {
    pub id: i64,
    pub dnsresource_id: i64,
    pub name: String,
    pub domain_id: i64,
    pub domain_name: String,
    pub ttl: Option<i32>,
    pub rrtype: String,
    pub rrdata: String,
}

impl DataRow {
    pub fn fqdn(&self) -> String {
        super::resources::fqdn(&self.name, &self.domain_name)
    }
}

/// Which records to list.
#[derive(Debug, Default, Clone)]
pub struct DataFilter {
    pub id: Option<i64>,
    pub resource_ids: Option<Vec<i64>>,
    pub domain_id: Option<i64>,
    pub name: Option<String>,
    pub rrtype: Option<String>,
}

type Tuple = (i64, i64, String, i64, String, Option<i32>, String, String);

/// Records by domain, name, type, id.
pub async fn list(c: &mut Conn, f: &DataFilter) -> Result<Vec<DataRow>> {
    let mut q = QueryBuilder::new(
        "SELECT x.id, x.dnsresource_id, r.name, r.domain_id, d.name, x.ttl, x.rrtype, x.rrdata
           FROM dnsdata x JOIN dnsresources r ON r.id = x.dnsresource_id
           JOIN domains d ON d.id = r.domain_id WHERE true",
    );
    if let Some(id) = f.id {
        q.push(" AND x.id = ").push_bind(id);
    }
    if let Some(ids) = &f.resource_ids {
        q.push(" AND x.dnsresource_id = ANY(")
            .push_bind(ids.clone())
            .push(")");
    }
    if let Some(d) = f.domain_id {
        q.push(" AND r.domain_id = ").push_bind(d);
    }
    if let Some(n) = &f.name {
        q.push(" AND r.name = ").push_bind(n.clone());
    }
    if let Some(t) = &f.rrtype {
        q.push(" AND x.rrtype = ").push_bind(t.clone());
    }
    q.push(" ORDER BY r.domain_id, r.name COLLATE \"C\", x.rrtype, x.id");
    let rows: Vec<Tuple> = q.build_query_as().fetch_all(&mut *c).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, dnsresource_id, name, domain_id, domain_name, ttl, rrtype, rrdata)| DataRow {
                id,
                dnsresource_id,
                name,
                domain_id,
                domain_name,
                ttl,
                rrtype,
                rrdata,
            },
        )
        .collect())
}

/// Lock the record for this transaction: (resource, ttl, type, data).
pub async fn lock(c: &mut Conn, id: i64) -> Result<Option<(i64, Option<i32>, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT dnsresource_id, ttl, rrtype, rrdata FROM dnsdata WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

/// The types of the resource's records (but record `not`).
pub async fn types(c: &mut Conn, resource_id: i64, not: Option<i64>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT rrtype FROM dnsdata WHERE dnsresource_id = $1 AND id IS DISTINCT FROM $2",
    )
    .bind(resource_id)
    .bind(not)
    .fetch_all(&mut *c)
    .await?)
}

pub async fn insert(
    c: &mut Conn,
    resource_id: i64,
    ttl: Option<i32>,
    rrtype: &str,
    rrdata: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO dnsdata (dnsresource_id, ttl, rrtype, rrdata) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(resource_id)
    .bind(ttl)
    .bind(rrtype)
    .bind(rrdata)
    .fetch_one(&mut *c)
    .await?)
}

pub async fn update(
    c: &mut Conn,
    id: i64,
    ttl: Option<i32>,
    rrtype: &str,
    rrdata: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE dnsdata SET ttl = $2, rrtype = $3, rrdata = $4, updated = now() WHERE id = $1",
    )
    .bind(id)
    .bind(ttl)
    .bind(rrtype)
    .bind(rrdata)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM dnsdata WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
