//! DNS domains: create, rename, TTL, authority, the one default, the SOA
//! serial, and deletion of a domain nothing uses.

use maas_model::constraints::FieldErrors;
use maas_model::dns::{KEEP_DOMAIN_ON_DEFAULT_CHANGE, check_domain_name};

use crate::error::{Error, Result};
use crate::services::dns::{add, finish, resolve_domain};
use crate::services::{Ctx, config};
use crate::store::dns::domains::{self as db, DomainFields};
use crate::store::{self, Conn};

pub use crate::store::dns::domains::Domain;

pub async fn list(ctx: &Ctx) -> Result<Vec<Domain>> {
    let mut c = store::acquire(&ctx.db).await?;
    db::list(&mut *c).await
}

/// A domain by id or name (as given in the URL).
pub async fn get(ctx: &Ctx, spec: &str) -> Result<Domain> {
    let mut c = store::acquire(&ctx.db).await?;
    resolve_domain(&mut c, spec).await
}

/// A domain's fields as given: absent ones keep their value (or take the
/// default on create); `ttl: Some(None)` clears the TTL.
#[derive(Debug, Default)]
pub struct DomainRequest {
    pub name: Option<String>,
    pub ttl: Option<Option<i32>>,
    pub authoritative: Option<bool>,
}

/// Check a name (trailing dot dropped) and its uniqueness.
async fn check_name(
    c: &mut Conn,
    name: &str,
    not: Option<i64>,
    errs: &mut FieldErrors,
) -> Result<String> {
    let name = name.strip_suffix('.').unwrap_or(name).to_string();
    if let Err(e) = check_domain_name(&name) {
        add(errs, "name", e);
    } else if name == config::get_str(&mut *c, "maas_internal_domain").await? {
        add(
            errs,
            "name",
            "Domain name cannot duplicate maas internal domain name.",
        );
    } else if db::name_taken(c, &name, not).await? {
        add(errs, "name", "Domain with this Name already exists.");
    }
    Ok(name)
}

pub async fn create(ctx: &Ctx, r: DomainRequest, mut errs: FieldErrors) -> Result<Domain> {
    let mut tx = store::begin(&ctx.db).await?;
    let name = match r.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => check_name(&mut tx, n, None, &mut errs).await?,
        None => {
            add(&mut errs, "name", "This field is required.");
            String::new()
        }
    };
    finish(errs)?;
    let f = DomainFields {
        name,
        ttl: r.ttl.flatten(),
        authoritative: r.authoritative.unwrap_or(true),
    };
    let id = db::insert(&mut tx, &f).await?;
    db::adopt_apex(&mut tx, id, &f.name).await?;
    let d = db::by_id(&mut *tx, id).await?;
    tx.commit().await?;
    d.ok_or_else(|| Error::internal("created domain vanished"))
}

pub async fn update(
    ctx: &Ctx,
    spec: &str,
    r: DomainRequest,
    mut errs: FieldErrors,
) -> Result<Domain> {
    let mut tx = store::begin(&ctx.db).await?;
    let cur = resolve_domain(&mut tx, spec).await?;
    db::lock(&mut tx, cur.id).await?;
    let name = match r.name.as_deref() {
        Some("") => {
            add(&mut errs, "name", "This field is required.");
            cur.name.clone()
        }
        Some(n) => check_name(&mut tx, n, Some(cur.id), &mut errs).await?,
        None => cur.name.clone(),
    };
    finish(errs)?;
    let f = DomainFields {
        name,
        ttl: r.ttl.unwrap_or(cur.ttl),
        authoritative: r.authoritative.unwrap_or(cur.authoritative),
    };
    db::update(&mut tx, cur.id, &f).await?;
    db::adopt_apex(&mut tx, cur.id, &f.name).await?;
    let d = db::by_id(&mut *tx, cur.id).await?;
    tx.commit().await?;
    d.ok_or_else(|| Error::internal("updated domain vanished"))
}

/// Delete a domain: never the default, never one machines, devices or DNS
/// resources still use.
pub async fn delete(ctx: &Ctx, spec: &str) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let cur = resolve_domain(&mut tx, spec).await?;
    db::lock(&mut tx, cur.id).await?;
    if cur.is_default {
        return Err(Error::BadRequest(
            "This domain is the default domain, it cannot be deleted.".into(),
        ));
    }
    let (nodes, resources) = db::users(&mut tx, cur.id).await?;
    if nodes > 0 || resources > 0 {
        let mut by = Vec::new();
        if nodes > 0 {
            by.push("'Node.domain'");
        }
        if resources > 0 {
            by.push("'DNSResource.domain'");
        }
        return Err(Error::BadRequest(format!(
            "Cannot delete some instances of model 'Domain' because they are referenced \
             through protected foreign keys: {}.",
            by.join(", ")
        )));
    }
    db::delete(&mut tx, cur.id).await?;
    tx.commit().await?;
    Ok(())
}

/// Make the domain the default (the only one); new machines go there, and
/// so do the previous default's machines that are not in use (MAAS:
/// allocated, deployed, commissioning, testing or rescue keep theirs). A
/// hostname the new domain has already refuses the change.
pub async fn set_default(ctx: &Ctx, spec: &str) -> Result<Domain> {
    let mut tx = store::begin(&ctx.db).await?;
    let cur = resolve_domain(&mut tx, spec).await?;
    let keep: Vec<i16> = KEEP_DOMAIN_ON_DEFAULT_CHANGE
        .iter()
        .map(|s| s.as_i16())
        .collect();
    db::set_default(&mut tx, cur.id, &keep).await?;
    let d = db::by_id(&mut *tx, cur.id).await?;
    tx.commit().await?;
    d.ok_or_else(|| Error::internal("domain vanished"))
}

/// Set the SOA serial the next zone change uses (checked by the caller).
pub async fn set_serial(ctx: &Ctx, serial: i64) -> Result<()> {
    let mut c = store::acquire(&ctx.db).await?;
    db::set_serial(&mut c, serial).await
}

/// The default domain's id.
pub async fn default_id(c: &mut Conn) -> Result<i64> {
    db::default_id(c).await
}
