//! `maas/?op=get_config|set_config`.

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;

use crate::api::app::{App, Req, json};
use crate::error::{Error, Result};
use crate::services::config;

pub async fn maas(State(app): State<App>, req: Req) -> Result<Response> {
    match (&req.method, req.op()) {
        (&Method::GET, Some("get_config")) => {
            req.user()?;
            let name = req
                .input
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?;
            Ok(json(&config::get(&app.db, name).await?))
        }
        (&Method::POST, Some("set_config")) => {
            let u = req.admin()?;
            let name = req
                .input
                .get_nonempty("name")
                .ok_or_else(|| Error::field("name", "This field is required."))?;
            let value = req
                .input
                .get("value")
                .ok_or_else(|| Error::field("value", "This field is required."))?;
            config::change(&app.db, &u.username, name, value).await?;
            Ok(json(&"OK"))
        }
        _ => Err(req.unknown_op()),
    }
}
