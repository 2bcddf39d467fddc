//! The coverage table in `docs/api.md` (every MAAS API 2.0 handler+method+op,
//! with what we do with it) against what our `describe/` lists: a pair we
//! serve must be marked `implemented` or `refused`, a pair marked so must be
//! served, and nothing we list may be missing from MAAS's table.
//! `MAAS_UPDATE_COVERAGE=1` rewrites the status column from `describe/`.

use std::collections::{BTreeMap, BTreeSet};

use maas_testkit as common;

use common::{Api, TestRegion};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");

type Pair = (String, String, String);

struct Row {
    line: usize,
    path: String,
    status: String,
    note: String,
}

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches('`').to_string())
        .collect()
}

/// The table's rows by (handler, method, op); op is "" for plain CRUD.
fn table(doc: &str) -> BTreeMap<Pair, Row> {
    let lines: Vec<&str> = doc.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.starts_with("| handler | path | method | op | status |"))
        .expect("docs/api.md has no coverage table");
    let mut rows = BTreeMap::new();
    for (i, l) in lines.iter().enumerate().skip(head + 2) {
        if !l.starts_with('|') {
            break;
        }
        let c = cells(l);
        assert_eq!(c.len(), 6, "docs/api.md:{}: six cells wanted: {l}", i + 1);
        let key = (c[0].clone(), c[2].clone(), c[3].clone());
        let row = Row {
            line: i,
            path: c[1].clone(),
            status: c[4].clone(),
            note: c[5].clone(),
        };
        assert!(
            ["implemented", "refused", "not yet"].contains(&row.status.as_str()),
            "docs/api.md:{}: unknown status {:?}",
            i + 1,
            row.status
        );
        assert!(
            row.status != "refused" || !row.note.is_empty(),
            "docs/api.md:{}: a refused pair says why in its note",
            i + 1
        );
        assert!(
            rows.insert(key.clone(), row).is_none(),
            "docs/api.md:{}: {key:?} twice",
            i + 1
        );
    }
    rows
}

/// What our `describe/` lists: (handler, method, op) → path under 2.0.
async fn described(r: &TestRegion) -> BTreeMap<Pair, String> {
    let (st, doc) = Api::new(&r.url(), None).get("describe/", &[]).await;
    assert_eq!(st, 200);
    let mut out = BTreeMap::new();
    for h in doc["handlers"].as_array().expect("handlers") {
        let name = h["name"].as_str().expect("name").to_string();
        let path = h["path"].as_str().expect("path");
        let path = path
            .strip_prefix("/MAAS/api/2.0")
            .unwrap_or(path)
            .to_string();
        for a in h["actions"].as_array().expect("actions") {
            let method = a["method"].as_str().expect("method").to_string();
            let op = a["op"].as_str().unwrap_or("").to_string();
            out.insert((name.clone(), method, op), path.clone());
        }
    }
    out
}

#[tokio::test]
async fn coverage_table_matches_describe() {
    let r = TestRegion::start().await;
    let ours = described(&r).await;
    let doc = std::fs::read_to_string(DOC).expect("read docs/api.md");
    let rows = table(&doc);

    if std::env::var_os("MAAS_UPDATE_COVERAGE").is_some() {
        let mut lines: Vec<String> = doc.lines().map(str::to_string).collect();
        for (key, row) in &rows {
            let listed = ours.contains_key(key);
            let status = match (listed, row.status.as_str()) {
                (true, "not yet") => "implemented",
                (false, "implemented" | "refused") => "not yet",
                (_, s) => s,
            };
            let note = if status == "not yet" { "" } else { &row.note };
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" {note}")
            };
            lines[row.line] = format!(
                "| {} | `{}` | {} | {} | {status} |{note} |",
                key.0, row.path, key.1, key.2
            );
        }
        std::fs::write(DOC, lines.join("\n") + "\n").expect("write docs/api.md");
        r.stop().await;
        return;
    }

    let mut problems = BTreeSet::new();
    for (key, path) in &ours {
        match rows.get(key) {
            None => {
                problems.insert(format!("describe/ lists {key:?}, which MAAS's table lacks"));
            }
            Some(row) if row.status == "not yet" => {
                problems.insert(format!(
                    "docs/api.md:{}: {key:?} is served: mark it implemented",
                    row.line + 1
                ));
            }
            Some(row) if &row.path != path => {
                problems.insert(format!(
                    "{key:?}: describe/ says {path}, MAAS says {}",
                    row.path
                ));
            }
            Some(_) => {}
        }
    }
    for (key, row) in &rows {
        if row.status != "not yet" && !ours.contains_key(key) {
            problems.insert(format!(
                "docs/api.md:{}: {key:?} is marked {} but describe/ does not list it",
                row.line + 1,
                row.status
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "coverage table and describe/ disagree (MAAS_UPDATE_COVERAGE=1 rewrites statuses):\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
    r.stop().await;
}
