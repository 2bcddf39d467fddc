//! Script results as MAAS groups them (one set per run type), a machine's
//! probed details (`op=details`, BSON), and the built-in scripts.

use crate::error::Result;
use crate::services::Ctx;
use crate::services::misc::not_found;
use crate::store::misc::results as db;
pub use crate::store::misc::results::ResultRow;

/// MAAS's result types: (stored type, API type, name). The region stores
/// deployment results as 4; MAAS calls them installation (1).
pub fn result_type(stored: i16) -> (i64, &'static str) {
    match stored {
        2 => (2, "Testing"),
        3 => (3, "Release"),
        4 => (1, "Installation"),
        _ => (0, "Commissioning"),
    }
}

pub fn status_name(s: i16) -> &'static str {
    match s {
        0 => "Pending",
        1 => "Running",
        2 => "Passed",
        3 => "Failed",
        4 => "Timed out",
        5 => "Aborted",
        6 => "Degraded",
        7 => "Installing",
        8 => "Failed installing",
        9 => "Skipped",
        10 => "Applying custom network configuration",
        11 => "Failed to apply custom network configuration",
        _ => "Unknown",
    }
}

/// One run: the results of one type, as a MAAS script set.
pub struct ScriptSet {
    /// The first result's id (a stable id for the set).
    pub id: i64,
    pub stored_type: i16,
    pub results: Vec<ResultRow>,
}

impl ScriptSet {
    /// The set's status: failed, else running/pending, else passed.
    pub fn status(&self) -> i16 {
        let s: Vec<i16> = self.results.iter().map(|r| r.status).collect();
        if let Some(f) = s.iter().find(|x| [3, 4, 5, 8, 11].contains(x)) {
            *f
        } else if s.contains(&1) {
            1
        } else if s.contains(&0) {
            0
        } else {
            2
        }
    }
}

/// A machine's script sets by type, with or without outputs. 404 for an
/// unknown machine.
pub async fn sets(ctx: &Ctx, system_id: &str, with_output: bool) -> Result<Vec<ScriptSet>> {
    let id = db::machine_id(&ctx.db, system_id)
        .await?
        .ok_or_else(|| not_found("Node"))?;
    let rows = db::for_machine(&ctx.db, id, with_output).await?;
    let mut out: Vec<ScriptSet> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|s| s.stored_type == r.result_type) {
            Some(s) => s.results.push(r),
            None => out.push(ScriptSet {
                id: r.id,
                stored_type: r.result_type,
                results: vec![r],
            }),
        }
    }
    for s in &mut out {
        s.results
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    }
    Ok(out)
}

/// Which detail a commissioning output is (MAAS's `maas-lshw` and
/// `maas-capture-lldpd`, and the names older agents use).
fn detail_of(name: &str) -> Option<&'static str> {
    let n = name.rsplit('/').next().unwrap_or(name);
    // A runner's companion files and lldpd's install step are not outputs
    // (`store::tags::detail_outputs` reads names the same way).
    if n.ends_with(".err") || n.ends_with(".yaml") || n.contains("install") {
        return None;
    }
    if n.contains("lshw") {
        Some("lshw")
    } else if n.contains("lldp") {
        Some("lldp")
    } else {
        None
    }
}

/// `op=details`: the latest passed lshw and lldp outputs of the machine's
/// commissioning (absent ones are null), as a BSON document.
pub async fn details(ctx: &Ctx, system_id: &str) -> Result<Vec<u8>> {
    let id = db::machine_id(&ctx.db, system_id)
        .await?
        .ok_or_else(|| not_found("Node"))?;
    let rows = db::for_machine(&ctx.db, id, true).await?;
    let mut lshw = None;
    let mut lldp = None;
    for r in rows.iter().filter(|r| r.result_type == 0 && r.status == 2) {
        match detail_of(&r.name) {
            Some("lshw") => lshw = Some(r.output.as_slice()),
            Some("lldp") => lldp = Some(r.output.as_slice()),
            _ => {}
        }
    }
    Ok(bson_binary_document(&[("lshw", lshw), ("lldp", lldp)]))
}

/// A BSON document of binary (subtype 0) or null fields.
pub fn bson_binary_document(fields: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        match value {
            Some(data) => {
                body.push(0x05);
                body.extend_from_slice(name.as_bytes());
                body.push(0);
                body.extend_from_slice(&(data.len() as i32).to_le_bytes());
                body.push(0x00);
                body.extend_from_slice(data);
            }
            None => {
                body.push(0x0a);
                body.extend_from_slice(name.as_bytes());
                body.push(0);
            }
        }
    }
    let mut doc = Vec::with_capacity(body.len() + 5);
    doc.extend_from_slice(&((body.len() + 5) as i32).to_le_bytes());
    doc.extend_from_slice(&body);
    doc.push(0);
    doc
}

/// A built-in script: (name, title, description, type, hardware type, timeout s).
pub type Builtin = (&'static str, &'static str, &'static str, i64, i64, i64);

/// The commissioning scripts whose results the region takes, as MAAS names
/// them (the boot agent reports the inventory as `hardware.json`).
pub const BUILTIN_SCRIPTS: &[Builtin] = &[
    (
        "maas-lshw",
        "",
        "Gather hardware information (lshw XML).",
        0,
        0,
        60,
    ),
    (
        "maas-capture-lldpd",
        "",
        "Capture LLDP neighbour information.",
        0,
        4,
        60,
    ),
    (
        "50-maas-01-commissioning",
        "",
        "Gather the machine's hardware inventory (hardware.json).",
        0,
        0,
        60,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bson_layout() {
        let d = bson_binary_document(&[("a", Some(b"xy")), ("b", None)]);
        // 4 len + (1+2+4+1+2) + (1+2) + 1
        assert_eq!(d.len(), 18);
        assert_eq!(&d[..4], &18i32.to_le_bytes());
        assert_eq!(d[4], 0x05);
        assert_eq!(&d[5..7], b"a\0");
        assert_eq!(&d[7..11], &2i32.to_le_bytes());
        assert_eq!(d[11], 0);
        assert_eq!(&d[12..14], b"xy");
        assert_eq!(&d[14..17], b"\x0ab\0");
        assert_eq!(d[17], 0);
        assert_eq!(detail_of("maas-lshw"), Some("lshw"));
        assert_eq!(detail_of("maas-capture-lldpd"), Some("lldp"));
        assert_eq!(detail_of("maas-lshw.err"), None);
        assert_eq!(detail_of("maas-capture-lldpd.yaml"), None);
        assert_eq!(detail_of("20-maas-01-install-lldpd"), None);
        assert_eq!(detail_of("hardware.json"), None);
    }
}
