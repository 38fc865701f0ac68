//! Guards the module layering (issue 14 item 10): data flows one way,
//! sources -> scan -> detect -> finding -> filter -> report, and the command
//! line is parsed (`cli`) before a handler (`cmd`) runs.
//!
//! Why a test: an upward import compiles fine, and once detectors name
//! `scan` or `report` again they can no longer be read, tested or reused
//! without the whole scanner. Shared vocabulary lives one floor down
//! (`finding::RuleInfo`, `detect::{FactRecord, RepoCheck}`,
//! `detect::suppress`), so nothing below needs to look up.
//!
//! The check is textual (doc links count too: they are imports for readers).

use std::path::{Path, PathBuf};

/// Modules the low layers (detectors, manifest model, rules, findings) must
/// not name: they sit above them.
const ABOVE_DETECT: &[&str] = &["scan", "report", "cli", "cmd", "source", "render"];

/// The `crate::<module>` references in `text` to one of `forbidden`, as
/// `(line number, module)`. Catches `crate::scan::X`, `crate::scan;` and
/// grouped imports such as `use crate::{report, finding}`.
fn upward_refs(text: &str, forbidden: &[&str]) -> Vec<(usize, String)> {
    let mut hits = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or(group);
                inner
                    .split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or(""))
                    .collect()
            } else {
                vec![
                    rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or(""),
                ]
            };
            for name in names {
                if forbidden.contains(&name) {
                    hits.push((n + 1, name.to_string()));
                }
            }
        }
    }
    hits
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn violations(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, module) in upward_refs(&text, forbidden) {
            out.push(format!("{}:{line}: crate::{module}", f.display()));
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn detectors_manifest_rules_and_findings_never_import_scan_report_cli_or_sources() {
    let src = src();
    let mut files = vec![src.join("finding.rs")];
    for dir in ["detect", "manifest", "rules"] {
        rust_files(&src.join(dir), &mut files);
    }
    assert!(files.len() > 10, "found only {files:?}");
    let bad = violations(&files, ABOVE_DETECT);
    assert!(
        bad.is_empty(),
        "upward imports (move the item one floor down instead):\n{}",
        bad.join("\n")
    );
}

#[test]
fn cli_never_imports_cmd() {
    let src = src();
    let mut files = vec![src.join("cli.rs")];
    if src.join("cli").is_dir() {
        rust_files(&src.join("cli"), &mut files);
    }
    let bad = violations(&files, &["cmd"]);
    assert!(
        bad.is_empty(),
        "cli must not depend on its handlers (move the args type into cli):\n{}",
        bad.join("\n")
    );
}

#[test]
fn upward_refs_fires_on_paths_and_groups_and_not_on_lower_modules() {
    let forbidden = ABOVE_DETECT;
    // must fire
    assert_eq!(
        upward_refs("use crate::scan::RepoCheck;", forbidden),
        vec![(1, "scan".to_string())]
    );
    assert_eq!(
        upward_refs("x\nuse crate::{finding::Finding, report};", forbidden),
        vec![(2, "report".to_string())]
    );
    assert_eq!(
        upward_refs("/// see [`crate::cli::Cli`]", forbidden),
        vec![(1, "cli".to_string())]
    );
    assert_eq!(upward_refs("f(crate::cmd::hook::run)", forbidden).len(), 1);
    // must not fire
    for ok in [
        "use crate::finding::RuleInfo;",
        "use crate::detect::{FactRecord, RepoCheck};",
        "use crate::scanner_like::X;",
        "use crate::{detect, finding::Finding};",
        "// scan::prepare_findings, report::RuleInfo",
    ] {
        assert!(upward_refs(ok, forbidden).is_empty(), "{ok}");
    }
}
