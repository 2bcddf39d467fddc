//! Machine listings: MAAS's read filters, the opt-in `limit`/`cursor`
//! pagination, and `op=list_allocated`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maas_model::filter::MachineFilter;

use crate::api::app::{App, Req, json_bytes};
use crate::error::{Error, Result};
use crate::services::auth::User;
use crate::services::load::{self, Listing};

/// A listing as the response: the JSON array, and `X-MAAS-Next-Cursor`
/// when there is a further page.
pub fn listing_response(l: Listing) -> Response {
    let mut resp = json_bytes(StatusCode::OK, l.body);
    if let Some(n) = l.next_cursor
        && let Ok(v) = HeaderValue::from_str(&n)
    {
        resp.headers_mut().insert("x-maas-next-cursor", v);
    }
    resp
}

/// Opaque cursor for the opt-in pagination: the last row id, hex.
fn decode_cursor(c: &str) -> Result<i64> {
    c.strip_prefix('c')
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .ok_or_else(|| Error::field("cursor", "Invalid cursor."))
}

/// Machines the caller may see, by id.
pub fn visible_to(user: &User) -> MachineFilter {
    MachineFilter {
        visibility: user.visibility(),
        ..Default::default()
    }
}

pub async fn list(app: &App, req: &Req) -> Result<Response> {
    let user = req.user()?;
    let mut f = MachineFilter::from_read_params(&req.input.params).map_err(Error::Validation)?;
    f.visibility = user.visibility();
    let limit = req.input.int("limit")?;
    if let Some(l) = limit
        && !(1..=10_000).contains(&l)
    {
        return Err(Error::field("limit", "limit must be between 1 and 10000."));
    }
    if let Some(c) = req.input.get_nonempty("cursor") {
        if limit.is_none() {
            return Err(Error::field("cursor", "cursor needs limit."));
        }
        f.after_id = Some(decode_cursor(c)?);
    }
    Ok(listing_response(load::list(app, &f, limit).await?))
}

pub async fn list_allocated(app: &App, req: &Req) -> Result<Response> {
    let u = req.user()?;
    let f = MachineFilter {
        owner_id: Some(u.id),
        ..visible_to(u)
    };
    Ok(listing_response(load::list(app, &f, None).await?))
}
