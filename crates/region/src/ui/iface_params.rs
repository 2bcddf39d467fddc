//! Bond and bridge parameters on the machine page: the fields of the add
//! bond and add bridge forms, and a form that changes them on an existing
//! bond or bridge (as `PUT nodes/<id>/interfaces/<id>/`). Values are
//! checked by `services::interfaces::params`, the API's own check.

use axum::extract::{Path, State};
use maas_model::constraints::FieldErrors;
use serde_json::Value;

use crate::services::interfaces::params::{self, LACP_RATES, XMIT_POLICIES};
use crate::services::interfaces::{self, BOND_MODES, IfaceSpec};
use crate::ui::Ui;
use crate::ui::error::PageResult;
use crate::ui::fields::Field;
use crate::ui::form::FormData;
use crate::ui::kit::FormBlock;
use crate::ui::machine::{Refusal, refused};
use crate::ui::machine_net::{done, id_of};
use crate::ui::session::Posted;

/// A select of `values`, led by an empty choice labelled `empty`.
fn choice(name: &str, label: &str, empty: &str, values: &[&str], id: &str) -> Field {
    let mut opts = vec![(String::new(), empty.to_string())];
    opts.extend(values.iter().map(|v| (v.to_string(), v.to_string())));
    Field::select(name, label, "", &[]).choices(opts).id(id)
}

/// The bond parameter fields; `empty`: what leaving one empty means
/// ("default" on a new bond, "unchanged" on an edit). Ids get `prefix`.
pub fn bond_fields(empty: &str, prefix: &str) -> Vec<Field> {
    let id = |k: &str| format!("{prefix}{k}");
    let mut out = vec![
        choice("bond_mode", "Bond mode", empty, &BOND_MODES, &id("mode")),
        choice(
            "bond_lacp_rate",
            "LACP rate (802.3ad)",
            empty,
            &LACP_RATES,
            &id("lacp_rate"),
        ),
        choice(
            "bond_xmit_hash_policy",
            "Transmit hash policy",
            empty,
            &XMIT_POLICIES,
            &id("xmit_hash_policy"),
        ),
    ];
    for (k, label) in [
        ("bond_miimon", "MII monitoring interval (ms)"),
        ("bond_updelay", "Up delay (ms)"),
        ("bond_downdelay", "Down delay (ms)"),
        ("bond_num_grat_arp", "Gratuitous ARPs after failover"),
    ] {
        out.push(
            Field::text(k, &format!("{label} (empty: {empty})"), "").id(&id(&k["bond_".len()..])),
        );
    }
    out
}

/// The bridge parameter fields (see `bond_fields`).
pub fn bridge_fields(empty: &str, prefix: &str) -> Vec<Field> {
    let id = |k: &str| format!("{prefix}{k}");
    vec![
        choice(
            "bridge_type",
            "Bridge type",
            empty,
            &params::BRIDGE_TYPES,
            &id("type"),
        ),
        choice(
            "bridge_stp",
            "Spanning tree (STP)",
            empty,
            &["true", "false"],
            &id("stp"),
        ),
        Field::text(
            "bridge_fd",
            &format!("Forward delay (s) (empty: {empty})"),
            "",
        )
        .id(&id("fd")),
    ]
}

/// The posted parameters, checked as the API checks them; empty fields
/// are not given.
pub fn posted(f: &FormData, errs: &mut FieldErrors) -> Vec<(String, Option<Value>)> {
    params::check(|k| f.text(k), errs)
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect()
}

/// The edit form for the machine's bonds and bridges ((id, name) pairs).
pub fn form(sid: &str, bonds_and_bridges: &[(String, String)]) -> FormBlock {
    let mut fields = vec![
        Field::select("iface", "Bond or bridge", "", &[])
            .choices(bonds_and_bridges.to_vec())
            .id("params_iface"),
    ];
    fields.extend(bond_fields("unchanged", "params_bond_"));
    fields.extend(bridge_fields("unchanged", "params_bridge_"));
    let mut f = FormBlock::new(
        format!("/MAAS/r/machine/{sid}/interface/params"),
        "Save parameters",
        fields,
    );
    f.id = "params-form".into();
    f.heading =
        "Bond and bridge parameters (a bond takes the bond ones, a bridge the bridge ones)".into();
    f
}

/// POST `…/interface/params`: the chosen bond's or bridge's parameters
/// (`interfaces::update`, which keeps each kind's own keys).
pub async fn save(State(ui): State<Ui>, Path(sid): Path<String>, p: Posted) -> PageResult {
    let at = Refusal::form("params-form").alias("id", "iface");
    let id = match id_of(&p, "iface") {
        Ok(i) => i,
        Err(e) => return refused(&ui, &p, &sid, at, e).await,
    };
    let mut errs = FieldErrors::new();
    let spec = IfaceSpec {
        params: posted(&p.form, &mut errs),
        ..Default::default()
    };
    match interfaces::update(&ui, &p.viewer.user, &sid, id, spec, errs).await {
        Ok(()) => done(&sid),
        Err(e) => refused(&ui, &p, &sid, at, e).await,
    }
}

/// The bond or bridge parameters of an interface, for its table row.
pub fn summary(kind: &str, params: &Value) -> String {
    let prefix = match kind {
        "bond" => "bond_",
        "bridge" => "bridge_",
        _ => return String::new(),
    };
    let Some(m) = params.as_object() else {
        return String::new();
    };
    let mut parts: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            format!("{}: {v}", &k[prefix.len()..])
        })
        .collect();
    parts.sort();
    parts.join(", ")
}
