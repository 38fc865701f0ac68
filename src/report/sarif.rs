//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, with rule
//! metadata, `partialFingerprints` and `security-severity`. GitHub accepts at
//! most 25,000 results per run; a larger report is truncated, with a note in
//! the run, never broken.

use super::{RenderOptions, Report, RuleInfo};
use crate::finding::{Finding, Severity, Suppression};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const MAX_RESULTS: usize = 25_000;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Percent-encode a repo-relative path for an `artifactLocation.uri`.
/// `!` (a sub-delimiter, legal in a URI path) is kept: an archive member's
/// path `charts/db.tgz!db/values.yaml` stays readable, as in the other formats.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    // A non-UTF-8 name's raw bytes, not their stand-in characters.
    let bytes = crate::sanitize::path_bytes(path).unwrap_or_else(|| path.as_bytes().to_vec());
    for b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'!' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where a rule's category is documented, for SARIF `helpUri`: code
/// scanning links each alert's "learn more" there.
pub fn help_uri(category: crate::finding::Category) -> String {
    use crate::finding::Category::*;
    let doc = match category {
        Secret => "docs/provider-coverage.md",
        UnencryptedSops | UnencryptedSealedSecret | UnencryptedAge => "docs/encryption-checks.md",
        Policy => "docs/policy-checks.md",
        PlaintextSecretManifest
        | SecretEnvVar
        | KustomizeSecretLiteral
        | HardcodedIp
        | PlainHttp => "docs/k8s-categories.md",
    };
    format!("https://github.com/gitops-guard/gitops-guard/blob/main/{doc}")
}

fn rule_json(r: &RuleInfo) -> Value {
    let help = if r.remediation.is_empty() {
        r.description.clone()
    } else {
        format!("{}\n\nFix: {}", r.description, r.remediation)
    };
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": { "text": r.name },
        "fullDescription": { "text": if r.description.is_empty() { r.name.clone() } else { r.description.clone() } },
        "help": { "text": help, "markdown": help },
        "helpUri": help_uri(r.category),
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "security-severity": r.severity.security_severity(),
            "tags": ["security", r.category.as_str()],
            "precision": "high",
        }
    })
}

fn result_json(f: &Finding, rule_index: Option<usize>, show_secrets: bool) -> Value {
    let l = &f.location;
    let mut region = json!({
        "startLine": l.line.max(1),
        "startColumn": l.column.max(1),
    });
    if l.end_line >= l.line && l.end_line > 0 {
        region["endLine"] = json!(l.end_line);
        if l.end_column > 0 && (l.end_line > l.line || l.end_column > l.column) {
            region["endColumn"] = json!(l.end_column);
        }
    }
    if let Some(s) = &f.snippet {
        region["snippet"] = json!({ "text": s.text });
    }
    let mut message = f.message.clone();
    if let Some(m) = super::shown_match(f, show_secrets) {
        message.push_str(&format!(" ({m})"));
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&l.path), "uriBaseId": "%SRCROOT%" },
                "region": region,
            }
        }],
        "partialFingerprints": { "gitopsGuard/v2": f.fingerprint() },
        "properties": {
            "category": f.category.as_str(),
            "security-severity": f.severity.security_severity(),
        }
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(p) = &f.provenance {
        r["properties"]["commit"] = json!(p.commit);
        r["properties"]["author"] = json!(p.author);
        r["properties"]["date"] = json!(p.date);
        r["properties"]["occurrences"] = json!(p.occurrences);
    }
    if !f.roots.is_empty() {
        // The Kustomize roots whose rendered output held it (`render`).
        r["properties"]["roots"] = json!(f.roots);
    }
    if let Some(v) = &f.verification {
        r["properties"]["verification"] = json!(v.status.as_str());
        if let Some(d) = &v.detail {
            r["properties"]["verificationDetail"] = json!(d);
        }
    }
    if let Some(s) = &f.suppressed {
        let (kind, justification) = match s {
            Suppression::Inline { token } => ("inSource", format!("inline `{token}`")),
            Suppression::Annotation { reason } => (
                "inSource",
                reason.clone().unwrap_or_else(|| "annotation".into()),
            ),
            Suppression::Config { reason } => ("external", reason.clone()),
            Suppression::Baseline => ("external", "baseline".into()),
        };
        r["suppressions"] = json!([{ "kind": kind, "justification": justification }]);
    }
    r
}

pub fn report_sarif(report: &Report, opts: &RenderOptions) -> Value {
    let shown: Vec<&Finding> = report.shown(opts.show_suppressed).collect();
    // Only rules that appear, in a stable order; unknown ids get minimal metadata.
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in &shown {
        rules
            .entry(f.rule.as_str())
            .or_insert_with(|| match report.rule_info(&f.rule) {
                Some(info) => rule_json(info),
                None => rule_json(&RuleInfo {
                    id: f.rule.clone(),
                    name: f.message.clone(),
                    category: f.category,
                    severity: f.severity,
                    description: f.message.clone(),
                    remediation: String::new(),
                }),
            });
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let truncated = shown.len() > MAX_RESULTS;
    let results: Vec<Value> = shown
        .iter()
        .take(MAX_RESULTS)
        .map(|f| result_json(f, index.get(f.rule.as_str()).copied(), opts.show_secrets))
        .collect();
    let mut notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| json!({ "level": "error", "message": { "text": format!("{}: {}", e.path, e.message) } }))
        .collect();
    if truncated {
        notifications.push(json!({
            "level": "warning",
            "message": { "text": format!("{} results; only the first {MAX_RESULTS} are included (GitHub's limit per run). Use --format json for all.", shown.len()) }
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "gitops-guard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/gitops-guard/gitops-guard",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": { "%SRCROOT%": { "uri": "./" } },
            "results": results,
            "properties": { "truncated": truncated, "totalResults": shown.len() },
        }]
    })
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &report_sarif(report, opts))?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("apps/my app/ü.yaml"), "apps/my%20app/%C3%BC.yaml");
        assert_eq!(uri("charts/a.tgz!a/v.yaml"), "charts/a.tgz!a/v.yaml");
    }
}
