//! The region's layers, checked on its source: imports point down only
//! (`region`/`main` → `api`, `rackrpc` → `services` → `render` → `store` →
//! `error`, `crypto`), the two edges do not import each other, only they
//! speak HTTP or gRPC (axum, tonic), no SQL (no
//! `sqlx`) outside the store, and no hand-written source file in the
//! workspace is over 800 lines. See docs/architecture.md.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            // Build output (a fuzz crate's own target/) is not source.
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The layer of a top-level module of the region crate.
fn layer(module: &str) -> Option<u8> {
    Some(match module {
        "error" | "crypto" => 0,
        "store" => 1,
        "render" => 2,
        "services" => 3,
        "api" | "rackrpc" | "ui" => 4,
        "region" | "main" => 5,
        _ => return None,
    })
}

/// Code without `//` comments (doc comments name modules freely).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(n, l)| {
        let code = match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        };
        (n + 1, code)
    })
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn imports_point_down_only() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let from = module_of(f);
        if from == "lib" {
            continue;
        }
        let from_layer = layer(&from).unwrap_or_else(|| panic!("{from}: give the module a layer"));
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            for (i, _) in line.match_indices("crate::") {
                let to: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some(to_layer) = layer(&to) else { continue };
                let peer_edge = from_layer == 4 && to_layer == 4 && to != from;
                if to_layer > from_layer || peer_edge {
                    bad.push(format!("{}:{n}: {from} imports {to}", f.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "imports pointing up:\n{}", bad.join("\n"));
}

#[test]
fn sql_lives_only_in_the_store() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let m = module_of(f);
        if matches!(m.as_str(), "store" | "region" | "main" | "lib") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            if line.contains("sqlx") {
                bad.push(format!("{}:{n}: {}", f.display(), line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "sqlx outside the store:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(crates, &mut files);
    let mut long = Vec::new();
    for f in files {
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        if n > 800 {
            long.push(format!("{} ({n} lines)", f.display()));
        }
    }
    assert!(long.is_empty(), "split these files:\n{}", long.join("\n"));
}

#[test]
fn only_the_edges_speak_http_or_grpc() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let m = module_of(f);
        if !matches!(
            m.as_str(),
            "services" | "render" | "store" | "error" | "crypto"
        ) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            if line.contains("axum") || line.contains("tonic") {
                bad.push(format!("{}:{n}: {}", f.display(), line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "HTTP/gRPC below the edges:\n{}",
        bad.join("\n")
    );
}
