//! The docs a newcomer reads say what is there: the source map names every file under `src/`,
//! and names none that is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The source map in docs/architecture.md: per folder, the files its rows name.
fn source_map() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in text.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(folder) = cells.get(2).and_then(|c| c.strip_prefix('`')).and_then(|c| c.strip_suffix('`')) else {
            continue;
        };
        if !folder.starts_with("src") {
            continue;
        }
        let named = map.entry(folder.trim_end_matches('/').to_string()).or_default();
        for part in cells[3..].join("|").split('`').skip(1).step_by(2) {
            if part.ends_with(".rs") && !part.contains('/') {
                named.insert(part.to_string());
            }
        }
    }
    map
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect()
}

#[test]
fn docs_source_map_names_every_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = source_map();
    let mut dirs = vec![root.join("src")];
    let mut problems = Vec::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
            if e.path().is_dir() {
                dirs.push(e.path());
            }
        }
        let rel = d.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let named = map.get(&rel).cloned().unwrap_or_default();
        for f in files_in(&d) {
            if !named.contains(&f) {
                problems.push(format!("{rel}/{f} is not in the source map"));
            }
        }
        for f in named.difference(&files_in(&d)) {
            problems.push(format!("the source map names {rel}/{f}, which does not exist"));
        }
    }
    for folder in map.keys() {
        if !root.join(folder).is_dir() {
            problems.push(format!("the source map names the folder {folder}, which does not exist"));
        }
    }
    assert!(problems.is_empty(), "docs/architecture.md:\n{}", problems.join("\n"));
}
