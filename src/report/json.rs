//! `--format json`: the stable, versioned output contract of DESIGN.md.

use super::{RenderOptions, Report, shown_match};
use crate::finding::Finding;
use serde_json::{Value, json};
use std::io::{self, Write};

pub const VERSION: u32 = 1;

pub fn finding_json(f: &Finding, show_secrets: bool) -> Value {
    let pv = f.provenance.as_ref();
    let mut v = json!({
        "rule": f.rule,
        "category": f.category,
        "severity": f.severity,
        "path": crate::sanitize::path_for_json(&f.location.path),
        "line": f.location.line,
        "column": f.location.column,
        "end_line": f.location.end_line,
        "end_column": f.location.end_column,
        "commit": pv.map(|p| p.commit.clone()),
        "author": pv.map(|p| p.author.clone()),
        "date": pv.map(|p| p.date.clone()),
        "match": shown_match(f, show_secrets),
        "fingerprint": f.fingerprint(),
        "message": f.message,
        "snippet": f.snippet.as_ref().map(|s| s.text.clone()),
    });
    let obj = v.as_object_mut().expect("object");
    // A file name that is not UTF-8, exactly (hex), so tools can open it.
    if let Some(b) = crate::sanitize::path_bytes(&f.location.path) {
        obj.insert("path_bytes".into(), json!(crate::finding::hex(&b)));
    }
    // Only with the user's key: an unkeyed hash of the value would let
    // whoever holds the report confirm a guessed password offline.
    if let Some(h) = f.secret.as_ref().and_then(|s| s.keyed_hash()) {
        obj.insert("secret_hmac".into(), json!(h));
    }
    if let Some(p) = pv {
        obj.insert("occurrences".into(), json!(p.occurrences));
        obj.insert("at_head".into(), json!(p.at_head));
        if let Some(r) = &p.git_ref {
            obj.insert("ref".into(), json!(r));
        }
    }
    if let Some(s) = &f.suppressed {
        obj.insert("suppressed".into(), json!(s));
    }
    if let Some(v) = &f.verification {
        obj.insert("verification".into(), json!(v));
    }
    if !f.roots.is_empty() {
        obj.insert("roots".into(), json!(f.roots));
    }
    v
}

pub fn report_json(report: &Report, opts: &RenderOptions) -> Value {
    let findings: Vec<Value> = report
        .shown(opts.show_suppressed)
        .map(|f| finding_json(f, opts.show_secrets))
        .collect();
    json!({
        "version": VERSION,
        "tool": { "name": "gitops-guard", "version": env!("CARGO_PKG_VERSION") },
        "findings": findings,
        "errors": report.errors,
        "stats": report.stats,
    })
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &report_json(report, opts))?;
    writeln!(w)
}
