//! `--format gitlab`: GitLab's Secret Detection report
//! (`gl-secret-detection-report.json`, uploaded as the CI artifact
//! `reports: secret_detection`), so findings reach the merge-request
//! security widget and the Vulnerability Report. It follows GitLab's
//! security-report schema, `secret-detection-report-format.json`, version
//! [`SCHEMA_VERSION`] (a copy is in tests/schemas/ and the tests validate
//! against it).
//!
//! It is a *secret detection* report, so it carries only secret-material
//! findings ([`crate::finding::Category::is_secret_material`]): hardcoded IPs, plain HTTP
//! and pod-security policy findings have no place in it (use `-f sarif` or
//! `-f junit` for those). Suppressed findings are left out: GitLab would
//! open a vulnerability for each. The secret is never in it, whatever
//! `--show-secrets` says: the report is stored by GitLab and shown to every
//! project member, and `raw_source_code_extract` (the unredacted line) is
//! therefore left out.

use super::{RenderOptions, Report, shown_match};
use crate::finding::{Finding, Severity};
use crate::sanitize::escape_control as esc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Write};

/// The schema version the report declares (`self.version` of the schema
/// copy in tests/schemas/). GitLab refuses versions it does not know.
pub const SCHEMA_VERSION: &str = "15.2.4";

/// `location.commit.sha` when the scanned path is in no Git repository (or
/// one without commits): the schema requires a non-empty sha, and this is
/// the value GitLab's own secret detection analyzer reports when it scans
/// files rather than history.
pub const NO_COMMIT: &str = "0000000";

/// `solution` may hold at most this many characters (schema `maxLength`).
const SOLUTION_MAX: usize = 7000;
/// `name` may hold at most this many characters (schema `maxLength`).
const NAME_MAX: usize = 255;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A UUID-shaped id (GitLab recommends a UUID) derived from the finding's
/// fingerprint, so the same finding keeps its id across pipelines and
/// GitLab tracks it as one vulnerability. `n` tells apart findings that
/// share a fingerprint within one report (ids must be unique). The
/// fingerprint holds no secret (keyed, or built from the redacted form),
/// and is hashed once more here.
fn vulnerability_id(fingerprint: &str, n: usize) -> String {
    let mut h = Sha256::new();
    h.update(b"gitops-guard/gitlab-id/v1\0");
    h.update(fingerprint.as_bytes());
    h.update([0]);
    h.update(n.to_string().as_bytes());
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
    // RFC 9562 version 8 (custom), variant 10.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = crate::finding::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

fn vulnerability(report: &Report, f: &Finding, id: String, head: &str) -> Value {
    let info = report.rule_info(&f.rule);
    let name = info.map_or(f.rule.as_str(), |i| i.name.as_str());
    let mut description = esc(&f.message).into_owned();
    // Always the redacted form: the report is stored and widely shown.
    if let Some(m) = shown_match(f, false) {
        description.push_str(&format!("\n\nMatch (redacted): `{}`", esc(&m)));
    }
    let commit = match &f.provenance {
        Some(p) => json!({"sha": p.commit, "author": esc(&p.author), "date": p.date}),
        None => json!({ "sha": head }),
    };
    let mut v = json!({
        "id": id,
        "category": "secret_detection",
        "name": truncate(&esc(name), NAME_MAX),
        "description": description,
        "severity": severity(f.severity),
        "identifiers": [{
            "type": "gitops_guard_rule_id",
            "name": format!("gitops-guard rule {}", f.rule),
            "value": f.rule,
        }],
        "location": {
            "file": crate::sanitize::path_for_json(&f.location.path),
            "start_line": f.location.line,
            "end_line": f.location.end_line.max(f.location.line),
            "commit": commit,
        },
    });
    if let Some(i) = info
        && !i.remediation.is_empty()
    {
        v["solution"] = json!(truncate(&i.remediation, SOLUTION_MAX));
    }
    v
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    let head = opts.head_commit.as_deref().unwrap_or(NO_COMMIT);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let vulnerabilities: Vec<Value> = report
        .active()
        .filter(|f| f.category.is_secret_material())
        .map(|f| {
            let fp = f.fingerprint();
            let n = seen.entry(fp.clone()).or_default();
            let id = vulnerability_id(&fp, *n);
            *n += 1;
            vulnerability(report, f, id, head)
        })
        .collect();
    let end = jiff::Timestamp::now();
    let start = end
        .checked_sub(jiff::SignedDuration::from_millis(
            report.stats.elapsed_ms.min(i64::MAX as u64) as i64,
        ))
        .unwrap_or(end);
    let tool = json!({
        "id": "gitops-guard",
        "name": "gitops-guard",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": {"name": "gitops-guard"},
    });
    let messages: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "warn",
                "value": format!("{}: {} (the scan is incomplete)", esc(&e.path), esc(&e.message)),
            })
        })
        .collect();
    let doc = json!({
        "version": SCHEMA_VERSION,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": crate::time::utc_seconds(start),
            "end_time": crate::time::utc_seconds(end),
            // An incomplete scan is a failed one: GitLab must not read the
            // missing findings as fixed.
            "status": if report.errors.is_empty() { "success" } else { "failure" },
            "messages": messages,
        },
        "vulnerabilities": vulnerabilities,
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::{severity, vulnerability_id};
    use crate::finding::Severity;

    #[test]
    fn ids_are_stable_uuid_shaped_and_distinct_per_occurrence() {
        let a = vulnerability_id("p1:abc", 0);
        assert_eq!(a, vulnerability_id("p1:abc", 0));
        assert_ne!(a, vulnerability_id("p1:abc", 1));
        assert_ne!(a, vulnerability_id("p1:abd", 0));
        let parts: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&a[14..15], "8", "version 8: {a}");
    }

    #[test]
    fn severities_map_to_gitlab_names() {
        assert_eq!(severity(Severity::Critical), "Critical");
        assert_eq!(severity(Severity::Info), "Info");
        assert_eq!(severity(Severity::Low), "Low");
    }
}
