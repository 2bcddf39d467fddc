//! `/MAAS/r/subnets` (fabrics → VLANs → subnets) and `/MAAS/r/subnet/<id>`:
//! the subnet, its IP ranges (admins add and delete them), reserved IPs and
//! the addresses in use with their holders. Writes go through the same
//! `services::network` calls as the API's `ipranges/`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maas_model::net::RangeType;
use serde_json::Value;

use crate::error::Result;
use crate::services::network::ipranges::{self, RangeParams};
use crate::services::network::subnets::{self, SubnetRead, UsedAddress};
use crate::services::network::{fabrics, invalid_choice, not_found, reservedips};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageResult, render};
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::FormBlock;
use crate::ui::netform::{Confirm, Parse, confirm_then, place_errors, s};
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::Nav;

/// A subnet as a line of a list.
pub struct SubnetLine {
    pub id: i64,
    pub cidr: String,
    pub name: String,
    pub gateway: String,
    pub managed: bool,
}

impl SubnetLine {
    pub fn from_json(v: &Value) -> SubnetLine {
        SubnetLine {
            id: v["id"].as_i64().unwrap_or(0),
            cidr: s(&v["cidr"]),
            name: s(&v["name"]),
            gateway: s(&v["gateway_ip"]),
            managed: v["managed"].as_bool().unwrap_or(false),
        }
    }
}

pub struct VlanGroup {
    pub id: i64,
    pub label: String,
    pub dhcp: String,
    pub subnets: Vec<SubnetLine>,
}

pub struct FabricGroup {
    pub id: i64,
    pub name: String,
    pub vlans: Vec<VlanGroup>,
}

#[derive(Template)]
#[template(path = "subnets.html")]
struct SubnetsPage {
    nav: Nav,
    fabrics: Vec<FabricGroup>,
    /// Admins: add a fabric, add a subnet.
    forms: Vec<FormBlock>,
}

/// A VLAN's name for people: `VLAN 10 (storage)`, `untagged`.
pub fn vlan_label(v: &Value) -> String {
    let vid = v["vid"].as_i64().unwrap_or(0);
    let name = s(&v["name"]);
    match vid {
        0 => "untagged".into(),
        _ if name.is_empty() || name == vid.to_string() => format!("VLAN {vid}"),
        _ => format!("VLAN {vid} ({name})"),
    }
}

/// DHCP of a VLAN in words.
pub fn dhcp_text(v: &Value) -> String {
    if v["dhcp_on"].as_bool().unwrap_or(false) {
        "DHCP on".into()
    } else if !v["relay_vlan"].is_null() {
        format!("DHCP relayed to VLAN id {}", s(&v["relay_vlan"]))
    } else {
        "DHCP off".into()
    }
}

pub async fn list(State(ui): State<Ui>, viewer: Viewer) -> PageResult {
    list_with(&ui, &viewer, Vec::new(), StatusCode::OK).await
}

/// The subnets page; `refused` forms (by id) replace the blank ones.
pub async fn list_with(
    ui: &Ui,
    viewer: &Viewer,
    refused: Vec<FormBlock>,
    code: StatusCode,
) -> PageResult {
    let nav = viewer.nav();
    let mut forms = Vec::new();
    if viewer.user.is_superuser {
        forms.push(crate::ui::fabrics::create_form());
        forms.push(
            crate::ui::subnet_edit::create_form(ui)
                .await
                .or_page(&nav)?,
        );
        for r in refused {
            if let Some(slot) = forms.iter_mut().find(|f| f.id == r.id) {
                *slot = r;
            }
        }
    }
    let all_fabrics = fabrics::list(ui).await.or_page(&nav)?;
    let all_subnets = subnets::list(ui).await.or_page(&nav)?;
    let fabrics = all_fabrics
        .iter()
        .map(|f| FabricGroup {
            id: f["id"].as_i64().unwrap_or(0),
            name: s(&f["name"]),
            vlans: f["vlans"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|v| VlanGroup {
                    id: v["id"].as_i64().unwrap_or(0),
                    label: vlan_label(v),
                    dhcp: dhcp_text(v),
                    subnets: all_subnets
                        .iter()
                        .filter(|sn| sn["vlan"]["id"] == v["id"])
                        .map(SubnetLine::from_json)
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let page = SubnetsPage {
        nav,
        fabrics,
        forms,
    };
    Ok((code, render(&page)).into_response())
}

pub struct RangeLine {
    pub id: i64,
    pub kind: String,
    pub start: String,
    pub end: String,
    pub comment: String,
    pub owner: String,
}

pub struct ReservedLine {
    pub id: i64,
    pub ip: String,
    pub mac: String,
    pub comment: String,
}

/// An address in use; `release`: the viewer may release it (their own
/// reservation, or any as an admin).
pub struct UsedLine {
    pub u: UsedAddress,
    pub release: bool,
}

#[derive(Template)]
#[template(path = "subnet.html")]
pub struct SubnetPage {
    nav: Nav,
    subnet: SubnetLine,
    description: String,
    dns: String,
    vlan_id: i64,
    vlan: String,
    fabric: String,
    dhcp: String,
    ranges: Vec<RangeLine>,
    reserved: Vec<ReservedLine>,
    used: Vec<UsedLine>,
    fields: Vec<Field>,
    errors: Vec<String>,
    /// Admins: the subnet's settings.
    pub edit: Option<FormBlock>,
    pub reserve: FormBlock,
    /// Admins: a new DHCP reservation.
    pub dhcp_reserve: Option<FormBlock>,
    /// Static routes from this subnet.
    routes: Vec<crate::ui::staticroutes::RouteLine>,
    /// Admins: a new static route.
    pub route_add: Option<FormBlock>,
}

fn range_fields(form: &FormData) -> Vec<Field> {
    let v = |k: &str| form.get(k).unwrap_or("").to_string();
    let mut kind = Field::text("type", "Type", &v("type")).kind("select");
    kind.options = vec![
        ("dynamic".into(), "Dynamic (DHCP pool)".into()),
        ("reserved".into(), "Reserved".into()),
    ];
    vec![
        kind,
        Field::text("start_ip", "Start IP", &v("start_ip")).required(),
        Field::text("end_ip", "End IP", &v("end_ip")).required(),
        Field::text("comment", "Comment", &v("comment")),
    ]
}

pub async fn page(ui: &Ui, viewer: &Viewer, id: &str, form: &FormData) -> Result<SubnetPage> {
    let sn = subnets::get(ui, id, SubnetRead::Subnet, Default::default()).await?;
    let sid = sn["id"].clone();
    let ranges = ipranges::list(ui)
        .await?
        .iter()
        .filter(|r| r["subnet"]["id"] == sid)
        .map(|r| RangeLine {
            id: r["id"].as_i64().unwrap_or(0),
            kind: s(&r["type"]),
            start: s(&r["start_ip"]),
            end: s(&r["end_ip"]),
            comment: s(&r["comment"]),
            owner: s(&r["user"]["username"]),
        })
        .collect();
    let reserved = reservedips::list(ui)
        .await?
        .iter()
        .filter(|r| r["subnet"]["id"] == sid)
        .map(|r| ReservedLine {
            id: r["id"].as_i64().unwrap_or(0),
            ip: s(&r["ip"]),
            mac: s(&r["mac_address"]),
            comment: s(&r["comment"]),
        })
        .collect();
    let admin = viewer.user.is_superuser;
    let used = subnets::used_addresses(ui, id)
        .await?
        .into_iter()
        .map(|u| UsedLine {
            release: u.kind == "reservation"
                && (admin || u.owner.as_deref() == Some(viewer.user.username.as_str())),
            u,
        })
        .collect();
    let edit = if admin {
        Some(crate::ui::subnet_edit::edit_form(ui, &sn).await?)
    } else {
        None
    };
    let reserve = crate::ui::subnet_edit::reserve_form(sn["id"].as_i64().unwrap_or(0));
    let dhcp_reserve =
        admin.then(|| crate::ui::reservedips::add_form(sn["id"].as_i64().unwrap_or(0)));
    let routes = crate::ui::staticroutes::of_subnet(ui, &sid).await?;
    let route_add = if admin {
        Some(crate::ui::staticroutes::add_form(ui, &sid).await?)
    } else {
        None
    };
    let dns = sn["dns_servers"]
        .as_array()
        .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    Ok(SubnetPage {
        nav: viewer.nav(),
        description: s(&sn["description"]),
        dns,
        vlan_id: sn["vlan"]["id"].as_i64().unwrap_or(0),
        vlan: vlan_label(&sn["vlan"]),
        fabric: s(&sn["vlan"]["fabric"]),
        dhcp: dhcp_text(&sn["vlan"]),
        subnet: SubnetLine::from_json(&sn),
        ranges,
        reserved,
        used,
        fields: range_fields(form),
        errors: Vec::new(),
        edit,
        reserve,
        dhcp_reserve,
        routes,
        route_add,
    })
}

/// Subnet ids in paths are numbers; anything else is no subnet.
fn subnet_id(id: &str) -> Result<i64> {
    id.trim().parse::<i64>().map_err(|_| not_found("Subnet"))
}

pub async fn show(State(ui): State<Ui>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    let nav = viewer.nav();
    let id = subnet_id(&id).or_page(&nav)?;
    let p = page(&ui, &viewer, &id.to_string(), &FormData::default())
        .await
        .or_page(&nav)?;
    Ok(render(&p))
}

/// POST: a new IP range on the subnet (admins, as `ipranges/` create).
pub async fn add_range(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = p.viewer.admin()?.clone();
    let id = subnet_id(&id).or_page(&nav)?.to_string();
    let mut page = page(&ui, &p.viewer, &id, &p.form).await.or_page(&nav)?;
    let mut f = Parse::new(&p.form);
    let kind = match f.required("type") {
        None => None,
        Some(t) => {
            let r = RangeType::parse(&t);
            if r.is_none() {
                f.add("type", invalid_choice(&t));
            }
            r
        }
    };
    let params = RangeParams {
        kind,
        start: f.ip("start_ip", true),
        end: f.ip("end_ip", true),
        comment: f.text("comment"),
        subnet: Some(id.clone()),
    };
    match ipranges::create(&ui, params, user.id, f.errs).await {
        Ok(_) => Ok(Redirect::to(&format!("/MAAS/r/subnet/{id}#ranges")).into_response()),
        Err(e) => {
            page.errors = place_errors(e, &mut [&mut page.fields], &[], &nav)?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
    }
}

/// POST: delete an IP range, after the confirm step.
pub async fn delete_range(State(ui): State<Ui>, Path(id): Path<String>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    p.viewer.admin()?;
    let rid: i64 = id
        .trim()
        .parse()
        .map_err(|_| not_found("IPRange"))
        .or_page(&nav)?;
    let r = ipranges::get(&ui, rid).await.or_page(&nav)?;
    let c = Confirm {
        title: format!(
            "Delete IP range {} – {}",
            s(&r["start_ip"]),
            s(&r["end_ip"])
        ),
        text: format!(
            "The {} range {} – {} of subnet {} will be deleted.",
            s(&r["type"]),
            s(&r["start_ip"]),
            s(&r["end_ip"]),
            s(&r["subnet"]["cidr"])
        ),
        action: format!("/MAAS/r/iprange/{rid}/delete"),
        back: format!("/MAAS/r/subnet/{}#ranges", s(&r["subnet"]["id"])),
        hidden: vec![],
    };
    confirm_then(&p, c, || ipranges::delete(&ui, rid)).await
}
