//! Bulk actions on the machines picked in the list: each runs through the
//! same services (and the same permission checks) as the API's; actions
//! with options or consequences go through a confirm page first.

use askama::Template;
use axum::extract::State;
use maas_model::Action;

use crate::error::Error;
use crate::services::actions::{self, ActionRequest, CommissionOptions, DeployRequest};
use crate::services::machines::{self, UpdateRequest};
use crate::services::{config, places, tags};
use crate::ui::Ui;
use crate::ui::error::{OrPage, PageError, PageResult, render};
use crate::ui::form::FormData;
use crate::ui::session::{Posted, Viewer};
use crate::ui::views::Nav;

/// What a choice in the action menu does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Machine(Action),
    SetZone,
    SetPool,
    Tag,
    Untag,
    Delete,
}

struct Choice {
    value: &'static str,
    label: &'static str,
    kind: Kind,
    /// Needs the confirm page (options, or hard to undo).
    confirm: bool,
    destructive: bool,
    admin: bool,
}

const fn c(value: &'static str, label: &'static str, kind: Kind, confirm: bool) -> Choice {
    Choice {
        value,
        label,
        kind,
        confirm,
        destructive: false,
        admin: false,
    }
}

const fn admin(mut ch: Choice) -> Choice {
    ch.admin = true;
    ch
}

const CHOICES: &[Choice] = &[
    c(
        "commission",
        "Commission",
        Kind::Machine(Action::Commission),
        true,
    ),
    c("test", "Test", Kind::Machine(Action::Test), true),
    c(
        "allocate",
        "Allocate",
        Kind::Machine(Action::Allocate),
        true,
    ),
    c("deploy", "Deploy", Kind::Machine(Action::Deploy), true),
    c("release", "Release", Kind::Machine(Action::Release), true),
    c("abort", "Abort", Kind::Machine(Action::Abort), true),
    c(
        "rescue_mode",
        "Enter rescue mode",
        Kind::Machine(Action::RescueMode),
        true,
    ),
    c(
        "exit_rescue_mode",
        "Exit rescue mode",
        Kind::Machine(Action::ExitRescueMode),
        true,
    ),
    c(
        "override_failed_testing",
        "Override failed testing",
        Kind::Machine(Action::OverrideFailedTesting),
        true,
    ),
    c(
        "mark_broken",
        "Mark broken",
        Kind::Machine(Action::MarkBroken),
        true,
    ),
    c(
        "mark_fixed",
        "Mark fixed",
        Kind::Machine(Action::MarkFixed),
        false,
    ),
    c("lock", "Lock", Kind::Machine(Action::Lock), false),
    c("unlock", "Unlock", Kind::Machine(Action::Unlock), false),
    c(
        "power_on",
        "Power on",
        Kind::Machine(Action::PowerOn),
        false,
    ),
    c(
        "power_off",
        "Power off",
        Kind::Machine(Action::PowerOff),
        true,
    ),
    admin(c("set_zone", "Set zone", Kind::SetZone, true)),
    admin(c("set_pool", "Set resource pool", Kind::SetPool, true)),
    admin(c("tag", "Add tag", Kind::Tag, true)),
    admin(c("untag", "Remove tag", Kind::Untag, true)),
    Choice {
        destructive: true,
        ..admin(c("delete", "Delete", Kind::Delete, true))
    },
];

/// The menu for a user: (value, label).
pub fn choices(is_admin: bool) -> Vec<(&'static str, &'static str)> {
    CHOICES
        .iter()
        .filter(|c| is_admin || !c.admin)
        .map(|c| (c.value, c.label))
        .collect()
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    nav: Nav,
    action: String,
    label: String,
    error: String,
    destructive: bool,
    /// A lifecycle action: it takes a comment (MAAS's event text).
    lifecycle: bool,
    machines: Vec<String>,
    sids: Vec<String>,
    default_os: String,
    default_series: String,
    zones: Vec<String>,
    pools: Vec<String>,
    tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    nav: Nav,
    label: String,
    ok: usize,
    failed: Vec<(String, String)>,
}

fn bad(nav: &Nav, msg: &str) -> PageError {
    PageError {
        nav: nav.clone(),
        error: Error::BadRequest(msg.into()),
    }
}

/// The typed request of a machine action from the confirm page's options
/// (the API's options and rules: `api::machines::actions`).
fn request(action: Action, f: &FormData) -> Result<ActionRequest, Error> {
    let mut r = ActionRequest::new(action);
    r.comment = f.text("comment");
    match action {
        Action::Deploy => {
            r.deploy = DeployRequest {
                osystem: f.text("osystem"),
                distro_series: f.text("distro_series"),
                hwe_kernel: f.text("hwe_kernel"),
                user_data: f
                    .get("user_data")
                    .filter(|u| !u.trim().is_empty())
                    .map(|u| u.replace("\r\n", "\n").into_bytes()),
                ephemeral: f.checked("ephemeral_deploy"),
            };
        }
        Action::Release => {
            r.secure_erase = f.checked("secure_erase");
            r.quick_erase = f.checked("quick_erase");
            r.erase = f.checked("erase") || r.secure_erase || r.quick_erase;
        }
        Action::Commission => {
            r.commission = CommissionOptions {
                enable_ssh: f.checked("enable_ssh"),
                skip_bmc_config: f.checked("skip_bmc_config"),
                skip_networking: f.checked("skip_networking"),
                skip_storage: f.checked("skip_storage"),
            };
        }
        Action::Test => r.commission.enable_ssh = f.checked("enable_ssh"),
        Action::MarkBroken => r.reason = f.text("reason").or(f.text("comment")).unwrap_or_default(),
        Action::PowerOff => match f.text("stop_mode").as_deref() {
            None | Some("hard") => {}
            Some("soft") => r.soft_off = true,
            Some(_) => {
                return Err(Error::field(
                    "stop_mode",
                    "stop_mode must be 'soft' or 'hard'.",
                ));
            }
        },
        _ => {}
    }
    Ok(r)
}

pub async fn action(State(ui): State<Ui>, p: Posted) -> PageResult {
    let nav = p.viewer.nav();
    let user = &p.viewer.user;
    let f = &p.form;
    let value = f.get("action").unwrap_or("");
    let ch = CHOICES
        .iter()
        .find(|c| c.value == value)
        .ok_or_else(|| bad(&nav, "Pick an action."))?;
    let sids = f.all("sid");
    if sids.is_empty() {
        return Err(bad(&nav, "Select at least one machine first."));
    }
    if ch.admin && !user.is_superuser {
        return Err(PageError {
            nav,
            error: Error::Forbidden(format!(
                "Only administrators can {}.",
                ch.label.to_lowercase()
            )),
        });
    }
    if ch.confirm && !f.checked("confirmed") {
        return confirm(&ui, &p.viewer, ch, sids).await;
    }
    let mut ok = 0;
    let mut failed = Vec::new();
    // Zone and tag changes take every machine at once (one transaction).
    let together: Option<Result<(), Error>> = match ch.kind {
        Kind::SetZone => Some(match f.text("zone") {
            Some(z) => machines::set_zone(&ui, user, &z, &sids).await,
            None => Err(Error::field("zone", "Pick a zone.")),
        }),
        Kind::Tag | Kind::Untag => Some(match f.text("tag") {
            Some(t) => match tags::get(&ui, &t).await {
                Ok(tag) => {
                    let (add, remove) = if ch.kind == Kind::Tag {
                        (&sids[..], &[][..])
                    } else {
                        (&[][..], &sids[..])
                    };
                    tags::update_nodes(&ui, user, &tag, add, remove)
                        .await
                        .map(|_| ())
                }
                Err(e) => Err(e),
            },
            None => Err(Error::field("tag", "Pick a tag.")),
        }),
        _ => None,
    };
    match together {
        Some(Ok(())) => ok = sids.len(),
        Some(Err(e)) => failed.push(("all".into(), crate::ui::error::message(&e))),
        None => {
            for sid in &sids {
                let r = match ch.kind {
                    Kind::Machine(a) => match request(a, f) {
                        Ok(r) => actions::run(&ui, user, sid, &r).await,
                        // The same refusal for every machine: said once.
                        Err(e) => {
                            failed.push(("all".into(), crate::ui::error::message(&e)));
                            break;
                        }
                    },
                    Kind::SetPool => {
                        let r = UpdateRequest {
                            pool: f.text("pool"),
                            ..Default::default()
                        };
                        machines::update(&ui, user, sid, r).await
                    }
                    Kind::Delete => machines::delete(&ui, user, sid).await,
                    _ => Ok(()),
                };
                match r {
                    Ok(()) => ok += 1,
                    Err(e) => failed.push((sid.clone(), crate::ui::error::message(&e))),
                }
            }
        }
    }
    tracing::info!(action = ch.value, ok, failed = failed.len(), user = %user.username, "web UI bulk action");
    Ok(render(&ResultsPage {
        nav,
        label: ch.label.to_string(),
        ok,
        failed,
    }))
}

async fn confirm(ui: &Ui, viewer: &Viewer, ch: &Choice, sids: Vec<String>) -> PageResult {
    let nav = viewer.nav();
    let mut machines = Vec::with_capacity(sids.len());
    for sid in &sids {
        // Names only of machines the viewer may see.
        match crate::services::machines::get_visible(ui, &viewer.user, sid).await {
            Ok(m) => machines.push(format!("{} ({sid})", m.row.hostname)),
            Err(_) => machines.push(sid.clone()),
        }
    }
    let (mut zones, mut pools, mut tag_names) = (Vec::new(), Vec::new(), Vec::new());
    let (mut default_os, mut default_series) = (String::new(), String::new());
    match ch.kind {
        Kind::SetZone => {
            zones = places::zones(&ui.db)
                .await
                .or_page(&nav)?
                .into_iter()
                .map(|z| z.name)
                .collect()
        }
        Kind::SetPool => {
            pools = places::pools(&ui.db)
                .await
                .or_page(&nav)?
                .into_iter()
                .map(|z| z.name)
                .collect()
        }
        Kind::Tag | Kind::Untag => {
            tag_names = tags::list(ui)
                .await
                .or_page(&nav)?
                .into_iter()
                .map(|t| t.name)
                .collect()
        }
        Kind::Machine(Action::Deploy) => {
            default_os = config::get_str(&ui.db, "default_osystem")
                .await
                .or_page(&nav)?;
            default_series = config::get_str(&ui.db, "default_distro_series")
                .await
                .or_page(&nav)?;
        }
        _ => {}
    }
    Ok(render(&ConfirmPage {
        nav,
        action: ch.value.to_string(),
        label: ch.label.to_string(),
        error: String::new(),
        destructive: ch.destructive,
        lifecycle: matches!(ch.kind, Kind::Machine(_)),
        machines,
        sids,
        default_os,
        default_series,
        zones,
        pools,
        tags: tag_names,
    }))
}
