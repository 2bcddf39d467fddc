//! IP ranges: each lies in one subnet (named, or the most specific one
//! holding its start), fits what else occupies the subnet, and a
//! DHCP-enabled VLAN keeps a dynamic range. Writers lock the subnet first,
//! so concurrent writes to one subnet are checked in turn.

use std::net::IpAddr;

use maas_model::constraints::FieldErrors;
use maas_model::net::{self, RangeType};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::network::{
    add, db_ip, finish, keep_dhcp_pool, lock_subnet, not_found, owning_subnet, read, subnet_usage,
};
use crate::store::networks::ranges::{self, RangeValues};
use crate::store::{self, Conn};

/// Check a range against its subnet; errors go on start_ip/end_ip.
pub async fn check_range(
    c: &mut Conn,
    subnet_id: i64,
    without: Option<i64>,
    kind: RangeType,
    start: &IpAddr,
    end: &IpAddr,
) -> Result<()> {
    let mut errs = FieldErrors::new();
    let u = subnet_usage(c, subnet_id, without, None).await?;
    let problems = net::range_problems(&u.cidr, start, end);
    if !problems.is_empty() {
        for (f, m) in problems {
            add(&mut errs, f, m);
        }
    } else if let Err(m) = u.check_new_range(kind, start, end) {
        add(&mut errs, "start_ip", m.clone());
        add(&mut errs, "end_ip", m);
    }
    finish(errs)
}

/// Every IP range with its subnet, by id.
pub async fn list(ctx: &Ctx) -> Result<Vec<Value>> {
    let mut c = store::acquire(&ctx.db).await?;
    read::ipranges(&mut c, None).await
}

pub async fn get(ctx: &Ctx, id: i64) -> Result<Value> {
    let mut c = store::acquire(&ctx.db).await?;
    read::ipranges(&mut c, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("IPRange"))
}

/// A range's parameters as parsed (absent, or invalid: None).
#[derive(Debug, Default)]
pub struct RangeParams {
    pub kind: Option<RangeType>,
    pub start: Option<IpAddr>,
    pub end: Option<IpAddr>,
    pub comment: Option<String>,
    /// The `subnet` parameter, if non-empty.
    pub subnet: Option<String>,
}

/// Create an IP range for `user_id`; `errs` are the parameters'.
pub async fn create(
    ctx: &Ctx,
    p: RangeParams,
    user_id: i64,
    mut errs: FieldErrors,
) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let subnet = owning_subnet(
        &mut tx,
        p.subnet.as_deref(),
        p.start.as_ref(),
        "start_ip",
        &mut errs,
    )
    .await?;
    finish(errs)?;
    let (Some(kind), Some(start), Some(end), Some(subnet)) = (p.kind, p.start, p.end, subnet)
    else {
        return Err(Error::BadRequest("Incomplete IP range.".into()));
    };
    lock_subnet(&mut tx, subnet).await?;
    check_range(&mut tx, subnet, None, kind, &start, &end).await?;
    let v = RangeValues {
        kind,
        start,
        end,
        comment: p.comment.as_deref().unwrap_or_default(),
    };
    let id = ranges::insert(&mut tx, subnet, user_id, &v).await?;
    let out = read::ipranges(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

/// Update an IP range (absent parameters keep their value; it stays in its
/// subnet). `errs` are the parameters', reported once the range is found.
pub async fn update(ctx: &Ctx, id: i64, p: RangeParams, errs: FieldErrors) -> Result<Value> {
    let mut tx = store::begin(&ctx.db).await?;
    let subnet = ranges::subnet_of(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    lock_subnet(&mut tx, subnet).await?;
    let cur = ranges::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    let cur_kind = RangeType::parse(&cur.span.kind).unwrap_or(RangeType::Reserved);
    finish(errs)?;
    let kind = p.kind.unwrap_or(cur_kind);
    let start = match p.start {
        Some(s) => s,
        None => db_ip(&cur.span.start_ip)?,
    };
    let end = match p.end {
        Some(s) => s,
        None => db_ip(&cur.span.end_ip)?,
    };
    if cur_kind == RangeType::Dynamic && kind != RangeType::Dynamic {
        keep_dhcp_pool(&mut tx, cur.vlan_id, Some(id), None).await?;
    }
    check_range(&mut tx, subnet, Some(id), kind, &start, &end).await?;
    let v = RangeValues {
        kind,
        start,
        end,
        comment: p.comment.as_deref().unwrap_or(&cur.comment),
    };
    ranges::update(&mut tx, id, &v).await?;
    let out = read::ipranges(&mut tx, Some(id)).await?.pop();
    tx.commit().await?;
    Ok(out.unwrap_or(Value::Null))
}

/// Delete an IP range; a DHCP-enabled VLAN keeps a dynamic one.
pub async fn delete(ctx: &Ctx, id: i64) -> Result<()> {
    let mut tx = store::begin(&ctx.db).await?;
    let cur = ranges::lock(&mut tx, id)
        .await?
        .ok_or_else(|| not_found("IPRange"))?;
    if cur.span.kind == "dynamic" {
        keep_dhcp_pool(&mut tx, cur.vlan_id, Some(id), None).await?;
    }
    ranges::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
