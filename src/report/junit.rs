//! `--format junit`: JUnit XML, the test-report format every CI shows
//! (GitLab's merge-request widget, Jenkins, Azure Pipelines, CircleCI).
//! One `<testsuite>`; each shown finding is a `<testcase>` named after its
//! rule and place: a `<failure>` when it fails the run (`--fail-on`),
//! `<skipped>` when it is advisory; each scan error is an `<error>`. The
//! layout follows the Apache Ant JUnit schema (tests/schemas/JUnit.xsd).

use super::{RenderOptions, Report, shown_match};
use crate::sanitize::escape_control as esc;
use std::io::{self, Write};

/// Text for XML 1.0: markup characters as entities, and characters XML
/// cannot carry at all (most C0 controls) as `\u{..}` escapes; scanned
/// content is escaped for the terminal first.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Line by line: newlines are kept (XML carries them), every other
    // control character goes through the terminal escaping.
    let escaped: Vec<_> = s.split('\n').map(|l| esc(l).into_owned()).collect();
    for c in escaped.join("\n").chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report, opts: &RenderOptions, w: &mut dyn Write) -> io::Result<()> {
    let shown: Vec<_> = report.shown(opts.show_suppressed).collect();
    let failures = shown
        .iter()
        .filter(|f| f.suppressed.is_none() && report.fails(f))
        .count();
    let skipped = shown.len() - failures;
    let secs = report.stats.elapsed_ms as f64 / 1000.0;
    // The schema wants a local date-time without a zone: UTC, said so here.
    let timestamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S");
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(w, "<testsuites>")?;
    writeln!(
        w,
        r#"  <testsuite package="gitops-guard" id="0" name="gitops-guard" timestamp="{timestamp}" hostname="localhost" tests="{}" failures="{failures}" errors="{}" skipped="{skipped}" time="{secs:.3}">"#,
        shown.len() + report.errors.len(),
        report.errors.len()
    )?;
    writeln!(w, "    <properties>")?;
    writeln!(
        w,
        r#"      <property name="fail-on" value="{}"/>"#,
        report.fail_on
    )?;
    writeln!(w, r#"      <property name="timestamp-zone" value="UTC"/>"#)?;
    writeln!(w, "    </properties>")?;
    for f in &shown {
        let l = &f.location;
        let name = format!("{} {}:{}:{}", f.rule, l.path, l.line, l.column);
        writeln!(
            w,
            r#"    <testcase name="{}" classname="gitops-guard.{}" time="0">"#,
            xml(&name),
            xml(f.category.as_str())
        )?;
        let mut body = format!("[{}] {}", f.severity, f.message);
        if let Some(m) = shown_match(f, opts.show_secrets) {
            body.push_str(&format!("\nmatch: {m}"));
        }
        if let Some(p) = &f.provenance {
            body.push_str(&format!("\ncommit: {}", p.commit));
        }
        if let Some(info) = report.rule_info(&f.rule)
            && !info.remediation.is_empty()
        {
            body.push_str(&format!("\nfix: {}", info.remediation));
        }
        if f.suppressed.is_none() && report.fails(f) {
            writeln!(
                w,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                xml(&f.rule),
                xml(&format!("{}: {}", f.severity, f.message)),
                xml(&body)
            )?;
        } else {
            let why = if f.suppressed.is_some() {
                "suppressed"
            } else {
                "below --fail-on"
            };
            writeln!(
                w,
                r#"      <skipped message="{why}">{}</skipped>"#,
                xml(&body)
            )?;
        }
        writeln!(w, "    </testcase>")?;
    }
    for e in &report.errors {
        writeln!(
            w,
            r#"    <testcase name="{}" classname="gitops-guard.scan-error" time="0">"#,
            xml(&format!("scan error {}", e.path))
        )?;
        writeln!(
            w,
            r#"      <error type="scan-error" message="{}">the scan is incomplete</error>"#,
            xml(&e.message)
        )?;
        writeln!(w, "    </testcase>")?;
    }
    writeln!(w, "    <system-out></system-out>")?;
    writeln!(w, "    <system-err></system-err>")?;
    writeln!(w, "  </testsuite>")?;
    writeln!(w, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_text_escapes_markup_and_forbidden_characters() {
        assert_eq!(xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert!(!xml("bell\u{7}").contains('\u{7}'));
        assert_eq!(xml("line\nnext"), "line\nnext");
    }
}
