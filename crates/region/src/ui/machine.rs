//! `/MAAS/r/machine/<system_id>`: summary (live), configuration with its
//! edit form (admins; the service's field errors beside the fields),
//! interfaces and storage (their edits: `machine_net.rs`, `machine_disks.rs`),
//! PCI and USB devices, commissioning and test results with output, events.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::services::events::{self, EventRow};
use crate::services::machines::{self, PowerParams};
use crate::services::misc::results;
use crate::services::places;
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageError, PageResult, render};
use crate::ui::fields::{Field, PowerSet, attach, power_fields, power_sets};
use crate::ui::form::FormData;
use crate::ui::machine_disks::{self, StorageView};
use crate::ui::machine_net::{self, NetView};
use crate::ui::netform::place_errors;
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::{Nav, mb, mib};

/// The live part of the page (re-rendered on every change).
#[derive(Template)]
#[template(path = "summary.html")]
pub struct SummaryView {
    pub system_id: String,
    pub fqdn: String,
    pub status: String,
    pub status_message: String,
    pub power_state: String,
    pub power_type: String,
    pub owner: String,
    pub os: String,
    pub arch: String,
    pub cores: i64,
    pub ram: String,
    pub storage: String,
    pub zone: String,
    pub pool: String,
    pub tags: String,
    pub locked: bool,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        o => o.to_string(),
    }
}

impl SummaryView {
    pub fn from_json(v: &Value) -> SummaryView {
        let tags: Vec<String> = v["tag_names"]
            .as_array()
            .map(|a| a.iter().map(s).collect())
            .unwrap_or_default();
        let os = match (s(&v["osystem"]), s(&v["distro_series"])) {
            (o, d) if o.is_empty() => d,
            (o, d) => format!("{o} {d}"),
        };
        SummaryView {
            system_id: s(&v["system_id"]),
            fqdn: s(&v["fqdn"]),
            status: s(&v["status_name"]),
            status_message: s(&v["status_message"]),
            power_state: s(&v["power_state"]),
            power_type: s(&v["power_type"]),
            owner: s(&v["owner"]),
            os,
            arch: s(&v["architecture"]),
            cores: v["cpu_count"].as_i64().unwrap_or(0),
            ram: mib(v["memory"].as_f64().unwrap_or(0.0)),
            storage: mb(v["storage"].as_f64().unwrap_or(0.0)),
            zone: s(&v["zone"]["name"]),
            pool: s(&v["pool"]["name"]),
            tags: tags.join(", "),
            locked: v["locked"].as_bool().unwrap_or(false),
        }
    }
}

pub struct ResultView {
    pub run: &'static str,
    pub name: String,
    pub status: &'static str,
    pub exit: String,
    pub output: String,
}

#[derive(Template)]
#[template(path = "machine.html")]
pub(crate) struct MachinePage {
    nav: Nav,
    summary: SummaryView,
    summary_html: String,
    can_edit: bool,
    fields: Vec<Field>,
    power_type: Field,
    power: Vec<PowerSet>,
    errors: Vec<String>,
    net: NetView,
    store: StorageView,
    notes: crate::ui::annotations::NotesView,
    devices: Vec<crate::render::node_devices::NodeDeviceJson>,
    results: Vec<ResultView>,
    events: Vec<EventRow>,
}

async fn build(
    ui: &Ui,
    viewer: &Viewer,
    sid: &str,
    form: Option<&FormData>,
) -> Result<MachinePage, Error> {
    let user = &viewer.user;
    let m = machines::get_visible(ui, user, sid).await?;
    let v = serde_json::to_value(m.json()).unwrap_or_default();
    let can_edit = user.is_superuser;
    let params: Map<String, Value> = if can_edit {
        machines::power_parameters_of(ui, sid)
            .await?
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        Map::new()
    };
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
    let summary = SummaryView::from_json(&v);
    let val = |k: &str, cur: &str| form.and_then(|f| f.get(k)).unwrap_or(cur).to_string();
    let domains: Vec<String> = crate::services::dns::domains::list(ui)
        .await?
        .into_iter()
        .map(|d| d.name)
        .collect();
    let cur = |k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let fields = vec![
        Field::text("hostname", "Hostname", &val("hostname", &m.row.hostname)).required(),
        Field::select(
            "domain",
            "Domain",
            &val("domain", v["domain"]["name"].as_str().unwrap_or("")),
            &domains,
        ),
        Field::select("zone", "Zone", &val("zone", &summary.zone), &zones),
        Field::select("pool", "Resource pool", &val("pool", &summary.pool), &pools),
        Field::text(
            "description",
            "Description",
            &val("description", &m.row.description),
        ),
        Field::text(
            "architecture",
            "Architecture (arch/subarch)",
            &val("architecture", &cur("architecture")),
        ),
        Field::text(
            "min_hwe_kernel",
            "Minimum kernel (empty: none)",
            &val("min_hwe_kernel", &cur("min_hwe_kernel")),
        ),
        Field::text(
            "cpu_count",
            "CPU cores",
            &val("cpu_count", &cur("cpu_count")),
        ),
        Field::text("memory", "Memory (MiB)", &val("memory", &cur("memory"))),
        Field::text(
            "swap_size",
            "Swap size (bytes; empty: unchanged)",
            &val("swap_size", &cur("swap_size")),
        ),
    ];
    let chosen = val("power_type", &m.row.power_type);
    let chosen = if chosen.is_empty() {
        "manual".to_string()
    } else {
        chosen
    };
    let mut pt = Field::text("power_type", "Power type", &chosen).kind("select");
    pt.options = maas_model::power::POWER_TYPES
        .iter()
        .map(|(n, l, _)| (n.to_string(), l.to_string()))
        .collect();
    let mut power = power_sets(&chosen, &params);
    if let Some(f) = form {
        for ps in power.iter_mut().filter(|p| p.selected) {
            for fl in ps.fields.iter_mut().filter(|x| x.kind != "password") {
                fl.value = f.get(&fl.name).unwrap_or("").to_string();
            }
        }
    }
    let sets = results::sets(ui, sid, true).await?;
    let results = sets
        .iter()
        .flat_map(|set| {
            let run = results::result_type(set.stored_type).1;
            set.results.iter().map(move |r| ResultView {
                run,
                name: r.name.clone(),
                status: results::status_name(r.status),
                exit: r.exit_status.map(|e| e.to_string()).unwrap_or_default(),
                output: String::from_utf8_lossy(&r.output[..r.output.len().min(64 * 1024)])
                    .into_owned(),
            })
        })
        .collect();
    let q = events::Query {
        limit: 50,
        level: Some("DEBUG".into()),
        system_ids: vec![sid.to_string()],
        ..Default::default()
    };
    let events = events::query(&ui.db, user, q).await?;
    let summary_html = summary.render().map_err(Error::internal)?;
    let owner = m.row.owner_id == Some(user.id);
    Ok(MachinePage {
        summary_html,
        nav: viewer.nav(),
        can_edit,
        fields,
        power_type: pt,
        power,
        errors: Vec::new(),
        net: machine_net::view(ui, &m, user.is_superuser).await?,
        store: {
            let mut s = machine_disks::view(ui, user, sid, owner).await?;
            s.special = crate::ui::machine_special::rows(&m.related.special);
            let more = crate::ui::machine_special::forms(sid, s.can_fs, s.admin);
            s.forms.extend(more);
            s
        },
        notes: crate::ui::annotations::view(sid, &v, user.is_superuser || owner),
        devices: crate::services::node_devices::of(ui, &m).await?,
        results,
        events,
        summary,
    })
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer, Path(sid): Path<String>) -> PageResult {
    let page = build(&ui, &viewer, &sid, None)
        .await
        .or_page(&viewer.nav())?;
    Ok(render(&page))
}

pub async fn edit(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = p.viewer.admin()?;
    let f = &p.form;
    let power_type = f.text("power_type").unwrap_or_else(|| "manual".into());
    // The machine's own fields as the API reads them; the power form's.
    let done = match crate::services::machine_fields::update(|k| f.get(k).map(str::to_string)) {
        Ok(mut r) => {
            r.description = Some(f.get("description").unwrap_or("").to_string());
            r.power_params = PowerParams {
                json: None,
                fields: power_fields(f, &power_type),
            };
            r.power_type = Some(power_type);
            machines::update(&ui, user, &sid, r).await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/MAAS/r/machine/{sid}#configuration")).into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict(_) | Error::BadRequest(_))) => {
            let mut page = build(&ui, &p.viewer, &sid, Some(f)).await.or_page(&nav)?;
            match &e {
                Error::Validation(errs) => {
                    let mut power: Vec<Field> = page
                        .power
                        .iter()
                        .filter(|p| p.selected)
                        .flat_map(|p| p.fields.clone())
                        .collect();
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
                other => page.errors = vec![crate::ui::error::message(other)],
            }
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(error) => Err(PageError { nav, error }),
    }
}

/// Where a refused interface or storage edit is explained: beside the
/// fields of one of the page's forms (`form`, by id, with the service's
/// field names renamed by `aliases`), or above a section's table.
pub(crate) struct Refusal {
    form: &'static str,
    section: &'static str,
    aliases: Vec<(&'static str, &'static str)>,
}

impl Refusal {
    pub fn form(id: &'static str) -> Refusal {
        Refusal {
            form: id,
            section: "",
            aliases: Vec::new(),
        }
    }

    pub fn section(id: &'static str) -> Refusal {
        Refusal {
            form: "",
            section: id,
            aliases: Vec::new(),
        }
    }

    pub fn alias(mut self, from: &'static str, to: &'static str) -> Refusal {
        self.aliases.push((from, to));
        self
    }
}

/// A refused edit: the machine page again (400) with the service's message
/// where `at` says, the form refilled with what was posted. Refusals that
/// are not the form's (403, 404) are the error page with their status.
pub(crate) async fn refused(ui: &Ui, p: &Posted, sid: &str, at: Refusal, e: Error) -> PageResult {
    let nav = p.viewer.nav();
    if !matches!(
        e,
        Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_)
    ) {
        return Err(PageError { nav, error: e });
    }
    let mut page = build(ui, &p.viewer, sid, None).await.or_page(&nav)?;
    let forms = page
        .net
        .forms
        .iter_mut()
        .chain(page.store.forms.iter_mut())
        .chain(page.notes.form.iter_mut());
    match forms
        .into_iter()
        .find(|f| !at.form.is_empty() && f.id == at.form)
    {
        Some(f) => {
            let mut block = std::mem::take(f).refill(&p.form);
            block.errors = place_errors(e, &mut [&mut block.fields], &at.aliases, &nav)?;
            *f = block;
        }
        None => {
            let msgs = place_errors(e, &mut [], &at.aliases, &nav)?;
            match at.section {
                "storage" => page.store.errors = msgs,
                _ => page.net.errors = msgs,
            }
        }
    }
    Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
}
