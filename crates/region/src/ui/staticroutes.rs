//! Static routes (`static-routes/`) from the subnet page: the routes from
//! this subnet are listed there; admins add one (destination, gateway,
//! metric), edit one on its own page (`/MAAS/r/staticroute/<id>`) and
//! delete it after a confirm step. The forms are read as the API reads
//! them and go to `services::staticroutes`; its messages go beside the
//! fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::services::network::subnets;
use crate::services::staticroutes::{self, RouteFields};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::{FormBlock, Page, Section, fail};
use crate::ui::netform::{Confirm, Parse, confirm_then, s};
use crate::ui::session::{Posted, Viewer};

/// A route from the subnet page's subnet.
pub struct RouteLine {
    pub id: i64,
    pub destination: String,
    pub gateway: String,
    pub metric: String,
}

/// The routes whose source is subnet `id`.
pub async fn of_subnet(ui: &Ui, id: &Value) -> Result<Vec<RouteLine>> {
    Ok(staticroutes::list(ui)
        .await?
        .iter()
        .filter(|r| &r["source"]["id"] == id)
        .map(|r| RouteLine {
            id: r["id"].as_i64().unwrap_or(0),
            destination: s(&r["destination"]["cidr"]),
            gateway: s(&r["gateway_ip"]),
            metric: s(&r["metric"]),
        })
        .collect())
}

/// Every other subnet, as destination choices: (id, CIDR).
async fn destinations(ui: &Ui, source: &Value) -> Result<Vec<(String, String)>> {
    Ok(subnets::list(ui)
        .await?
        .iter()
        .filter(|sn| &sn["id"] != source)
        .map(|sn| (s(&sn["id"]), s(&sn["cidr"])))
        .collect())
}

fn fields(dests: Vec<(String, String)>, r: Option<&Value>) -> Vec<Field> {
    let v = |k: &str| r.map(|x| s(&x[k])).unwrap_or_default();
    let dest = r.map(|x| s(&x["destination"]["id"])).unwrap_or_default();
    vec![
        Field::text("destination", "Destination subnet", &dest)
            .kind("select")
            .choices(dests)
            .id("route-destination"),
        Field::text(
            "gateway_ip",
            "Gateway IP (in this subnet)",
            &v("gateway_ip"),
        )
        .required()
        .id("route-gateway_ip"),
        Field::text("metric", "Metric (empty: 0)", &v("metric")).id("route-metric"),
    ]
}

/// The subnet page's "Add a static route" form (admins).
pub async fn add_form(ui: &Ui, subnet: &Value) -> Result<FormBlock> {
    let mut f = FormBlock::new(
        format!("/MAAS/r/subnet/{}/routes", s(subnet)),
        "Add route",
        fields(destinations(ui, subnet).await?, None),
    );
    f.id = "add-route".into();
    f.heading = "Add a static route".into();
    Ok(f)
}

/// The form as the API reads `static-routes/` (`metric` an integer).
fn read(f: &mut Parse) -> RouteFields {
    let metric = match f.nonempty("metric") {
        None => None,
        Some(m) => match m.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                f.add("metric", format!("'{m}' is not a valid integer."));
                None
            }
        },
    };
    RouteFields {
        source: None,
        destination: f.nonempty("destination"),
        gateway_ip: f.nonempty("gateway_ip"),
        metric,
    }
}

/// Field errors the parse found, before the service sees anything.
fn parsed(f: Parse) -> Result<()> {
    if f.errs.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(f.errs))
    }
}

/// POST: a new route from the subnet (admins, as `static-routes/` POST).
pub async fn add(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let mut f = Parse::new(&p.form);
    let mut fields = read(&mut f);
    fields.source = Some(id.clone());
    let r = match parsed(f) {
        Ok(()) => staticroutes::create(&ui, fields).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{id}#routes")).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let mut page = crate::ui::networks::page(&ui, &p.viewer, &id, &FormData::default())
                .await
                .or_page(&nav)?;
            if let Some(form) = page.route_add.take() {
                page.route_add = Some(form.refill(&p.form).error(&e));
            }
            Ok((StatusCode::BAD_REQUEST, crate::ui::error::render(&page)).into_response())
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

fn back(r: &Value) -> String {
    format!("/MAAS/r/subnet/{}#routes", s(&r["source"]["id"]))
}

async fn edit_form(ui: &Ui, id: &str, r: &Value) -> Result<FormBlock> {
    let mut f = FormBlock::new(
        format!("/MAAS/r/staticroute/{id}/edit"),
        "Save route",
        fields(destinations(ui, &r["source"]["id"]).await?, Some(r)),
    );
    f.id = "edit-route".into();
    f.cancel = back(r);
    Ok(f)
}

fn edit_page(viewer: &Viewer, r: &Value, form: FormBlock) -> Page {
    let title = format!(
        "Route {} → {}",
        s(&r["source"]["cidr"]),
        s(&r["destination"]["cidr"])
    );
    let mut p = Page::new(viewer.nav(), title)
        .section(Section::new("edit", "Edit static route").form(form));
    p.back = (back(r), "Back to the subnet".into());
    p
}

pub async fn show(State(ui): State<Ui>, Path(id): Path<String>, viewer: Viewer) -> PageResult {
    let nav = viewer.nav();
    viewer.admin()?;
    let r = staticroutes::get(&ui, &id).await.or_page(&nav)?;
    let form = edit_form(&ui, &id, &r).await.or_page(&nav)?;
    Ok(edit_page(&viewer, &r, form).ok())
}

/// POST: the route changed in place (as `static-routes/<id>/` PUT).
pub async fn edit(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let r = staticroutes::get(&ui, &id).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let fields = read(&mut f);
    let done = match parsed(f) {
        Ok(()) => staticroutes::update(&ui, &id, fields).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(now) => Ok(Redirect::to(&back(&now)).into_response()),
        Err(e @ (Error::Validation(_) | Error::BadRequest(_) | Error::Conflict(_))) => {
            let form = edit_form(&ui, &id, &r)
                .await
                .or_page(&nav)?
                .refill(&p.form)
                .error(&e);
            Ok(edit_page(&p.viewer, &r, form).status(StatusCode::BAD_REQUEST))
        }
        Err(e) => Err(fail(&nav, e)),
    }
}

/// POST: delete the route, after the confirm step.
pub async fn delete(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let r = staticroutes::get(&ui, &id).await.or_page(&nav)?;
    let c = Confirm {
        title: "Delete static route".into(),
        text: format!(
            "The route from {} to {} via {} will be deleted.",
            s(&r["source"]["cidr"]),
            s(&r["destination"]["cidr"]),
            s(&r["gateway_ip"])
        ),
        action: format!("/MAAS/r/staticroute/{id}/delete"),
        back: back(&r),
        hidden: vec![],
    };
    confirm_then(&p, c, || staticroutes::delete(&ui, &id)).await
}
