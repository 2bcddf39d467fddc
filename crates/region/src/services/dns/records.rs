//! DNS resource records (CNAME, MX, NS, SRV, SSHFP, TXT): data checked per
//! type, a CNAME alone on its name.

use maas_model::constraints::FieldErrors;
use maas_model::dns::{self as rules, CNAME_AND_OTHER, MULTI_CNAME};

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::dns::resources::separate_fqdn;
use crate::services::dns::{add, finish, not_found, resolve_domain};
use crate::store::dns::records::{self as db, DataFilter, DataRow};
use crate::store::dns::resources as res_db;
use crate::store::{self, Conn};

/// The listing's filters as given.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub fqdn: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub rrtype: Option<String>,
}

pub async fn list(ctx: &Ctx, r: ListRequest) -> Result<Vec<DataRow>> {
    let mut c = store::acquire(&ctx.db).await?;
    let (mut name, mut domain) = (r.name, r.domain);
    if domain.is_none()
        && name.is_none()
        && let Some(f) = &r.fqdn
    {
        match separate_fqdn(&mut c, f, r.rrtype.as_deref()).await? {
            Some((n, d)) => (name, domain) = (Some(n), Some(d)),
            None => name = Some(f.clone()),
        }
    }
    let domain_id = match &domain {
        Some(d) => Some(resolve_domain(&mut c, d).await?.id),
        None => None,
    };
    db::list(
        &mut c,
        &DataFilter {
            domain_id,
            name,
            rrtype: r.rrtype,
            ..Default::default()
        },
    )
    .await
}

async fn one(c: &mut Conn, id: i64) -> Result<DataRow> {
    db::list(
        c,
        &DataFilter {
            id: Some(id),
            ..Default::default()
        },
    )
    .await?
    .pop()
    .ok_or_else(|| not_found("DNSData"))
}

fn parse_id(spec: &str) -> Result<i64> {
    spec.parse().map_err(|_| not_found("DNSData"))
}

pub async fn get(ctx: &Ctx, spec: &str) -> Result<DataRow> {
    let mut c = store::acquire(&ctx.db).await?;
    one(&mut c, parse_id(spec)?).await
}

/// A record's fields as given.
#[derive(Debug, Default)]
pub struct RecordRequest {
    pub fqdn: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub rrtype: Option<String>,
    pub rrdata: Option<String>,
    /// `Some(None)`: clear it.
    pub ttl: Option<Option<i32>>,
}

/// Check the type and data; the type upper-cased if valid.
fn check_type_and_data(rrtype: &str, rrdata: &str, errs: &mut FieldErrors) -> Option<String> {
    match rules::check_rrtype(rrtype) {
        Ok(t) => {
            if let Err(e) = rules::check_rrdata(&t, rrdata) {
                add(errs, "__all__", e);
            }
            Some(t)
        }
        Err(e) => {
            add(errs, "rrtype", e);
            None
        }
    }
}

/// A CNAME is alone on its name: no other record, no address, no second
/// CNAME (record `not` aside).
async fn check_cname(
    c: &mut Conn,
    resource_id: Option<i64>,
    rrtype: &str,
    not: Option<i64>,
    errs: &mut FieldErrors,
) -> Result<()> {
    let Some(rid) = resource_id else {
        return Ok(());
    };
    let types = db::types(c, rid, not).await?;
    let cname = types.iter().any(|t| t == "CNAME");
    if rrtype == "CNAME" {
        if types.iter().any(|t| t != "CNAME") || res_db::has_ips(c, rid).await? {
            add(errs, "__all__", CNAME_AND_OTHER);
        } else if cname {
            add(errs, "__all__", MULTI_CNAME);
        }
    } else if cname {
        add(errs, "__all__", CNAME_AND_OTHER);
    }
    Ok(())
}

/// The (name, domain) a request gives: its own, else split from `fqdn`.
async fn given_name(
    c: &mut Conn,
    r: &RecordRequest,
    rrtype: &str,
) -> Result<(Option<String>, Option<String>)> {
    if r.domain.is_none()
        && r.name.is_none()
        && let Some(f) = &r.fqdn
        && let Some((n, d)) = separate_fqdn(c, f, Some(rrtype)).await?
    {
        return Ok((Some(n), Some(d)));
    }
    Ok((r.name.clone(), r.domain.clone()))
}

pub async fn create(ctx: &Ctx, r: RecordRequest, mut errs: FieldErrors) -> Result<DataRow> {
    let Some(rrtype) = r.rrtype.clone() else {
        return Err(Error::BadRequest("rrtype must be provided.".into()));
    };
    let Some(rrdata) = r.rrdata.clone() else {
        return Err(Error::BadRequest("rrdata must be provided.".into()));
    };
    let mut tx = store::begin(&ctx.db).await?;
    let (name, domain) = given_name(&mut tx, &r, &rrtype).await?;
    let domain = match &domain {
        Some(d) => Some(resolve_domain(&mut tx, d).await?),
        None => None,
    };
    let (Some(domain), Some(name)) = (domain, name) else {
        return Err(Error::BadRequest(
            "Either name and domain (or fqdn) must be specified".into(),
        ));
    };
    if rrdata.is_empty() {
        add(&mut errs, "rrdata", "This field is required.");
    }
    let t = check_type_and_data(&rrtype, &rrdata, &mut errs);
    if t.as_deref() == Some("SRV")
        && let Err(e) = rules::check_resource_name(&name, "SRV")
    {
        add(&mut errs, "name", e);
    }
    let existing = res_db::by_name(&mut tx, domain.id, &name).await?;
    if let Some(t) = &t {
        check_cname(&mut tx, existing, t, None, &mut errs).await?;
    }
    finish(errs)?;
    let Some(rrtype) = t else {
        return Err(Error::internal("checked above"));
    };
    let rid = match existing {
        Some(id) => id,
        None => res_db::insert(&mut tx, &name, domain.id, None).await?,
    };
    let id = db::insert(&mut tx, rid, r.ttl.flatten(), &rrtype, &rrdata).await?;
    let out = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn update(
    ctx: &Ctx,
    spec: &str,
    r: RecordRequest,
    mut errs: FieldErrors,
) -> Result<DataRow> {
    let id = parse_id(spec)?;
    let mut tx = store::begin(&ctx.db).await?;
    let Some((rid, cur_ttl, cur_type, cur_data)) = db::lock(&mut tx, id).await? else {
        return Err(not_found("DNSData"));
    };
    let rrtype = r.rrtype.unwrap_or(cur_type);
    let rrdata = r.rrdata.unwrap_or(cur_data);
    if rrdata.is_empty() {
        add(&mut errs, "rrdata", "This field is required.");
    }
    // As MAAS: a record stays in its resource (name and domain are the
    // resource's, changed through `dnsresources/`).
    let t = check_type_and_data(&rrtype, &rrdata, &mut errs);
    if let Some(t) = &t {
        check_cname(&mut tx, Some(rid), t, Some(id), &mut errs).await?;
        if t == "SRV" {
            let name = one(&mut tx, id).await?.name;
            if let Err(e) = rules::check_resource_name(&name, "SRV") {
                add(&mut errs, "name", e);
            }
        }
    }
    finish(errs)?;
    let Some(rrtype) = t else {
        return Err(Error::internal("checked above"));
    };
    db::update(&mut tx, id, r.ttl.unwrap_or(cur_ttl), &rrtype, &rrdata).await?;
    let out = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Delete a record; its resource goes too when nothing is left in it.
pub async fn delete(ctx: &Ctx, spec: &str) -> Result<()> {
    let id = parse_id(spec)?;
    let mut tx = store::begin(&ctx.db).await?;
    let Some((rid, ..)) = db::lock(&mut tx, id).await? else {
        return Err(not_found("DNSData"));
    };
    db::delete(&mut tx, id).await?;
    res_db::delete_if_empty(&mut tx, rid).await?;
    tx.commit().await?;
    Ok(())
}
