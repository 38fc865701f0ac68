//! `--format github`: workflow-command annotations
//! (`::error file=…,line=…::message`), escaped as the runner expects.

use super::{RenderOptions, Report, shown_match};
use crate::finding::Severity;
use crate::sanitize::escape_control as esc;
use std::io::{self, Write};

/// Escape a command's message: `%`, CR, LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: also `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Annotations GitHub shows per level and step; more are only in the log,
/// so they are not written: a summary line counts them instead.
pub const PER_LEVEL: usize = 10;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    // Most severe first (then by path), at most PER_LEVEL per level: the
    // ten annotations GitHub shows are the ten that matter most.
    let mut shown: Vec<_> = report.shown(opts.show_suppressed).collect();
    shown.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut written: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut left_out = 0usize;
    for f in shown {
        let level = level(f.severity);
        let n = written.entry(level).or_default();
        if *n >= PER_LEVEL {
            left_out += 1;
            continue;
        }
        *n += 1;
        let l = &f.location;
        // The runner's log renders ANSI sequences: scanned text is escaped.
        let mut msg = format!("[{}] {}", f.severity, esc(&f.message));
        if let Some(m) = shown_match(f, opts.show_secrets) {
            msg.push_str(&format!(": {}", esc(&m)));
        }
        if let Some(v) = &f.verification {
            msg.push_str(&format!(" [verified {}]", esc(&v.describe())));
        }
        if let Some(p) = &f.provenance {
            msg.push_str(&format!(
                " (commit {})",
                &p.commit[..p.commit.len().min(12)]
            ));
        }
        if let Some(info) = report.rule_info(&f.rule)
            && !info.remediation.is_empty()
        {
            msg.push_str(&format!("\nFix: {}", info.remediation));
        }
        let mut props = format!(
            "file={},line={}",
            escape_property(&esc(&l.path)),
            l.line.max(1)
        );
        if l.end_line >= l.line {
            props.push_str(&format!(",endLine={}", l.end_line));
        }
        if l.column > 0 {
            props.push_str(&format!(",col={}", l.column));
            if l.end_line == l.line && l.end_column > l.column {
                props.push_str(&format!(",endColumn={}", l.end_column));
            }
        }
        props.push_str(&format!(
            ",title={}",
            escape_property(&format!("gitops-guard {}", f.rule))
        ));
        writeln!(w, "::{level} {props}::{}", escape_data(&msg))?;
    }
    if left_out > 0 {
        writeln!(
            w,
            "::warning title=gitops-guard::{}",
            escape_data(&format!(
                "{left_out} more finding(s) not annotated (GitHub shows {PER_LEVEL} per level, \
                 most severe first); run with --format text or sarif for the full report"
            ))
        )?;
    }
    for e in &report.errors {
        writeln!(
            w,
            "::error title=gitops-guard scan error::{}",
            escape_data(&format!("{}: {}", esc(&e.path), esc(&e.message)))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
