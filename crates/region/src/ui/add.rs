//! `/MAAS/r/machines/add`: the add-machine form. Power fields follow the
//! chosen power type; the service validates, and its field errors are shown
//! beside the fields.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::ids;
use maas_model::power::POWER_TYPES;

use crate::error::{Error, Result};
use crate::services::machines::{self, CreateRequest, PowerParams};
use crate::services::places;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult, message, render};
use crate::ui::fields::{Field, PowerSet, attach, power_fields, power_sets};
use crate::ui::form::FormData;
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::Nav;

const ARCHES: &[&str] = &[
    "amd64/generic",
    "arm64/generic",
    "i386/generic",
    "ppc64el/generic",
    "s390x/generic",
];

#[derive(Template)]
#[template(path = "add.html")]
struct AddPage {
    nav: Nav,
    fields: Vec<Field>,
    power_type: Field,
    power: Vec<PowerSet>,
    errors: Vec<String>,
}

async fn page(ui: &Ui, viewer: &Viewer, form: &FormData) -> Result<AddPage> {
    let zones: Vec<String> = places::zones(&ui.db)
        .await?
        .into_iter()
        .map(|z| z.name)
        .collect();
    let pools: Vec<String> = places::pools(&ui.db)
        .await?
        .into_iter()
        .map(|z| z.name)
        .collect();
    let arches: Vec<String> = ARCHES.iter().map(|s| s.to_string()).collect();
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let mut fields = vec![
        Field::text("hostname", "Hostname (blank: generated)", &v("hostname")),
        Field::select("architecture", "Architecture", &v("architecture"), &arches),
        Field::text(
            "mac_addresses",
            "MAC addresses (comma-separated)",
            &v("mac_addresses"),
        )
        .required(),
        Field::select("zone", "Zone", &v("zone"), &zones),
        Field::select("pool", "Resource pool", &v("pool"), &pools),
        Field::text("description", "Description", &v("description")),
    ];
    if viewer.user.is_superuser {
        let mut c = Field::text("commission", "Commission after adding", "").kind("checkbox");
        if form.0.is_empty() || form.checked("commission") {
            c.value = "1".into();
        }
        fields.push(c);
    }
    let chosen = form.get("power_type").unwrap_or("manual");
    let mut pt = Field::text("power_type", "Power type", chosen).kind("select");
    pt.options = POWER_TYPES
        .iter()
        .map(|(n, l, _)| (n.to_string(), l.to_string()))
        .collect();
    let mut power = power_sets(chosen, &Default::default());
    // Values typed into the chosen type's fields come back on an error.
    for ps in power.iter_mut().filter(|p| p.selected) {
        for f in ps.fields.iter_mut().filter(|f| f.kind != "password") {
            f.value = v(&f.name);
        }
    }
    Ok(AddPage {
        nav: viewer.nav(),
        fields,
        power_type: pt,
        power,
        errors: Vec::new(),
    })
}

pub async fn form(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    let p = page(&ui, &viewer, &FormData::default())
        .await
        .or_page(&viewer.nav())?;
    Ok(render(&p))
}

/// The create request from the form; invalid fields as one validation error.
fn request(f: &FormData, is_admin: bool) -> Result<CreateRequest> {
    let mut errs = maas_model::constraints::FieldErrors::new();
    let mut macs = Vec::new();
    for m in f.get("mac_addresses").unwrap_or("").split([',', ' ', '\n']) {
        let m = m.trim();
        if m.is_empty() {
            continue;
        }
        match ids::normalize_mac(m) {
            Some(n) if !macs.contains(&n) => macs.push(n),
            Some(_) => {}
            None => errs
                .entry("mac_addresses".into())
                .or_default()
                .push(format!("'{m}' is not a valid MAC address.")),
        }
    }
    if macs.is_empty() && !errs.contains_key("mac_addresses") {
        errs.insert(
            "mac_addresses".into(),
            vec!["Give at least one MAC address.".into()],
        );
    }
    let arch = f
        .text("architecture")
        .unwrap_or_else(|| "amd64/generic".into());
    if !ARCHES.contains(&arch.as_str()) {
        errs.insert(
            "architecture".into(),
            vec![format!("'{arch}' is not offered.")],
        );
    }
    let mut hostname = None;
    if let Some(h) = f.text("hostname") {
        match ids::split_fqdn(&h) {
            Ok((host, None)) => hostname = Some(host.to_string()),
            Ok((_, Some(_))) => {
                errs.insert(
                    "hostname".into(),
                    vec!["Give the short name (no domain).".into()],
                );
            }
            Err(e) => {
                errs.insert("hostname".into(), vec![e]);
            }
        }
    }
    let power_type = f.text("power_type").unwrap_or_else(|| "manual".into());
    if !errs.is_empty() {
        return Err(Error::Validation(errs));
    }
    Ok(CreateRequest {
        architecture: arch,
        macs,
        hostname,
        power_params: PowerParams {
            json: None,
            fields: power_fields(f, &power_type),
        },
        power_type,
        commission: is_admin && f.checked("commission"),
        deployed: false,
        cpu_count: 0,
        memory: 0,
        domain: None,
        zone: f.text("zone"),
        pool: f.text("pool"),
        description: f.get("description").unwrap_or("").to_string(),
        min_hwe_kernel: String::new(),
        hardware_uuid: None,
    })
}

pub async fn submit(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = &p.viewer.user;
    let made = match request(&p.form, user.is_superuser) {
        Ok(r) => machines::create(&ui, Some(user), r).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(sid) => Ok(Redirect::to(&format!("/MAAS/r/machine/{sid}")).into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict(_) | Error::BadRequest(_))) => {
            let mut page = page(&ui, &p.viewer, &p.form).await.or_page(&nav)?;
            match &e {
                Error::Validation(errs) => {
                    let mut power: Vec<Field> = Vec::new();
                    for ps in page.power.iter().filter(|p| p.selected) {
                        power.extend(ps.fields.clone());
                    }
                    let mut pt = vec![page.power_type.clone()];
                    page.errors = attach(&mut [&mut page.fields, &mut power, &mut pt], errs);
                    page.power_type = pt.remove(0);
                    for ps in page.power.iter_mut().filter(|p| p.selected) {
                        ps.fields = power.clone();
                    }
                    if page.errors.is_empty() {
                        page.errors.push("Correct the fields marked below.".into());
                    }
                }
                other => page.errors = vec![message(other)],
            }
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(e) => Err(crate::ui::error::PageError { nav, error: e }),
    }
}
