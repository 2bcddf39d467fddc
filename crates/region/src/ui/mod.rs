//! The web UI at `/MAAS/r/`: server-rendered pages (askama templates in
//! `crates/region/templates/`), a little embedded client code (htmx and
//! `ui.js`), live updates over server-sent events. An edge like `api/`: it
//! parses, authorizes, calls the same services, renders; no SQL of its own.
//! See docs/ui.md.

mod account;
mod account_more;
mod add;
mod admin;
mod annotations;
mod assets;
mod controllers;
mod device_iface;
mod devices;
mod dns;
mod dns_resource;
mod error;
mod events;
mod fabrics;
mod fields;
mod form;
mod iface_params;
mod images;
mod kit;
mod machine;
mod machine_blockdev;
mod machine_disks;
mod machine_iface;
mod machine_net;
mod machine_special;
mod machines;
mod machines_action;
mod net_edit;
mod netform;
mod networks;
mod notifications;
mod pages;
mod places;
mod repos;
mod reservedips;
mod session;
mod signin;
mod spaces;
mod staticroutes;
mod subnet_edit;
mod tags;
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
        .route("/MAAS/r/machine/{system_id}/link", post(machine_net::link))
        .route(
            "/MAAS/r/machine/{system_id}/unlink",
            post(machine_net::unlink),
        )
        .route(
            "/MAAS/r/machine/{system_id}/vlan",
            post(machine_net::add_vlan),
        )
        .route(
            "/MAAS/r/machine/{system_id}/bond",
            post(machine_net::add_bond),
        )
        .route(
            "/MAAS/r/machine/{system_id}/interface",
            post(machine_iface::settings),
        )
        .route(
            "/MAAS/r/machine/{system_id}/interface/params",
            post(iface_params::save),
        )
        .route(
            "/MAAS/r/machine/{system_id}/physical",
            post(machine_iface::add_physical),
        )
        .route(
            "/MAAS/r/machine/{system_id}/bridge",
            post(machine_iface::add_bridge),
        )
        .route(
            "/MAAS/r/machine/{system_id}/gateway",
            post(machine_iface::default_gateway),
        )
        .route(
            "/MAAS/r/machine/{system_id}/interface/{id}/delete",
            post(machine_net::delete),
        )
        .route(
            "/MAAS/r/machine/{system_id}/partitions",
            post(machine_disks::add_partition),
        )
        .route(
            "/MAAS/r/machine/{system_id}/partition/delete",
            post(machine_disks::delete_partition),
        )
        .route(
            "/MAAS/r/machine/{system_id}/annotations",
            post(annotations::set),
        )
        .route(
            "/MAAS/r/machine/{system_id}/special",
            post(machine_special::mount),
        )
        .route(
            "/MAAS/r/machine/{system_id}/special/unmount",
            post(machine_special::unmount),
        )
        .route(
            "/MAAS/r/machine/{system_id}/restore",
            post(machine_special::restore),
        )
        .route(
            "/MAAS/r/machine/{system_id}/gateways/clear",
            post(machine_special::clear_gateways),
        )
        .route(
            "/MAAS/r/machine/{system_id}/disks",
            post(machine_blockdev::add),
        )
        .route(
            "/MAAS/r/machine/{system_id}/disk/edit",
            post(machine_blockdev::edit),
        )
        .route(
            "/MAAS/r/machine/{system_id}/disk/tag",
            post(machine_blockdev::tag),
        )
        .route(
            "/MAAS/r/machine/{system_id}/disk/delete",
            post(machine_blockdev::delete),
        )
        .route(
            "/MAAS/r/machine/{system_id}/format",
            post(machine_disks::format),
        )
        .route(
            "/MAAS/r/machine/{system_id}/mount",
            post(machine_disks::mount),
        )
        .route(
            "/MAAS/r/machine/{system_id}/unmount",
            post(machine_disks::unmount),
        )
        .route(
            "/MAAS/r/machine/{system_id}/unformat",
            post(machine_disks::unformat),
        )
        .route(
            "/MAAS/r/machine/{system_id}/boot-disk",
            post(machine_disks::boot_disk),
        )
        .route(
            "/MAAS/r/machine/{system_id}/layout",
            post(machine_disks::set_layout),
        )
        .route("/MAAS/r/events", get(events::stream))
        .route("/MAAS/r/zones", get(places::zones))
        .route("/MAAS/r/zones/add", post(places::create_zone))
        .route("/MAAS/r/zone/{name}", get(places::zone))
        .route("/MAAS/r/zone/{name}/edit", post(places::edit_zone))
        .route("/MAAS/r/zone/{name}/delete", post(places::delete_zone))
        .route("/MAAS/r/pools", get(places::pools))
        .route("/MAAS/r/pools/add", post(places::create_pool))
        .route("/MAAS/r/pool/{id}", get(places::pool))
        .route("/MAAS/r/pool/{id}/edit", post(places::edit_pool))
        .route("/MAAS/r/pool/{id}/delete", post(places::delete_pool))
        .route("/MAAS/r/tags", get(tags::list))
        .route("/MAAS/r/tags/add", post(tags::create))
        .route("/MAAS/r/tag/{name}", get(tags::show))
        .route("/MAAS/r/tag/{name}/edit", post(tags::edit))
        .route("/MAAS/r/tag/{name}/delete", post(tags::delete))
        .route("/MAAS/r/subnets", get(networks::list))
        .route("/MAAS/r/subnets/add", post(subnet_edit::create))
        .route("/MAAS/r/subnet/{id}", get(networks::show))
        .route("/MAAS/r/subnet/{id}/edit", post(subnet_edit::edit))
        .route("/MAAS/r/subnet/{id}/delete", post(subnet_edit::delete))
        .route("/MAAS/r/subnet/{id}/reserve", post(subnet_edit::reserve))
        .route("/MAAS/r/subnet/{id}/release", post(subnet_edit::release))
        .route("/MAAS/r/subnet/{id}/reservedips", post(reservedips::add))
        .route("/MAAS/r/subnet/{id}/routes", post(staticroutes::add))
        .route("/MAAS/r/repositories", get(repos::list))
        .route("/MAAS/r/repositories/add", post(repos::create))
        .route("/MAAS/r/repositories/licenses", post(repos::add_license))
        .route(
            "/MAAS/r/repositories/license/delete",
            post(repos::delete_license),
        )
        .route("/MAAS/r/repository/{id}", get(repos::show))
        .route("/MAAS/r/repository/{id}/edit", post(repos::edit))
        .route("/MAAS/r/repository/{id}/delete", post(repos::delete))
        .route("/MAAS/r/notifications", get(notifications::list))
        .route("/MAAS/r/notifications/add", post(notifications::create))
        .route("/MAAS/r/notification/{id}", get(notifications::show))
        .route("/MAAS/r/notification/{id}/edit", post(notifications::edit))
        .route(
            "/MAAS/r/notification/{id}/dismiss",
            post(notifications::dismiss),
        )
        .route(
            "/MAAS/r/notification/{id}/delete",
            post(notifications::delete),
        )
        .route("/MAAS/r/staticroute/{id}", get(staticroutes::show))
        .route("/MAAS/r/staticroute/{id}/edit", post(staticroutes::edit))
        .route(
            "/MAAS/r/staticroute/{id}/delete",
            post(staticroutes::delete),
        )
        .route("/MAAS/r/reservedip/{id}", get(reservedips::show))
        .route("/MAAS/r/reservedip/{id}/edit", post(reservedips::edit))
        .route("/MAAS/r/reservedip/{id}/delete", post(reservedips::delete))
        .route("/MAAS/r/fabrics/add", post(fabrics::create))
        .route("/MAAS/r/fabric/{id}", get(fabrics::show))
        .route("/MAAS/r/fabric/{id}/edit", post(fabrics::edit))
        .route("/MAAS/r/fabric/{id}/vlans", post(fabrics::add_vlan))
        .route("/MAAS/r/fabric/{id}/delete", post(fabrics::delete))
        .route("/MAAS/r/vlan/{id}/delete", post(fabrics::delete_vlan))
        .route("/MAAS/r/spaces", get(spaces::list))
        .route("/MAAS/r/spaces/add", post(spaces::create))
        .route("/MAAS/r/space/{id}", get(spaces::show))
        .route("/MAAS/r/space/{id}/edit", post(spaces::edit))
        .route("/MAAS/r/space/{id}/delete", post(spaces::delete))
        .route("/MAAS/r/subnet/{id}/ranges", post(networks::add_range))
        .route("/MAAS/r/iprange/{id}/delete", post(networks::delete_range))
        .route("/MAAS/r/iprange/{id}", get(net_edit::show_range))
        .route("/MAAS/r/iprange/{id}/edit", post(net_edit::edit_range))
        .route("/MAAS/r/dnsresource/{id}", get(dns_resource::show))
        .route("/MAAS/r/dnsresource/{id}/edit", post(dns_resource::edit))
        .route("/MAAS/r/dnsrecord/{id}", get(net_edit::show_record))
        .route("/MAAS/r/dnsrecord/{id}/edit", post(net_edit::edit_record))
        .route(
            "/MAAS/r/domain/{id}/edit",
            get(net_edit::show_domain).post(net_edit::edit_domain),
        )
        .route("/MAAS/r/domain/{id}/default", post(net_edit::set_default))
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
        .route("/MAAS/r/users", get(admin::users))
        .route("/MAAS/r/users/add", post(admin::create_user))
        .route("/MAAS/r/user/{name}/delete", post(admin::delete_user))
        .route("/MAAS/r/user/{name}/role", post(admin::set_role))
        .route(
            "/MAAS/r/settings",
            get(admin::settings).post(admin::save_settings),
        )
        .route("/MAAS/r/intro", get(admin::intro).post(admin::finish_intro))
        .route("/MAAS/r/controllers", get(controllers::list))
        .route("/MAAS/r/controller/{system_id}", get(controllers::show))
        .route(
            "/MAAS/r/controller/{system_id}/delete",
            post(controllers::delete),
        )
        .route("/MAAS/r/devices", get(devices::list))
        .route(
            "/MAAS/r/devices/add",
            get(devices::add).post(devices::submit),
        )
        .route("/MAAS/r/device/{system_id}", get(devices::show))
        .route("/MAAS/r/device/{system_id}/edit", post(devices::edit))
        .route("/MAAS/r/device/{system_id}/delete", post(devices::delete))
        .route(
            "/MAAS/r/device/{system_id}/interfaces",
            post(device_iface::add),
        )
        .route("/MAAS/r/device/{system_id}/link", post(device_iface::link))
        .route(
            "/MAAS/r/device/{system_id}/interface/edit",
            post(device_iface::change),
        )
        .route(
            "/MAAS/r/device/{system_id}/interface/{id}/delete",
            post(device_iface::delete),
        )
        .route(
            "/MAAS/r/device/{system_id}/interface/{id}/unlink",
            post(device_iface::unlink),
        )
        .route("/MAAS/r/account", get(account::show))
        .route("/MAAS/r/account/sshkeys", post(account::add_ssh_key))
        .route(
            "/MAAS/r/account/sshkey/{id}/delete",
            post(account::delete_ssh_key),
        )
        .route("/MAAS/r/account/tokens", post(account::create_token))
        .route("/MAAS/r/account/token/delete", post(account::delete_token))
        .route(
            "/MAAS/r/account/token/rename",
            post(account_more::rename_token),
        )
        .route("/MAAS/r/account/sslkeys", post(account_more::add_ssl))
        .route(
            "/MAAS/r/account/sslkey/{id}/delete",
            post(account_more::delete_ssl),
        )
        .route("/MAAS/r/images", get(images::list))
        .route("/MAAS/r/images/upload", post(images::upload))
        .route("/MAAS/r/image/{id}/delete", post(images::delete))
        .route("/MAAS/r/{*rest}", get(pages::not_found))
        .with_state(Ui(ctx))
        // Pages and assets gzip'ed for clients that ask; the event stream is
        // left alone (tower-http's default predicate skips text/event-stream).
        .layer(tower_http::compression::CompressionLayer::new())
}
