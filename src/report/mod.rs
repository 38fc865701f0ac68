//! Reports: the only code that writes a scan's results. One module per
//! format; each takes a [`Report`] and a writer.

pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use crate::finding::{Finding, Severity};
use crate::scan::{ScanError, Stats};
use std::io::{self, Write};

/// Re-exported: renderers and peers on other branches name it here; it
/// lives in `finding` so detectors need not import `report`.
pub use crate::finding::RuleInfo;

/// A finished scan.
#[derive(Debug)]
pub struct Report {
    /// All findings, suppressed ones included (renderers decide what to show).
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub errors: Vec<ScanError>,
    /// Metadata of every rule that could have fired (for SARIF).
    pub rules: Vec<RuleInfo>,
    pub fail_on: Severity,
    /// The default threshold is in force: secret material fails from
    /// [`crate::DEFAULT_SECRET_FAIL_ON`] up, whatever `fail_on` says (see
    /// [`crate::DEFAULT_FAIL_ON`]).
    pub secrets_always_fail: bool,
}

impl Report {
    /// Findings that count: not suppressed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// Findings to render.
    pub fn shown(&self, show_suppressed: bool) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| show_suppressed || f.suppressed.is_none())
    }

    /// Whether this finding fails the run.
    pub fn fails(&self, f: &Finding) -> bool {
        f.severity >= self.fail_on
            || (self.secrets_always_fail
                && f.category.is_secret_material()
                && f.severity >= crate::DEFAULT_SECRET_FAIL_ON)
    }

    /// 0 clean, 1 findings at or above `fail_on` (or secret material under
    /// the default threshold), 3 if the scan was incomplete.
    pub fn exit_code(&self) -> u8 {
        use crate::error::exit;
        if !self.errors.is_empty() {
            exit::SCAN_ERROR
        } else if self.active().any(|f| self.fails(f)) {
            exit::FINDINGS
        } else {
            exit::CLEAN
        }
    }

    /// Fold in the report of a second scan of the same repository (HEAD's
    /// configuration checks beside a history scan's secrets): findings
    /// already present (same rule, path, line, column) are not added
    /// twice, counts and errors add up, and the order is made stable again.
    pub fn merge(&mut self, other: Report) {
        for f in other.findings {
            let dup = self.findings.iter().any(|g| {
                g.rule == f.rule
                    && g.location.path == f.location.path
                    && g.location.line == f.location.line
                    && g.location.column == f.location.column
            });
            if !dup {
                self.findings.push(f);
            }
        }
        self.errors.extend(other.errors);
        for r in other.rules {
            if self.rule_info(&r.id).is_none() {
                self.rules.push(r);
            }
        }
        self.stats.findings = self.active().count() as u64;
        self.stats.suppressed = self.findings.len() as u64 - self.stats.findings;
        self.stats.errors = self.errors.len() as u64;
        // Blob and skip counts stay the first scan's: a second pass over
        // HEAD reads blobs the history pass already counted (every blob at
        // HEAD is in history), so adding them would count blobs twice.
        self.stats.elapsed_ms += other.stats.elapsed_ms;
        // HEAD's pass renders (`scan --history`): its render stats are the report's.
        if self.stats.render.is_none() {
            self.stats.render = other.stats.render;
        }
        self.sort();
    }

    pub fn rule_info(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Stable order: path, line, column, rule.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                &a.location.path,
                a.location.line,
                a.location.column,
                &a.rule,
            )
                .cmp(&(
                    &b.location.path,
                    b.location.line,
                    b.location.column,
                    &b.rule,
                ))
        });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
    /// JUnit XML (CI test-report widgets).
    Junit,
    /// GitLab Secret Detection report (gl-secret-detection-report.json);
    /// secret-material findings only, never the secret itself.
    Gitlab,
}

#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    pub show_suppressed: bool,
    pub show_secrets: bool,
    pub color: bool,
    /// `--quiet`: the text report leaves out its summary.
    pub quiet: bool,
    /// Findings left out by `--min-severity`, told in the text summary so a
    /// filtered view never looks like a clean one.
    pub hidden_below: usize,
    /// HEAD's commit id when the scanned path is in a Git repository: the
    /// commit GitLab's report names for work-tree findings (history
    /// findings carry their own).
    pub head_commit: Option<String>,
}

pub fn render(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, opts, w),
        Format::Json => json::render(report, opts, w),
        Format::Sarif => sarif::render(report, opts, w),
        Format::Github => github::render(report, opts, w),
        Format::Junit => junit::render(report, opts, w),
        Format::Gitlab => gitlab::render(report, opts, w),
    }
}

/// The value to print for a finding's secret: redacted unless `--show-secrets`.
pub fn shown_match(f: &Finding, show_secrets: bool) -> Option<String> {
    f.secret.as_ref().map(|s| {
        if show_secrets {
            s.expose().to_string()
        } else {
            s.redacted()
        }
    })
}
