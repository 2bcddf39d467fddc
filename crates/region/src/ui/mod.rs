//! The web UI at `/MAAS/r/`: server-rendered pages (askama templates in
//! `crates/region/templates/`), a little embedded client code (htmx and
//! `ui.js`), live updates over server-sent events. An edge like `api/`: it
//! parses, authorizes, calls the same services, renders; no SQL of its own.
//! See docs/ui.md.

mod add;
mod assets;
mod dns;
mod error;
mod events;
mod fields;
mod form;
mod machine;
mod machines;
mod machines_action;
mod netform;
mod networks;
mod pages;
mod session;
mod signin;
mod views;
mod vlan;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::services::Ctx;

/// Where the UI lives.
pub const BASE: &str = "/MAAS/r";

/// The UI's state: the services' context.
#[derive(Clone)]
pub struct Ui(pub Ctx);

impl std::ops::Deref for Ui {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.0
    }
}

/// The UI's routes (merged into the API's router by the wiring).
pub fn router(ctx: Ctx) -> Router {
    let home = || async { Redirect::to("/MAAS/r/machines") };
    Router::new()
        .route("/MAAS/r", get(home))
        .route("/MAAS/r/", get(home))
        .route("/MAAS/r/static/{file}", get(assets::serve))
        .route("/MAAS/r/login", get(signin::form).post(signin::submit))
        .route("/MAAS/r/logout", post(signin::logout))
        .route("/MAAS/r/machines", get(machines::list))
        .route("/MAAS/r/machines/action", post(machines::action))
        .route("/MAAS/r/machines/add", get(add::form).post(add::submit))
        .route("/MAAS/r/machine/{system_id}", get(machine::show))
        .route("/MAAS/r/machine/{system_id}/edit", post(machine::edit))
        .route("/MAAS/r/events", get(events::stream))
        .route("/MAAS/r/zones", get(pages::zones))
        .route("/MAAS/r/pools", get(pages::pools))
        .route("/MAAS/r/tags", get(pages::tags))
        .route("/MAAS/r/subnets", get(networks::list))
        .route("/MAAS/r/subnet/{id}", get(networks::show))
        .route("/MAAS/r/subnet/{id}/ranges", post(networks::add_range))
        .route("/MAAS/r/iprange/{id}/delete", post(networks::delete_range))
        .route("/MAAS/r/vlan/{id}", get(vlan::show))
        .route("/MAAS/r/vlan/{id}/edit", post(vlan::edit))
        .route("/MAAS/r/dns", get(dns::list))
        .route("/MAAS/r/dns/add", post(dns::add_domain))
        .route("/MAAS/r/domain/{id}", get(dns::show))
        .route("/MAAS/r/domain/{id}/delete", post(dns::delete_domain))
        .route("/MAAS/r/domain/{id}/records", post(dns::add_record))
        .route("/MAAS/r/dnsrecord/{id}/delete", post(dns::delete_record))
        .route(
            "/MAAS/r/dnsresource/{id}/address/delete",
            post(dns::delete_address),
        )
        .route("/MAAS/r/users", get(pages::users))
        .route("/MAAS/r/settings", get(pages::settings))
        .route("/MAAS/r/{*rest}", get(pages::not_found))
        .with_state(Ui(ctx))
        // Pages and assets gzip'ed for clients that ask; the event stream is
        // left alone (tower-http's default predicate skips text/event-stream).
        .layer(tower_http::compression::CompressionLayer::new())
}
