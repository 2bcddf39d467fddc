//! Subnet writes: create (from `/MAAS/r/subnets`), edit and delete (on the
//! subnet page), and users' address reservations there (reserve, release).
//! The forms are read as the API's `subnets/` and `ipaddresses/` read
//! their parameters and go to the same services.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::net::{self, Cidr};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::ipaddresses::{self, ReserveRequest};
use crate::services::network::subnets::{self, Placement, SubnetFields, SubnetRead};
use crate::services::network::{not_found, vlans};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{FormBlock, confirm, confirmed, fail};
use crate::ui::netform::{Confirm, Parse, confirm_then, s};
use crate::ui::networks::vlan_label;
use crate::ui::session::Posted;

/// Every VLAN as a choice: "fabric / VLAN".
async fn vlan_choices(ui: &Ui, first: Option<&str>) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    if let Some(f) = first {
        out.push((String::new(), f.to_string()));
    }
    out.extend(vlans::list(ui).await?.iter().map(|v| {
        (
            s(&v["id"]),
            format!("{} / {}", s(&v["fabric"]), vlan_label(v)),
        )
    }));
    Ok(out)
}

fn check(name: &str, label: &str, on: bool) -> Field {
    let f = Field::text(name, label, if on { "1" } else { "" }).kind("checkbox");
    f.id(&format!("subnet-{name}"))
}

/// MAAS's reverse DNS modes (`rdns_mode`).
const RDNS_MODES: [(&str, &str); 3] = [
    ("0", "Disabled"),
    ("1", "Enabled"),
    ("2", "RFC 2317 (classless delegation)"),
];

/// The subnet form's fields (create: blank; edit: the subnet's values).
fn subnet_fields(sn: Option<&Value>, vlans: Vec<(String, String)>) -> Vec<Field> {
    let v = |k: &str| sn.map(|x| s(&x[k])).unwrap_or_default();
    let b = |k: &str| sn.is_none_or(|x| x[k].as_bool().unwrap_or(false));
    let dns = sn
        .and_then(|x| x["dns_servers"].as_array())
        .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let vlan = sn.map(|x| s(&x["vlan"]["id"])).unwrap_or_default();
    // MAAS's default for a new subnet: enabled.
    let rdns = sn.map(|x| s(&x["rdns_mode"])).unwrap_or_else(|| "2".into());
    let cidr = Field::text("cidr", "CIDR", &v("cidr")).id("subnet-cidr");
    vec![
        if sn.is_none() { cidr.required() } else { cidr },
        Field::text("name", "Name", &v("name")).id("subnet-name"),
        Field::text("description", "Description", &v("description")).id("subnet-description"),
        Field::text("vlan", "Fabric and VLAN", &vlan)
            .kind("select")
            .choices(vlans)
            .id("subnet-vlan"),
        Field::text("gateway_ip", "Gateway IP", &v("gateway_ip")).id("subnet-gateway_ip"),
        Field::text("dns_servers", "DNS servers (comma-separated)", &dns).id("subnet-dns_servers"),
        check(
            "managed",
            "Managed (MAAS allocates its addresses)",
            b("managed"),
        ),
        check("allow_dns", "Allow DNS resolution", b("allow_dns")),
        check("allow_proxy", "Allow the proxy", b("allow_proxy")),
        check(
            "active_discovery",
            "Active discovery (scan for devices)",
            sn.is_some_and(|x| x["active_discovery"].as_bool().unwrap_or(false)),
        ),
        Field::text("rdns_mode", "Reverse DNS", &rdns)
            .kind("select")
            .choices(
                RDNS_MODES
                    .iter()
                    .map(|(v, l)| (v.to_string(), l.to_string()))
                    .collect(),
            )
            .id("subnet-rdns_mode"),
    ]
}

/// The new-subnet form (on the subnets page).
pub async fn create_form(ui: &Ui) -> Result<FormBlock> {
    let vlans = vlan_choices(ui, Some("(a new fabric)")).await?;
    let mut f = FormBlock::new(
        "/MAAS/r/subnets/add",
        "Add subnet",
        subnet_fields(None, vlans),
    );
    f.id = "add-subnet".into();
    f.heading = "Add a subnet".into();
    Ok(f)
}

/// The edit form of the subnet page.
pub async fn edit_form(ui: &Ui, sn: &Value) -> Result<FormBlock> {
    let vlans = vlan_choices(ui, None).await?;
    let mut f = FormBlock::new(
        format!("/MAAS/r/subnet/{}/edit", s(&sn["id"])),
        "Save subnet",
        subnet_fields(Some(sn), vlans),
    );
    f.id = "edit-subnet".into();
    Ok(f)
}

/// The form read as the API's `subnets/` reads it (`api/networks/subnets.rs`);
/// checkboxes are always given (unchecked: false).
fn read(f: &mut Parse) -> (SubnetFields, Placement) {
    let cidr = match f.text("cidr") {
        None => None,
        Some(c) if c.is_empty() => {
            f.add("cidr", "This field cannot be blank.");
            None
        }
        Some(c) => match Cidr::parse(&c) {
            Ok(c) => Some(c),
            Err(e) => {
                f.add("cidr", e.to_string());
                None
            }
        },
    };
    let gateway = match f.text("gateway_ip") {
        None => None,
        Some(g) if g.is_empty() => Some(None),
        Some(g) => match net::parse_ip(&g) {
            Ok(ip) => Some(Some(ip)),
            Err(_) => {
                f.add("gateway_ip", "Enter a valid IPv4 or IPv6 address.");
                None
            }
        },
    };
    let dns_servers = f.text("dns_servers").map(|v| {
        let mut out = Vec::new();
        for d in v.split(|ch: char| ch == ',' || ch.is_whitespace()) {
            if d.is_empty() {
                continue;
            }
            match net::parse_ip(d) {
                Ok(ip) => out.push(ip.to_string()),
                Err(e) => f.add("dns_servers", e.to_string()),
            }
        }
        out
    });
    let rdns_mode = f
        .nonempty("rdns_mode")
        .and_then(|m| match m.parse::<i16>() {
            Ok(n @ 0..=2) => Some(n),
            _ => {
                f.add("rdns_mode", crate::services::network::invalid_choice(&m));
                None
            }
        });
    let fields = SubnetFields {
        cidr,
        name: f.text("name"),
        description: f.text("description"),
        gateway,
        dns_servers,
        rdns_mode,
        allow_dns: Some(f.form.checked("allow_dns")),
        allow_proxy: Some(f.form.checked("allow_proxy")),
        managed: Some(f.form.checked("managed")),
        active_discovery: Some(f.form.checked("active_discovery")),
    };
    let place = Placement {
        vlan: f.nonempty("vlan"),
        fabric: None,
        vid: None,
    };
    (fields, place)
}

/// POST `/MAAS/r/subnets/add` (admins, as `subnets/` POST).
pub async fn create(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut f = Parse::new(&p.form);
    let (fields, place) = read(&mut f);
    if fields.cidr.is_none() && f.text("cidr").is_none() {
        f.add("cidr", crate::ui::netform::REQUIRED);
    }
    match subnets::create(&ui, fields, &place, f.errs).await {
        Ok(v) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{}", s(&v["id"]))).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = create_form(&ui)
                .await
                .or_page(&nav)?
                .refill(&p.form)
                .error(&e);
            crate::ui::networks::list_with(&ui, &p.viewer, vec![form], StatusCode::BAD_REQUEST)
                .await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn subnet_id(id: &str) -> Result<i64> {
    id.trim().parse::<i64>().map_err(|_| not_found("Subnet"))
}

/// The subnet page again with a refused form, 400.
async fn refused(ui: &Ui, p: &Posted, id: i64, which: Which, form: FormBlock) -> PageResult {
    let nav = p.viewer.nav();
    let mut page = crate::ui::networks::page(ui, &p.viewer, &id.to_string(), &FormData::default())
        .await
        .or_page(&nav)?;
    match which {
        Which::Edit => page.edit = Some(form),
        Which::Reserve => page.reserve = form,
    }
    Ok((StatusCode::BAD_REQUEST, crate::ui::error::render(&page)).into_response())
}

enum Which {
    Edit,
    Reserve,
}

/// POST: the subnet's settings (admins, as `subnets/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = subnet_id(&id).or_page(&nav)?;
    let sn = subnets::get(&ui, &id.to_string(), SubnetRead::Subnet, Default::default())
        .await
        .or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let (fields, place) = read(&mut f);
    match subnets::update(&ui, &id.to_string(), fields, &place, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{id}")).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_))) => {
            let form = edit_form(&ui, &sn)
                .await
                .or_page(&nav)?
                .refill(&p.form)
                .error(&e);
            refused(&ui, &p, id, Which::Edit, form).await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: delete the subnet, after the confirm step (the service refuses
/// while nodes hold addresses on it, or while its VLAN's DHCP needs it).
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let id = subnet_id(&id).or_page(&nav)?;
    let sn = subnets::get(&ui, &id.to_string(), SubnetRead::Subnet, Default::default())
        .await
        .or_page(&nav)?;
    let force = p.form.checked("force");
    let c = Confirm {
        title: format!("Delete subnet {}", s(&sn["cidr"])),
        text: if force {
            format!(
                "Subnet {} is deleted even while machines hold addresses on it (the API's \
                 force=true); those addresses go with it.",
                s(&sn["cidr"])
            )
        } else {
            format!(
                "Subnet {} with its IP ranges and reservations will be deleted.",
                s(&sn["cidr"])
            )
        },
        action: format!("/MAAS/r/subnet/{id}/delete"),
        back: "/MAAS/r/subnets".into(),
        hidden: if force {
            vec![("force".into(), "1".into())]
        } else {
            vec![]
        },
    };
    let spec = id.to_string();
    confirm_then(&p, c, || subnets::delete(&ui, &spec, force)).await
}

/// The reserve form of the subnet page (any user, as the API allows).
pub fn reserve_form(id: i64) -> FormBlock {
    let mut f = FormBlock::new(
        format!("/MAAS/r/subnet/{id}/reserve"),
        "Reserve address",
        vec![
            Field::text("ip", "IP address (empty: the next free one)", "").id("reserve-ip"),
            Field::text("hostname", "Hostname or comment", "").id("reserve-hostname"),
            Field::text("mac", "MAC address (optional)", "").id("reserve-mac"),
        ],
    );
    f.id = "reserve".into();
    f.heading = "Reserve an address".into();
    f
}

/// POST: reserve an address on the subnet (as `ipaddresses/?op=reserve`);
/// the allocator's and the service's refusals go beside the IP field.
pub async fn reserve(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let id = subnet_id(&id).or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let ip = f.ip("ip", false);
    let mac = f.nonempty("mac");
    let mac = match mac {
        None => None,
        Some(m) => match maas_model::ids::normalize_mac(&m) {
            Some(n) => Some(n),
            None => {
                f.add("mac", format!("'{m}' is not a valid MAC address."));
                None
            }
        },
    };
    let result = if f.errs.is_empty() {
        let r = ReserveRequest {
            subnet: Some(id.to_string()),
            ip,
            hostname: f.text("hostname").unwrap_or_default(),
            mac,
        };
        ipaddresses::reserve(&ui, &p.viewer.user, r).await
    } else {
        Err(Error::Validation(f.errs))
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{id}#used")).into_response()),
        Err(
            Error::Forbidden(m) | Error::NotFound(m) | Error::BadRequest(m) | Error::Conflict(m),
        ) => {
            let e = Error::field("ip", m);
            refused(
                &ui,
                &p,
                id,
                Which::Reserve,
                reserve_form(id).refill(&p.form).error(&e),
            )
            .await
        }
        Err(e @ Error::Validation(_)) => {
            refused(
                &ui,
                &p,
                id,
                Which::Reserve,
                reserve_form(id).refill(&p.form).error(&e),
            )
            .await
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: release a reservation (`ip`), after the confirm step. Users
/// release their own; admins any (the API's `force=true`).
pub async fn release(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let id = subnet_id(&id).or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let Some(ip) = f.ip("ip", true) else {
        return Err(fail(&nav, Error::Validation(f.errs)));
    };
    let back = format!("/MAAS/r/subnet/{id}#used");
    if !confirmed(&p.form) {
        return Ok(confirm(
            nav,
            &format!("Release {ip}"),
            &format!("The reservation of {ip} will be released; the address is free again."),
            &format!("/MAAS/r/subnet/{id}/release"),
            vec![("ip".into(), ip.to_string())],
            &back,
        ));
    }
    let force = p.viewer.user.is_superuser;
    match ipaddresses::release(&ui, &p.viewer.user, ip, force).await {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(e) => Err(fail(&nav, e)),
    }
}
