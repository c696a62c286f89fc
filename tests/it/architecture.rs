//! The module map of docs/architecture.md, enforced: every `crate::` path in
//! `src/` points down the layer order below, and nothing outside `baseline`
//! reaches past the baseline file's public types into its submodules.
//! A new arrow that breaks either rule fails here, naming the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top to bottom: a module may use only modules listed after it.
const LAYERS: &[&str] = &[
    "app",
    "cli",
    "demo",
    "gate",
    "report",
    "calibrate",
    "exit",
    "run",
    "collect",
    "browser",
    "verdict",
    "diagnose",
    "projection",
    "scenario",
    "throttle",
    "baseline",
    "segment",
    "output",
    "sample",
    "stats",
    "metric",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/gate/steps.rs` → `gate`).
fn module_of(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

fn ident(s: &str) -> &str {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every `crate::a::b…` path in `text` (comments removed), with `use
/// crate::{a, b::c}` groups expanded one level: the first two segments.
fn crate_paths(text: &str) -> Vec<(String, String)> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let items: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut cur, mut items) = (1, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (c == ',' && depth == 1) {
                    items.push(std::mem::take(&mut cur));
                    if depth == 0 {
                        break;
                    }
                } else {
                    cur.push(c);
                }
            }
            items
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            vec![rest[..end].to_string()]
        };
        for item in items {
            let module = ident(&item).to_string();
            let after = item.trim_start()[module.len()..].trim_start();
            let next = after.strip_prefix("::").map(ident).unwrap_or("");
            if !module.is_empty() {
                out.push((module, next.to_string()));
            }
        }
    }
    out
}

#[test]
fn imports_follow_the_layers_and_baseline_internals_stay_inside() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    // The importer's own submodules (files and folders of src/baseline).
    let baseline_parts: BTreeSet<String> = std::fs::read_dir(src.join("baseline"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.trim_end_matches(".rs").to_string()
        })
        .filter(|n| n != "mod")
        .collect();
    let mut problems = BTreeSet::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        if from == "lib" || from == "main" {
            continue;
        }
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        let Some(&from_rank) = rank.get(from.as_str()) else {
            problems.insert(format!(
                "src/{shown}: module `{from}` is not in the layer list of tests/it/architecture.rs and docs/architecture.md"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (to, next) in crate_paths(&text) {
            if to == from || !to.starts_with(|c: char| c.is_ascii_lowercase()) {
                continue;
            }
            graph.entry(from.clone()).or_default().insert(to.clone());
            match rank.get(to.as_str()) {
                Some(&to_rank) if to_rank > from_rank => {}
                Some(_) => {
                    problems.insert(format!(
                        "src/{shown}: `{from}` uses `crate::{to}`, which is above it in the layers"
                    ));
                }
                None => {
                    problems.insert(format!(
                        "src/{shown}: `crate::{to}` is not in the layer list"
                    ));
                }
            }
            if to == "baseline" && baseline_parts.contains(&next) {
                problems.insert(format!(
                    "src/{shown}: `crate::baseline::{next}` reaches into the importer; use the types `baseline` re-exports"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "forbidden arrows (fix the import, or change the design in docs/architecture.md and LAYERS):\n{}\n\ngraph now:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n"),
        graph
            .iter()
            .map(|(m, d)| format!("{m} -> {}", d.iter().cloned().collect::<Vec<_>>().join(" ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_path_reader_sees_groups_and_inline_paths() {
    let text = "use crate::{gate::Gate, report::{a, b}};\n// crate::app::x in a comment\nlet x = crate::baseline::page::key();";
    let got = crate_paths(text);
    assert_eq!(
        got,
        vec![
            ("gate".to_string(), "Gate".to_string()),
            ("report".to_string(), "".to_string()),
            ("baseline".to_string(), "page".to_string()),
        ]
    );
}
